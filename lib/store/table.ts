import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'

/**
 * The single table's key layout. Every item has PK/SK; two sparse GSIs serve the non-key access paths:
 * - GSI1: per-parent time order (Promotions of a Stage by ULID, Freight of a Warehouse by discovery time).
 * - GSI2: due work (Warehouses by next poll time).
 * `expiresAt` (epoch seconds) is the TTL attribute.
 */
export const keys = {
  projectList: () => ({ PK: 'PROJECTS' }),
  project: (name: string) => ({ PK: 'PROJECTS', SK: `Project#${name}` }),
  resource: (project: string, kind: string, name: string) => ({ PK: `P#${project}`, SK: `${kind}#${name}` }),
  resourcePrefix: (project: string, kind: string) => ({ PK: `P#${project}`, prefix: `${kind}#` }),
  token: (hash: string) => ({ PK: `TOKEN#${hash}`, SK: 'TOKEN' }),
  stagePromotions: (project: string, stage: string) => `P#${project}#STAGE#${stage}`,
  warehouseFreight: (project: string, warehouse: string) => `P#${project}#WH#${warehouse}`,
  projectTokens: (project: string) => `P#${project}#TOKENS`,
  dueWarehouses: 'DUE#WAREHOUSE',
  dedupe: (scope: string, id: string) => ({ PK: `DEDUPE#${scope}`, SK: id }),
} as const

export const GSI1 = 'GSI1'
export const GSI2 = 'GSI2'
export const TTL_ATTRIBUTE = 'expiresAt'

/** CreateTable input for DynamoDB Local and tests; serverless.yml declares the same shape (a test checks). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
      { AttributeName: 'GSI1PK', AttributeType: 'S' },
      { AttributeName: 'GSI1SK', AttributeType: 'S' },
      { AttributeName: 'GSI2PK', AttributeType: 'S' },
      { AttributeName: 'GSI2SK', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: 'GSI1PK', KeyType: 'HASH' },
          { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: GSI2,
        KeySchema: [
          { AttributeName: 'GSI2PK', KeyType: 'HASH' },
          { AttributeName: 'GSI2SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  }
}
