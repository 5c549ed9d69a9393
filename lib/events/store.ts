/**
 * The events' items in the single table, and the only events code that knows their keys:
 * - outbox:    PK `OUTBOX`, SK `<time>#<event id>` — events waiting for the relay (no TTL: never dropped).
 * - delivery:  `keys.dedupe('delivery/<project>', '<event id>#<subscription>')` — one per (event, subscription), TTL.
 * - inbound:   `keys.dedupe('event/<project>', <event id>)` — inbound CloudEvent ids already handled, TTL.
 * - webhooks:  PK `WEBHOOK#<type>/<hash>`, SK `ROUTE` → {project, receiver}; and the project's list of its routes at
 *              PK `P#<project>`, SK `WebhookRoutes#`.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb'
import { z } from 'zod'
import type { Db } from '../store/client.js'
import { isConditionFailure } from '../store/conditions.js'
import type { TransactItem } from '../store/resources.js'
import { keys } from '../store/table.js'
import type { CloudEvent } from './types.js'

export const OUTBOX_PARTITION = 'OUTBOX'
const DAY_SECONDS = 86_400

export const eventKeys = {
  /** `seq` keeps events written together (same time) in the order they were given. */
  outbox: (event: Pick<CloudEvent, 'id' | 'time'>, seq = 0) => ({
    PK: OUTBOX_PARTITION,
    SK: `${event.time ?? ''}#${String(seq).padStart(4, '0')}#${event.id}`,
  }),
  delivery: (project: string, eventId: string, subscription: string) =>
    keys.dedupe(`delivery/${project}`, `${eventId}#${subscription}`),
  inbound: (project: string, eventId: string) => keys.dedupe(`event/${project}`, eventId),
  webhookRoute: (path: string) => ({ PK: `WEBHOOK#${path}`, SK: 'ROUTE' }),
  webhookRouteList: (project: string) => ({ PK: `P#${project}`, SK: 'WebhookRoutes#' }),
} as const

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000)
}

// ---- outbox ----

const OutboxItemSchema = z.object({ PK: z.string(), SK: z.string(), event: z.string() })
export interface OutboxEntry {
  key: { PK: string; SK: string }
  body: string
}

/**
 * How long an unrelayed outbox entry is kept: as long as the events queue keeps a message (4 days), so a
 * deployment without an events queue does not collect entries for ever.
 */
export const OUTBOX_TTL_DAYS = 4

/** The Put of one outbox entry (create-only), for the caller's transaction. */
export function outboxPut(db: Db, event: CloudEvent, seq = 0): TransactItem {
  const written = event.time ? Date.parse(event.time) : Date.now()
  return {
    Put: {
      TableName: db.table,
      Item: {
        ...eventKeys.outbox(event, seq),
        kind: 'OutboxEvent',
        event: JSON.stringify(event),
        expiresAt: epochSeconds(
          new Date((Number.isNaN(written) ? Date.now() : written) + OUTBOX_TTL_DAYS * DAY_SECONDS * 1000),
        ),
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  }
}

/** The oldest pending outbox entries (consistent read), at most `limit`. */
export async function pendingOutbox(db: Db, limit: number): Promise<OutboxEntry[]> {
  const out: OutboxEntry[] = []
  let ExclusiveStartKey: Record<string, NativeAttributeValue> | undefined
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': OUTBOX_PARTITION },
        ConsistentRead: true,
        Limit: limit - out.length,
        ExclusiveStartKey,
      }),
    )
    for (const item of page.Items ?? []) {
      const parsed = OutboxItemSchema.parse(item)
      out.push({ key: { PK: parsed.PK, SK: parsed.SK }, body: parsed.event })
    }
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey && out.length < limit)
  return out
}

export async function deleteOutboxEntry(db: Db, key: { PK: string; SK: string }): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: key }))
}

// ---- deliveries ----

export const DeliveryRecordSchema = z.object({
  state: z.enum(['delivered', 'failed']),
  attempts: z.number().int(),
  type: z.string(),
  lastAttemptAt: z.string(),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
})
export type DeliveryRecord = z.infer<typeof DeliveryRecordSchema>

export async function getDelivery(
  db: Db,
  project: string,
  eventId: string,
  subscription: string,
): Promise<DeliveryRecord | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({
      TableName: db.table,
      Key: eventKeys.delivery(project, eventId, subscription),
      ConsistentRead: true,
    }),
  )
  return Item ? DeliveryRecordSchema.parse(Item) : undefined
}

/** Records one delivery attempt; kept `ttlDays` (default 7) for idempotency and diagnosis. */
export async function putDelivery(
  db: Db,
  project: string,
  eventId: string,
  subscription: string,
  record: DeliveryRecord,
  ttlDays = 7,
): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...eventKeys.delivery(project, eventId, subscription),
        kind: 'EventDelivery',
        ...record,
        expiresAt: epochSeconds(new Date(Date.parse(record.lastAttemptAt) + ttlDays * DAY_SECONDS * 1000)),
      },
    }),
  )
}

// ---- inbound dedupe ----

/** How long a claim on an inbound event id may sit unfinished before another request may take it over. */
export const INBOUND_CLAIM_STALE_MS = 5 * 60_000

const InboundItemSchema = z.object({ state: z.enum(['processing', 'done']), result: z.string().optional() })

/**
 * Claims an inbound event id for a project. Returns `{claimed: true}` or, for an id seen before, its stored result.
 * A claim left `processing` for longer than INBOUND_CLAIM_STALE_MS (a crashed request) can be claimed again.
 */
export async function claimInbound(
  db: Db,
  project: string,
  eventId: string,
  now: Date,
  ttlDays = 7,
): Promise<{ claimed: true } | { claimed: false; state: 'processing' | 'done'; result?: unknown }> {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...eventKeys.inbound(project, eventId),
          kind: 'InboundEvent',
          state: 'processing',
          claimedAt: now.getTime(),
          expiresAt: epochSeconds(now) + ttlDays * DAY_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK) OR (#state = :processing AND claimedAt < :stale)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':processing': 'processing',
          ':stale': now.getTime() - INBOUND_CLAIM_STALE_MS,
        },
      }),
    )
    return { claimed: true }
  } catch (error) {
    if (!isConditionFailure(error)) throw error
    const { Item } = await db.doc.send(
      new GetCommand({ TableName: db.table, Key: eventKeys.inbound(project, eventId), ConsistentRead: true }),
    )
    const existing = InboundItemSchema.parse(Item)
    return {
      claimed: false,
      state: existing.state,
      ...(existing.result ? { result: JSON.parse(existing.result) as unknown } : {}),
    }
  }
}

export async function finishInbound(
  db: Db,
  project: string,
  eventId: string,
  result: unknown,
): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: eventKeys.inbound(project, eventId),
      UpdateExpression: 'SET #state = :done, #result = :result',
      ExpressionAttributeNames: { '#state': 'state', '#result': 'result' },
      ExpressionAttributeValues: { ':done': 'done', ':result': JSON.stringify(result) },
    }),
  )
}

/** Gives an id back (the request failed), so the sender's retry is handled. */
export async function releaseInbound(db: Db, project: string, eventId: string): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: eventKeys.inbound(project, eventId) }))
}

// ---- webhook routes ----

const RouteSchema = z.object({ project: z.string(), receiver: z.string() })
const RouteListSchema = z.object({ paths: z.array(z.string()) })

export async function getWebhookRoute(
  db: Db,
  path: string,
): Promise<{ project: string; receiver: string } | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: eventKeys.webhookRoute(path) }),
  )
  return Item ? RouteSchema.parse(Item) : undefined
}

/** Replaces a project's webhook routes with `routes` (path → receiver name). Writes nothing when they are unchanged. */
export async function replaceWebhookRoutes(
  db: Db,
  project: string,
  routes: Array<{ path: string; receiver: string }>,
): Promise<void> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: eventKeys.webhookRouteList(project), ConsistentRead: true }),
  )
  const previous = Item ? RouteListSchema.parse(Item).paths : []
  const known = new Set(previous)
  const wanted = new Set(routes.map((r) => r.path))
  // The list is written last, so a path on it has its route item; only new paths are written (cheap to repeat).
  for (const route of routes.filter((r) => !known.has(r.path))) {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...eventKeys.webhookRoute(route.path),
          kind: 'WebhookRoute',
          project,
          receiver: route.receiver,
        },
      }),
    )
  }
  for (const path of previous.filter((p) => !wanted.has(p))) {
    // Only remove a route that still points at this project (another project may have the same path).
    try {
      await db.doc.send(
        new DeleteCommand({
          TableName: db.table,
          Key: eventKeys.webhookRoute(path),
          ConditionExpression: '#project = :project',
          ExpressionAttributeNames: { '#project': 'project' },
          ExpressionAttributeValues: { ':project': project },
        }),
      )
    } catch (error) {
      if (!isConditionFailure(error)) throw error
    }
  }
  const unchanged = previous.length === wanted.size && previous.every((p) => wanted.has(p))
  if (unchanged) return
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...eventKeys.webhookRouteList(project), kind: 'WebhookRoutes', paths: [...wanted] },
    }),
  )
}
