import { randomUUID } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs'
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch'
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda'
import { guardedFetch, outboundConfigFromEnv } from '../lib/net/outbound.js'
import { PromotionMessageSchema } from '../lib/queue/promotions.js'
import { relayPending } from '../lib/events/outbox.js'
import { workPromotion } from '../lib/promotion/worker.js'
import { runtimeContext } from '../lib/runtime/context.js'
import { afterPromotionFinished } from '../lib/runtime/services.js'
import { promotionStepDeps } from '../lib/runtime/steps.js'

/** Progress lines; TUGBOAT_LOG_FILE also appends them to a file (handy in tests, where console output is buffered). */
function log(line: string): void {
  console.log(line)
  if (process.env.TUGBOAT_LOG_FILE)
    appendFileSync(process.env.TUGBOAT_LOG_FILE, `${new Date().toISOString()} ${line}\n`)
}

let outboundFetch: typeof fetch | undefined
/** Outbound HTTP for http/http-download: link-local and cloud-metadata addresses blocked, TUGBOAT_HTTP_ALLOWLIST applied. */
const outbound: typeof fetch = (input, init) => {
  outboundFetch ??= guardedFetch(outboundConfigFromEnv(process.env))
  return outboundFetch(input, init)
}

/** Thrown to leave a message on the queue: it comes back after the visibility we set (a wait, not an error). */
class NotYetDone extends Error {}

const SAFETY_MARGIN_MS = 20_000

/** SQS FIFO → one Promotion per record. Waits re-hide the message instead of holding the Lambda. */
export async function main(event: SQSEvent, context: Context) {
  const ctx = runtimeContext()
  const processor = new SqsFifoPartialProcessorAsync()
  const handleRecord = async (record: SQSRecord) => {
    const message = PromotionMessageSchema.parse(JSON.parse(record.body))
    const result = await workPromotion(
      {
        db: ctx.db,
        sealer: ctx.sealer,
        steps: promotionStepDeps(ctx),
        fetch: outbound,
        holder: `${context.awsRequestId}/${randomUUID().slice(0, 8)}`,
        remainingMs: () => context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
        log: (line) => log(line),
        afterFinish: (project, promotion) => afterPromotionFinished(ctx, project, promotion),
        ...(process.env.TUGBOAT_LEASE_SECONDS
          ? { leaseMs: Number(process.env.TUGBOAT_LEASE_SECONDS) * 1000 }
          : {}),
      },
      message.project,
      message.promotion,
    )
    if (!result.done) {
      const seconds = Math.min(43_200, Math.max(0, Math.ceil(result.retryAfterMs / 1000)))
      await ctx.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: ctx.config.TUGBOAT_PROMOTIONS_QUEUE_URL!,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      )
      throw new NotYetDone(`${message.promotion}: ${result.reason}; back in ${seconds}s`)
    }
  }
  const response = await processPartialResponse(event, handleRecord, processor, {
    context,
    throwOnFullBatchFailure: false,
  })
  await relayPending({ db: ctx.db, sqs: ctx.sqs, log })
  return response
}
