import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { createDeliverHandler } from '../events/deliver.js'
import type { RuntimeContext } from '../runtime/context.js'

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>

/** A minimal Lambda context for handlers run in-process. */
export function localContext(functionName: string, timeoutMs = 900_000): Context {
  const deadline = Date.now() + timeoutMs
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }
}

function toRecord(
  message: { MessageId?: string; ReceiptHandle?: string; Body?: string; Attributes?: Record<string, string> },
  queueArn: string,
): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as unknown as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  }
}

/**
 * Polls a queue the way Lambda's event source mapping does: batches of one record, the same handler,
 * and `batchItemFailures` decide which messages are deleted. Up to `concurrency` FIFO groups run at once.
 */
export function consumeQueue(options: {
  sqs: SQSClient
  queueUrl: string
  queueArn: string
  handler: SqsHandler
  functionName: string
  concurrency?: number
  onError?: (error: unknown) => void
}): { stop(): Promise<void> } {
  let running = true
  const inFlight = new Set<Promise<void>>()
  const concurrency = options.concurrency ?? 4

  const invoke = async (message: Parameters<typeof toRecord>[0]) => {
    const record = toRecord(message, options.queueArn)
    try {
      const result = await options.handler({ Records: [record] }, localContext(options.functionName))
      const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier))
      if (!failed.has(record.messageId)) {
        await options.sqs.send(
          new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: record.receiptHandle }),
        )
      }
    } catch (error) {
      options.onError?.(error)
    }
  }

  const loop = (async () => {
    while (running) {
      if (inFlight.size >= concurrency) {
        await Promise.race(inFlight)
        continue
      }
      try {
        const { Messages } = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(10, concurrency - inFlight.size),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        )
        for (const message of Messages ?? []) {
          const job = invoke(message).finally(() => inFlight.delete(job))
          inFlight.add(job)
        }
      } catch (error) {
        if (running) options.onError?.(error)
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  })()

  return {
    async stop() {
      running = false
      await loop
      await Promise.allSettled([...inFlight])
    },
  }
}

/**
 * Consumes the events queue with the `deliver` handler, one message at a time, so events reach subscribers in
 * outbox order (in AWS the standard queue does not order them).
 */
export function consumeEvents(options: {
  ctx: Pick<RuntimeContext, 'db' | 'sealer'>
  sqs: SQSClient
  queues: { events: string; eventsArn: string }
  onError?: (error: unknown) => void
}): { stop(): Promise<void> } {
  const { ctx, sqs, queues } = options
  return consumeQueue({
    sqs,
    queueUrl: queues.events,
    queueArn: queues.eventsArn,
    handler: createDeliverHandler({ db: ctx.db, sealer: ctx.sealer, sqs, queueUrl: queues.events }),
    functionName: 'deliver',
    concurrency: 1,
    ...(options.onError ? { onError: options.onError } : {}),
  })
}
