import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { messageOf } from '../errors.js'
import type { Db } from '../store/client.js'
import { writeAll, type TransactItem } from '../store/resources.js'
import { loadEventsConfig } from './config.js'
import { deleteOutboxEntry, outboxPut, pendingOutbox } from './store.js'
import { CloudEventSchema, type CloudEvent } from './types.js'

/**
 * The transaction item that records `event` in the outbox. Put it in the SAME `writeAll` as the state change it
 * describes: the event exists if and only if the change landed. `relayOutbox` then sends it.
 */
export function outboxItem(db: Db, event: CloudEvent, seq = 0): TransactItem {
  return outboxPut(db, CloudEventSchema.parse(event), seq)
}

/** `outboxItem` for each event, relayed in the order given (DynamoDB transactions take at most 100 items in all). */
export function outboxItems(db: Db, events: CloudEvent[]): TransactItem[] {
  return events.map((event, seq) => outboxItem(db, event, seq))
}

export interface RelayDeps {
  db: Db
  sqs: SQSClient
  /** The events queue (standard). */
  queueUrl: string
  /** Most entries one call relays (default 500); the rest wait for the next call. */
  limit?: number
  log?: (line: string) => void
}

/**
 * Sends pending outbox entries to the events queue, oldest first, and deletes each one SQS accepted.
 * At-least-once: a crash between send and delete sends the entry again, and delivery is idempotent per
 * (event id, subscription). Entries SQS refused stay for the next call. Never throws for one bad entry.
 */
export async function relayOutbox(deps: RelayDeps): Promise<{ sent: number; failed: number }> {
  const pending = await pendingOutbox(deps.db, deps.limit ?? 500)
  let sent = 0
  let failed = 0
  for (let start = 0; start < pending.length; start += 10) {
    const chunk = pending.slice(start, start + 10)
    const result = await deps.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: deps.queueUrl,
        Entries: chunk.map((entry, index) => ({ Id: String(index), MessageBody: entry.body })),
      }),
    )
    for (const failure of result.Failed ?? []) {
      failed++
      deps.log?.(
        `outbox: SQS refused ${chunk[Number(failure.Id)]?.key.SK ?? failure.Id}: ${failure.Code ?? ''} ${failure.Message ?? ''}`.trim(),
      )
    }
    for (const ok of result.Successful ?? []) {
      const entry = chunk[Number(ok.Id)]
      if (!entry) continue
      await deleteOutboxEntry(deps.db, entry.key)
      sent++
    }
  }
  return { sent, failed }
}

/**
 * Records events in the outbox on their own (for hooks that have no transaction of their own, e.g. discovery
 * failures) and relays them when a queue is configured. An event is lost only if the process dies before the write.
 */
export async function publishEvents(
  deps: { db: Db; sqs?: SQSClient; queueUrl?: string; log?: (line: string) => void },
  events: CloudEvent[],
): Promise<void> {
  if (events.length === 0) return
  for (let start = 0; start < events.length; start += 25) {
    await writeAll(
      deps.db,
      events.slice(start, start + 25).map((e) => outboxItem(deps.db, e)),
      'an event with the same id is already in the outbox',
    )
  }
  if (deps.sqs && deps.queueUrl)
    await relayOutbox({
      db: deps.db,
      sqs: deps.sqs,
      queueUrl: deps.queueUrl,
      ...(deps.log ? { log: deps.log } : {}),
    })
}

/**
 * Best-effort relay after a write: sends pending outbox entries when TUGBOAT_EVENTS_QUEUE_URL is set, and never
 * throws (whatever it misses, the next call — at the latest the reconcile schedule's — relays).
 */
export async function relayPending(deps: {
  db: Db
  sqs: SQSClient
  log?: (line: string) => void
  env?: NodeJS.ProcessEnv
}): Promise<{ sent: number; failed: number } | undefined> {
  const queueUrl = loadEventsConfig(deps.env).TUGBOAT_EVENTS_QUEUE_URL
  if (!queueUrl) return undefined
  try {
    return await relayOutbox({ db: deps.db, sqs: deps.sqs, queueUrl, ...(deps.log ? { log: deps.log } : {}) })
  } catch (error) {
    deps.log?.(`outbox relay failed (retried on the next relay): ${messageOf(error)}`)
    return undefined
  }
}
