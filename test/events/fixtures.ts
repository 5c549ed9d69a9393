import { randomBytes, randomUUID } from 'node:crypto'
import { PurgeQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { consumeQueue } from '../../lib/local/queue-consumer.js'
import { createDeliverHandler, type BackoffOptions } from '../../lib/events/deliver.js'
import { ensureEventQueues } from '../../lib/events/queue.js'
import {
  EVENTS_API_VERSION,
  EVENT_SUBSCRIPTION_KIND,
  type EventSubscriptionSpec,
} from '../../lib/events/subscriptions.js'
import { KARGO_API_VERSION } from '../../lib/model/meta.js'
import type { Db } from '../../lib/store/client.js'
import { putCredential } from '../../lib/store/credentials.js'
import { writeResource } from '../../lib/store/resources.js'
import { sealer as makeSealer, type Sealer } from '../../lib/store/sealing.js'
import { freshDb, sqsClient } from '../support/stack.js'

export { PurgeQueueCommand }

/** A fresh table, events queues of our own, and a sealer. */
export async function eventsStack(
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
) {
  const db = await freshDb()
  const sqs = sqsClient()
  const queues = await ensureEventQueues(sqs, `t-${randomUUID().slice(0, 8)}`, {
    maxReceiveCount: options.maxReceiveCount ?? 10,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30,
  })
  const sealer = makeSealer(randomBytes(32).toString('base64'))
  return { db, sqs, queues, sealer }
}

export async function createProject(db: Db, project: string): Promise<void> {
  await writeResource(db, {
    ref: { project, kind: 'Project', name: project },
    resource: { apiVersion: KARGO_API_VERSION, kind: 'Project', metadata: { name: project } },
    expect: 'absent',
  })
}

export async function createSubscription(
  db: Db,
  project: string,
  name: string,
  spec: EventSubscriptionSpec,
): Promise<void> {
  await writeResource(db, {
    ref: { project, kind: EVENT_SUBSCRIPTION_KIND, name },
    resource: { apiVersion: EVENTS_API_VERSION, kind: EVENT_SUBSCRIPTION_KIND, metadata: { name }, spec },
    expect: 'absent',
  })
}

/** A Secret as `kubectl apply` of a v1 Secret with cred-type generic would store it. */
export async function createSecret(
  db: Db,
  sealer: Sealer,
  project: string,
  name: string,
  data: Record<string, string>,
): Promise<void> {
  await putCredential(db, sealer, project, { name, type: 'generic', repoURLIsRegex: false, data })
}

/** Runs the deliver handler on the events queue the way Lambda's event source mapping would. */
export function runDeliver(
  stack: Awaited<ReturnType<typeof eventsStack>>,
  options: { backoff?: BackoffOptions; fetch?: typeof fetch; concurrency?: number } = {},
) {
  const handler = createDeliverHandler({
    db: stack.db,
    sealer: stack.sealer,
    sqs: stack.sqs,
    queueUrl: stack.queues.events,
    backoff: options.backoff ?? { baseSeconds: 1, factor: 1, maxSeconds: 1 },
    timeoutMs: 5_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  return consumeQueue({
    sqs: stack.sqs,
    queueUrl: stack.queues.events,
    queueArn: stack.queues.eventsArn,
    handler,
    functionName: 'deliver',
    concurrency: options.concurrency ?? 2,
    onError: () => {},
  })
}

/** Receives messages from a queue (hiding them for 30 s), waiting up to `timeoutMs` for at least one. */
export async function peekQueue(sqs: SQSClient, queueUrl: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 30,
      }),
    )
    if (Messages?.length) return Messages.map((m) => m.Body ?? '')
  }
  return []
}

/** Retries `check` (which throws until satisfied) for up to `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}
