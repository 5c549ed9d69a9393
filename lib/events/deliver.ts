import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { messageOf, TerminalError, TugboatError } from '../errors.js'
import type { Db } from '../store/client.js'
import type { Sealer } from '../store/sealing.js'
import { projectOfSource } from './envelope.js'
import { SIGNATURE_HEADER, sign } from './signature.js'
import { getCredential } from '../store/credentials.js'
import { getDelivery, putDelivery } from './store.js'
import {
  listSubscriptions,
  recordDeliveryStatus,
  subscriptionMatches,
  type EventSubscription,
} from './subscriptions.js'
import { CloudEventSchema, type CloudEvent } from './types.js'

export interface DeliverDeps {
  db: Db
  sealer: Sealer
  fetch?: typeof globalThis.fetch
  now?: () => Date
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number
  /** Structured log lines; never given a secret. */
  log?: (message: string, fields?: Record<string, unknown>) => void
}

/** What happened to one event for one subscription. */
export interface DeliveryOutcome {
  subscription: string
  /**
   * delivered now; skipped: delivered before; failed: retry later; gone: the receiver said 410, and refused: the
   * address is not allowed (link-local, metadata, outside the outbound allow-list); neither is retried.
   */
  state: 'delivered' | 'skipped' | 'failed' | 'gone' | 'refused'
  statusCode?: number
  error?: string
}

/** A delivery that should be tried again later (the SQS record is failed and re-hidden). */
export class DeliveryFailedError extends TugboatError {
  constructor(message: string, options: { data?: Record<string, unknown> } = {}) {
    super('upstream', message, options)
  }
}

// Instance metadata and other link-local addresses are never a webhook receiver.
function forbiddenHost(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (
    /^169\.254\./.test(host) ||
    /^fe[89ab][0-9a-f]:/.test(host) ||
    host === 'fd00:ec2::254' ||
    host === 'metadata.google.internal'
  ) {
    return `refusing to deliver to link-local/metadata address ${host}`
  }
  return undefined
}

async function post(
  deps: DeliverDeps,
  subscription: EventSubscription,
  event: CloudEvent,
  body: string,
  secret: string | undefined,
): Promise<{ statusCode?: number; error?: string; refused?: boolean }> {
  const url = new URL(subscription.spec.url)
  const refused = forbiddenHost(url)
  if (refused) return { error: refused, refused: true }
  const headers: Record<string, string> = {
    'content-type': 'application/cloudevents+json; charset=utf-8',
    'user-agent': 'tugboat-events/1',
    'ce-specversion': event.specversion,
    'ce-id': event.id,
    'ce-source': event.source,
    'ce-type': event.type,
    ...(event.time ? { 'ce-time': event.time } : {}),
    ...(event.subject ? { 'ce-subject': encodeURIComponent(event.subject) } : {}),
    'x-tugboat-subscription': subscription.name,
    'x-tugboat-delivery': `${event.id}/${subscription.name}`,
  }
  if (secret !== undefined) headers[SIGNATURE_HEADER.toLowerCase()] = sign(secret, body)
  try {
    const response = await (deps.fetch ?? globalThis.fetch)(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
    })
    await response.body?.cancel().catch(() => undefined)
    if (response.status >= 200 && response.status < 300) return { statusCode: response.status }
    const hint = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''
    return {
      statusCode: response.status,
      error: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${hint}`,
    }
  } catch (error) {
    // An injected guarded fetch (lib/net/outbound.ts) refuses blocked hosts with a TerminalError: no retry helps.
    if (error instanceof TerminalError) return { error: `refused: ${error.message}`, refused: true }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
    return { error: `request failed: ${messageOf(error)}${cause}` }
  }
}

async function signingSecret(
  deps: DeliverDeps,
  subscription: EventSubscription,
): Promise<{ secret?: string; error?: string }> {
  const ref = subscription.spec.secretRef
  if (!ref) return {}
  const data = (await getCredential(deps.db, deps.sealer, subscription.project, ref.name))?.data
  if (!data)
    return { error: `Secret "${ref.name}" (secretRef) not found in project "${subscription.project}"` }
  if (data.secret === undefined || data.secret === '')
    return { error: `Secret "${ref.name}" has no "secret" key to sign deliveries with` }
  return { secret: data.secret }
}

async function deliverTo(
  deps: DeliverDeps,
  project: string,
  event: CloudEvent,
  body: string,
  subscription: EventSubscription,
): Promise<DeliveryOutcome> {
  const previous = await getDelivery(deps.db, project, event.id, subscription.name)
  if (previous?.state === 'delivered')
    return {
      subscription: subscription.name,
      state: 'skipped',
      ...(previous.statusCode ? { statusCode: previous.statusCode } : {}),
    }
  const attempt = (previous?.attempts ?? 0) + 1
  const attemptAt = (deps.now?.() ?? new Date()).toISOString()
  const { secret, error: secretError } = await signingSecret(deps, subscription)
  const result = secretError ? { error: secretError } : await post(deps, subscription, event, body, secret)
  const delivered = result.error === undefined
  await putDelivery(deps.db, project, event.id, subscription.name, {
    state: delivered ? 'delivered' : 'failed',
    attempts: attempt,
    type: event.type,
    lastAttemptAt: attemptAt,
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error ? { error: result.error } : {}),
  })
  try {
    await recordDeliveryStatus(deps.db, project, subscription.name, {
      eventId: event.id,
      type: event.type,
      attemptAt,
      attempt,
      ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
      ...(result.error ? { error: result.error } : {}),
    })
  } catch (error) {
    // The delivery record above is what idempotency relies on; the status is for people. A busy or deleted
    // subscription must not turn a successful POST into a retry.
    deps.log?.('could not record delivery status on the subscription', {
      project,
      subscription: subscription.name,
      error: messageOf(error),
    })
  }
  deps.log?.(delivered ? 'event delivered' : 'event delivery failed', {
    project,
    subscription: subscription.name,
    eventId: event.id,
    type: event.type,
    attempt,
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error ? { error: result.error } : {}),
  })
  if (delivered)
    return {
      subscription: subscription.name,
      state: 'delivered',
      ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    }
  return {
    subscription: subscription.name,
    state: 'refused' in result && result.refused ? 'refused' : result.statusCode === 410 ? 'gone' : 'failed',
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error ? { error: result.error } : {}),
  }
}

/**
 * POSTs one event to every matching EventSubscription of its project that has not had it yet (in parallel).
 * Returns each subscription's outcome; a caller retries while any is `failed`.
 */
export async function deliverEvent(deps: DeliverDeps, event: CloudEvent): Promise<DeliveryOutcome[]> {
  const project = projectOfSource(event.source)
  if (!project) {
    deps.log?.('event is not from a Tugboat project; dropped', { eventId: event.id, source: event.source })
    return []
  }
  const body = JSON.stringify(event)
  const subscriptions = (await listSubscriptions(deps.db, project, (line) => deps.log?.(line))).filter((s) =>
    subscriptionMatches(s.spec, event),
  )
  const settled = await Promise.allSettled(subscriptions.map((s) => deliverTo(deps, project, event, body, s)))
  return settled.map((r, i) =>
    r.status === 'fulfilled'
      ? r.value
      : { subscription: subscriptions[i]!.name, state: 'failed' as const, error: messageOf(r.reason) },
  )
}

export interface BackoffOptions {
  /** First retry after this many seconds (default 10). */
  baseSeconds?: number
  /** Each retry waits this many times longer (default 3: 10 s, 30 s, 90 s, 270 s…). */
  factor?: number
  /** Cap (default 900 s). SQS allows up to 12 h. */
  maxSeconds?: number
}

/** Seconds to hide a message after its `receiveCount`-th failed attempt. */
export function backoffSeconds(receiveCount: number, options: BackoffOptions = {}): number {
  const base = options.baseSeconds ?? 10
  const factor = options.factor ?? 3
  const max = Math.min(options.maxSeconds ?? 900, 43_200)
  return Math.min(max, Math.round(base * factor ** Math.max(0, receiveCount - 1)))
}

export interface DeliverHandlerDeps extends DeliverDeps {
  sqs: SQSClient
  /** The events queue the records come from (for ChangeMessageVisibility). */
  queueUrl: string
  backoff?: BackoffOptions
}

/**
 * The events-queue Lambda handler (standard queue, ReportBatchItemFailures). A record whose delivery failed for
 * some subscription is re-hidden for `backoffSeconds(receiveCount)` and reported failed; the queue's
 * maxReceiveCount then moves it to the dead-letter queue. A record that is not a CloudEvent fails as it is
 * (it reaches the dead-letter queue for a person to look at).
 */
export function createDeliverHandler(
  deps: DeliverHandlerDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const handleRecord = async (record: SQSRecord) => {
    const event = CloudEventSchema.parse(JSON.parse(record.body))
    const outcomes = await deliverEvent(deps, event)
    const failed = outcomes.filter((o) => o.state === 'failed')
    if (failed.length === 0) return
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1
    const seconds = backoffSeconds(receiveCount, deps.backoff)
    await deps.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: deps.queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    )
    throw new DeliveryFailedError(
      `event ${event.id}: delivery failed for ${failed.map((f) => `${f.subscription} (${f.error ?? 'failed'})`).join(', ')}; retry in ${seconds}s (attempt ${receiveCount})`,
      { data: { eventId: event.id, subscriptions: failed.map((f) => f.subscription) } },
    )
  }
  return async (event, context) => {
    const processor = new BatchProcessor(EventType.SQS)
    return processPartialResponse(event, handleRecord, processor, { context })
  }
}
