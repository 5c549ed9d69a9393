import type { TestProject } from 'vitest/node'
import { startDynamoDbLocal, type DynamoDbLocal } from '../../lib/local/dynamodb-local.js'
import { startSqsLocal, type SqsLocal } from '../../lib/local/sqs-local.js'

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string
    sqsEndpoint: string
  }
}

let dynamo: DynamoDbLocal | undefined
let sqs: SqsLocal | undefined

/** Starts the real local components once for the whole run: DynamoDB Local (Java) and the SQS emulator. */
export async function setup(project: TestProject): Promise<void> {
  dynamo = await startDynamoDbLocal({ log: (line) => console.log(`[global-setup] ${line}`) })
  sqs = await startSqsLocal()
  project.provide('dynamodbEndpoint', dynamo.endpoint)
  project.provide('sqsEndpoint', sqs.endpoint)
}

export async function teardown(): Promise<void> {
  await sqs?.stop()
  await dynamo?.stop()
}
