import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { SQSClient } from '@aws-sdk/client-sqs'
import { Logger } from '@aws-lambda-powertools/logger'
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { loadConfig } from '../lib/config.js'
import { loadEventsConfig } from '../lib/events/config.js'
import { createDeliverHandler } from '../lib/events/deliver.js'
import { guardedFetch, outboundConfigFromEnv } from '../lib/net/outbound.js'
import { createDb } from '../lib/store/client.js'
import { sealer } from '../lib/store/sealing.js'

let handler: ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) | undefined

// Clients are built here rather than through lib/runtime/context.ts, which would pull the promotion engine and
// every step into this bundle.
function build(): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const config = loadConfig()
  const events = loadEventsConfig()
  if (!events.TUGBOAT_EVENTS_QUEUE_URL) throw new Error('TUGBOAT_EVENTS_QUEUE_URL is not set')
  const logger = new Logger({ serviceName: 'tugboat-deliver' })
  return createDeliverHandler({
    db: createDb({ table: config.TUGBOAT_TABLE, client: new DynamoDBClient({ region: config.AWS_REGION }) }),
    sealer: sealer(config.TUGBOAT_ENCRYPTION_KEY),
    sqs: new SQSClient({ region: config.AWS_REGION }),
    queueUrl: events.TUGBOAT_EVENTS_QUEUE_URL,
    // The steps' outbound policy: link-local/metadata addresses refused after DNS, TUGBOAT_HTTP_ALLOWLIST honoured.
    fetch: guardedFetch(outboundConfigFromEnv(process.env)),
    timeoutMs: events.TUGBOAT_EVENTS_TIMEOUT_SECONDS * 1000,
    backoff: {
      baseSeconds: events.TUGBOAT_EVENTS_BACKOFF_BASE_SECONDS,
      maxSeconds: events.TUGBOAT_EVENTS_BACKOFF_MAX_SECONDS,
    },
    log: (message, fields) =>
      fields?.error ? logger.warn(message, { ...fields }) : logger.info(message, { ...fields }),
  })
}

/** Events queue (standard) → signed POSTs to the project's EventSubscriptions; failures retry with backoff, then DLQ. */
export async function main(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  handler ??= build()
  return handler(event, context)
}
