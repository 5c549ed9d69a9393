import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'
import { PROMOTIONS_MAX_RECEIVE_COUNT, queueNames } from '../lib/queue/queues.js'
import { tableDefinition, TTL_ATTRIBUTE } from '../lib/store/table.js'

/**
 * What the LocalStack init hook (init/ready.d/01-create-resources.sh) creates, derived from the code that owns
 * each shape. The hook runs inside the LocalStack container, which has the AWS CLI but not node, so it reads
 * JSON files written by this script: `npx tsx localstack/resources.ts` after changing the table or queues
 * (infra/serverless-template.test.ts fails while they are stale).
 */

/** Resource names the hook uses: the same as `npm start` and the test suite (prefix `tugboat`). */
export const LOCAL_PREFIX = 'tugboat'

/** Placeholder the hook replaces with the dead-letter queue's ARN, known only once it exists. */
export const DLQ_ARN_PLACEHOLDER = '__DEAD_LETTER_TARGET_ARN__'

export const resourcesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'init', 'resources')

/** The files under init/resources/, by name. Queue attributes are SQS `--attributes` maps (string values). */
export function localResourceFiles(): Record<string, unknown> {
  const names = queueNames(LOCAL_PREFIX)
  const table: CreateTableCommandInput = tableDefinition(LOCAL_PREFIX)
  return {
    'table.json': table,
    'table-ttl.json': {
      TableName: LOCAL_PREFIX,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    },
    'queues.json': {
      promotions: names.promotions,
      promotionsDlq: names.promotionsDlq,
    },
    // The same attributes as ensureQueues() in lib/queue/queues.ts: SQS refuses to "create" an existing queue
    // with different ones, and the local runtime and tests call ensureQueues() on these queues.
    'promotions-dlq-attributes.json': { FifoQueue: 'true', MessageRetentionPeriod: '1209600' },
    'promotions-attributes.json': {
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: '900',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: DLQ_ARN_PLACEHOLDER,
        maxReceiveCount: PROMOTIONS_MAX_RECEIVE_COUNT,
      }),
    },
  }
}

/** Writes init/resources/*.json. */
export function writeLocalResourceFiles(dir: string = resourcesDir): string[] {
  fs.mkdirSync(dir, { recursive: true })
  return Object.entries(localResourceFiles()).map(([name, content]) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, JSON.stringify(content, null, 2) + '\n')
    return file
  })
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of writeLocalResourceFiles()) console.log(`wrote ${path.relative(process.cwd(), file)}`)
}
