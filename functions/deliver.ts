import { Logger } from '@aws-lambda-powertools/logger'
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { loadEventsConfig } from '../lib/events/config.js'
import { createDeliverHandler } from '../lib/events/deliver.js'
import { runtimeContext } from '../lib/runtime/context.js'

let handler: ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) | undefined

/** Events queue (standard) → signed POSTs to the project's EventSubscriptions; failures retry with backoff, then DLQ. */
export async function main(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  if (!handler) {
    const ctx = runtimeContext()
    const config = loadEventsConfig()
    if (!config.TUGBOAT_EVENTS_QUEUE_URL) throw new Error('TUGBOAT_EVENTS_QUEUE_URL is not set')
    const logger = new Logger({ serviceName: 'tugboat-deliver' })
    handler = createDeliverHandler({
      db: ctx.db,
      sealer: ctx.sealer,
      sqs: ctx.sqs,
      queueUrl: config.TUGBOAT_EVENTS_QUEUE_URL,
      timeoutMs: config.TUGBOAT_EVENTS_TIMEOUT_SECONDS * 1000,
      backoff: {
        baseSeconds: config.TUGBOAT_EVENTS_BACKOFF_BASE_SECONDS,
        maxSeconds: config.TUGBOAT_EVENTS_BACKOFF_MAX_SECONDS,
      },
      log: (message, fields) => logger.info(message, { ...fields }),
    })
  }
  return handler(event, context)
}
