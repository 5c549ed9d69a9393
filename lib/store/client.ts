import {
  DynamoDBClient,
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { tableDefinition, TTL_ATTRIBUTE } from './table.js'

/** The document client every repository takes; endpoints come from AWS_ENDPOINT_URL_DYNAMODB when set. */
export interface Db {
  doc: DynamoDBDocumentClient
  table: string
}

export function createDb(options: { table: string; client?: DynamoDBClient }): Db {
  const client = options.client ?? new DynamoDBClient({})
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  })
  return { doc, table: options.table }
}

/** Creates the table if missing and waits until it is active (local runtime and tests only). */
export async function ensureTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(table)))
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    )
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }))
    if (Table?.TableStatus === 'ACTIVE') return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`table ${table} did not become active`)
}
