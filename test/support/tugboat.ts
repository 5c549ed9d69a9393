import { randomBytes, randomUUID } from 'node:crypto'
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import { serve } from '@hono/node-server'
import { inject } from 'vitest'
import { resetConfig } from '../../lib/config.js'
import { createApp } from '../../lib/http/app.js'
import { consumeEvents, consumeQueue } from '../../lib/local/queue-consumer.js'
import { freePort } from '../../lib/local/ports.js'
import { ensureQueues } from '../../lib/queue/queues.js'
import { ensureEventQueues } from '../../lib/events/queue.js'
import { appDeps, resetRuntimeContext, runtimeContext } from '../../lib/runtime/context.js'
import { ensureTable } from '../../lib/store/client.js'
import { dynamoClient, sqsClient } from './stack.js'

export const ADMIN_TOKEN = 'tb_e2e-admin'

/**
 * Tugboat as `npm start` runs it, inside the test process: a fresh table and queues on the run's DynamoDB Local
 * and SQS emulator, the HTTP API on a free port, and the `promote` Lambda handler consuming the queue.
 * Environment variables are set for this test file's process (vitest runs each file in its own fork).
 */
export async function startTugboat(
  env: Record<string, string> = {},
  options: { visibilityTimeoutSeconds?: number; worker?: boolean } = {},
) {
  const table = `e2e-${randomUUID()}`
  await ensureTable(dynamoClient(), table)
  const sqs = sqsClient()
  const prefix = `e2e-${randomUUID().slice(0, 8)}`
  const queues = await ensureQueues(sqs, prefix, options)
  const eventQueues = await ensureEventQueues(sqs, prefix, { visibilityTimeoutSeconds: 5 })
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_ENDPOINT_URL_SQS: inject('sqsEndpoint'),
    TUGBOAT_TABLE: table,
    TUGBOAT_PROMOTIONS_QUEUE_URL: queues.promotions,
    TUGBOAT_EVENTS_QUEUE_URL: eventQueues.events,
    TUGBOAT_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    TUGBOAT_ADMIN_TOKEN: ADMIN_TOKEN,
    TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS: '1',
    ...env,
  })
  resetConfig()
  resetRuntimeContext()
  const ctx = runtimeContext()
  const [{ main: promote }, { main: discover }, { main: reconcile }] = await Promise.all([
    import('../../functions/promote.js'),
    import('../../functions/discover.js'),
    import('../../functions/reconcile.js'),
  ])
  const port = await freePort()
  const server = serve({ fetch: createApp(appDeps(ctx)).fetch, port, hostname: '127.0.0.1' })
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queues.promotions, AttributeNames: ['QueueArn'] }),
  )
  const errors: unknown[] = []
  const consumer =
    options.worker === false
      ? { stop: async () => {} }
      : consumeQueue({
          sqs,
          queueUrl: queues.promotions,
          queueArn: Attributes!.QueueArn!,
          handler: promote,
          functionName: 'promote',
          onError: (e) => errors.push(e),
        })
  const deliverConsumer = consumeEvents({ ctx, sqs, queues: eventQueues, onError: (e) => errors.push(e) })
  const url = `http://127.0.0.1:${port}`

  const api = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    const text = await response.text()
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
  }

  /** Polls until `probe` returns a value (not undefined), or fails after `ms`. */
  const eventually = async <T>(
    what: string,
    probe: () => Promise<T | undefined>,
    ms = 60_000,
  ): Promise<T> => {
    const deadline = Date.now() + ms
    for (;;) {
      const value = await probe()
      if (value !== undefined) return value
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what}${errors.length ? `; worker errors: ${errors.map(String).join('; ')}` : ''}`,
        )
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  return {
    url,
    ctx,
    table,
    queues,
    api,
    eventually,
    errors,
    discover: () => discover(),
    reconcile: () => reconcile(),
    env: { TUGBOAT_SERVER: url, TUGBOAT_TOKEN: ADMIN_TOKEN },
    async stop() {
      await consumer.stop()
      await deliverConsumer.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
