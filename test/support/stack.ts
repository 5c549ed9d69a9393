import { randomBytes, randomUUID } from 'node:crypto'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { SQSClient } from '@aws-sdk/client-sqs'
import { inject } from 'vitest'
import { createApp } from '../../lib/http/app.js'
import type { AppDeps } from '../../lib/http/deps.js'
import { createDb, ensureTable, type Db } from '../../lib/store/client.js'
import { sealer } from '../../lib/store/sealing.js'
import { hashToken } from '../../lib/store/tokens.js'

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }

/** A DynamoDB client for the run's DynamoDB Local. */
export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials })
}

/** An SQS client for the run's SQS emulator. */
export function sqsClient(): SQSClient {
  return new SQSClient({ endpoint: inject('sqsEndpoint'), region: 'us-east-1', credentials })
}

/** A fresh table of the real schema, unique to the caller, on DynamoDB Local. */
export async function freshDb(): Promise<Db> {
  const client = dynamoClient()
  const table = `t-${randomUUID()}`
  await ensureTable(client, table)
  return createDb({ table, client })
}

export const TEST_ADMIN_TOKEN = 'tb_test-admin-token'

/** The HTTP app over a fresh table, with a known admin token. */
export async function testApp(overrides: Partial<AppDeps> = {}) {
  const db = await freshDb()
  const deps: AppDeps = {
    db,
    sealer: sealer(randomBytes(32).toString('base64')),
    adminTokenHash: hashToken(TEST_ADMIN_TOKEN),
    ...overrides,
  }
  const app = createApp(deps)
  const call = (
    method: string,
    path: string,
    options: { body?: string | object; token?: string | null; contentType?: string } = {},
  ) => {
    const headers: Record<string, string> = {}
    const token = options.token === undefined ? TEST_ADMIN_TOKEN : options.token
    if (token) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (typeof options.body === 'string') {
      body = options.body
      headers['content-type'] = options.contentType ?? 'text/plain'
    } else if (options.body) {
      body = JSON.stringify(options.body)
      headers['content-type'] = 'application/json'
    }
    return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) })
  }
  return { app, deps, db, call }
}
