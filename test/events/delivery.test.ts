import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import { afterEach, describe, expect, it } from 'vitest'
import { promotionEvent, promotionFinishedEvents } from '../../lib/events/builders.js'
import { createDeliverHandler, deliverEvent } from '../../lib/events/deliver.js'
import { outboxItem, relayOutbox, relayPending } from '../../lib/events/outbox.js'
import { eventKeys, getDelivery } from '../../lib/events/store.js'
import { EVENT_TYPES, type CloudEvent } from '../../lib/events/types.js'
import { localContext } from '../../lib/local/queue-consumer.js'
import { KARGO_API_VERSION } from '../../lib/model/meta.js'
import { getResource, nextVersion, putItem, writeAll } from '../../lib/store/resources.js'
import { startHttpSink, type HttpSink } from '../support/http-sink.js'
import { cdeventsValidator } from './cdevents-schemas.js'
import {
  createProject,
  createSecret,
  createSubscription,
  eventsStack,
  eventually,
  peekQueue,
  runDeliver,
} from './fixtures.js'

const project = 'guestbook'
const freight = {
  name: 'f'.repeat(40),
  alias: 'brave-fox',
  images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.0.0', digest: `sha256:${'1'.repeat(64)}` }],
}
const succeeded = () =>
  promotionFinishedEvents({
    project,
    stage: 'prod',
    freight,
    promotion: { name: 'prod.01j.fffffff', phase: 'Succeeded' },
  })

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function sink(options: Parameters<typeof startHttpSink>[0] = {}): Promise<HttpSink> {
  const s = await startHttpSink(options)
  cleanups.push(() => s.close())
  return s
}

/** Commits events the way the engine will: in the same transaction as a state change, then relays. */
async function emit(stack: Awaited<ReturnType<typeof eventsStack>>, events: CloudEvent[]): Promise<void> {
  const ref = { project, kind: 'Stage', name: `marker-${events[0]!.id}` }
  const write = {
    ref,
    resource: { apiVersion: KARGO_API_VERSION, kind: 'Stage', metadata: { name: ref.name } },
    expect: 'absent' as const,
  }
  await writeAll(
    stack.db,
    [{ Put: putItem(stack.db, write, nextVersion(write)) }, ...events.map((e) => outboxItem(stack.db, e))],
    'conflict',
  )
  await relayOutbox({ db: stack.db, sqs: stack.sqs, queueUrl: stack.queues.events })
}

describe('outbound events: outbox → SQS → deliver → subscribers', () => {
  it('POSTs each matching event once, signed, as schema-valid CloudEvents', async () => {
    const stack = await eventsStack()
    await createProject(stack.db, project)
    const receiver = await sink({ secret: 'hook-s3cret', rejectBadSignatures: true })
    await createSecret(stack.db, stack.sealer, project, 'hook', { secret: 'hook-s3cret' })
    await createSubscription(stack.db, project, 'deployments', {
      url: `${receiver.url}/deployments`,
      types: ['dev.cdevents.service.*'],
      secretRef: { name: 'hook' },
    })
    await createSubscription(stack.db, project, 'everything-prod', {
      url: `${receiver.url}/all`,
      stages: ['prod'],
      secretRef: { name: 'hook' },
    })
    await createSubscription(stack.db, project, 'dev-only', { url: `${receiver.url}/dev`, stages: ['dev'] })
    const consumer = runDeliver(stack)
    cleanups.push(() => consumer.stop())

    const events = succeeded()
    await emit(stack, events)
    await receiver.waitFor((r) => r.length >= 3)
    await new Promise((r) => setTimeout(r, 500))

    expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/all', '/all', '/deployments'])
    expect(receiver.requests.every((r) => r.signatureValid && r.status === 200)).toBe(true)
    const validate = cdeventsValidator()
    for (const request of receiver.requests) {
      expect(request.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8')
      const body = JSON.parse(request.body) as CloudEvent
      expect(validate(body)).toEqual([])
      expect(request.headers['ce-id']).toBe(body.id)
      expect(request.headers['ce-type']).toBe(body.type)
      expect(request.body).not.toContain('hook-s3cret')
    }
    const deployed = receiver.requests.find((r) => r.path === '/deployments')!
    expect(JSON.parse(deployed.body)).toMatchObject({
      type: EVENT_TYPES.serviceDeployed,
      subject: 'ghcr.io/acme/guestbook',
    })

    const status = await eventually(async () => {
      const current = (
        await getResource(stack.db, { project, kind: 'EventSubscription', name: 'deployments' })
      )?.status
      expect(current).toMatchObject({
        lastDelivery: {
          eventId: events[1]!.id,
          type: EVENT_TYPES.serviceDeployed,
          statusCode: 200,
          attempt: 1,
        },
      })
      return current
    })
    expect(JSON.stringify(status)).not.toContain('hook-s3cret')
    // The outbox is empty once relayed.
    const outbox = await stack.db.doc.send(
      new QueryCommand({
        TableName: stack.db.table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': 'OUTBOX' },
      }),
    )
    expect(outbox.Items).toEqual([])
  })

  it('retries a failing receiver with backoff, then records the success', async () => {
    const stack = await eventsStack()
    await createProject(stack.db, project)
    const receiver = await sink()
    receiver.failNext(2, 503)
    await createSubscription(stack.db, project, 'flaky', {
      url: receiver.url,
      types: [EVENT_TYPES.promotionSucceeded],
    })
    const consumer = runDeliver(stack, { backoff: { baseSeconds: 1, factor: 2, maxSeconds: 2 } })
    cleanups.push(() => consumer.stop())

    const [event] = succeeded()
    await emit(stack, [event!])
    await receiver.waitFor((r) => r.some((x) => x.status === 200), 20_000)

    expect(receiver.requests.map((r) => r.status)).toEqual([503, 503, 200])
    const gaps = receiver.requests.slice(1).map((r, i) => r.receivedAt - receiver.requests[i]!.receivedAt)
    expect(gaps.every((g) => g >= 900)).toBe(true) // the message was hidden between attempts
    expect(receiver.requests.every((r) => JSON.parse(r.body).id === event!.id)).toBe(true)
    // The receiver answered; Tugboat records the attempt just after.
    const status = await eventually(async () => {
      await expect(getDelivery(stack.db, project, event!.id, 'flaky')).resolves.toMatchObject({
        state: 'delivered',
        attempts: 3,
        statusCode: 200,
      })
      const current = (await getResource(stack.db, { project, kind: 'EventSubscription', name: 'flaky' }))
        ?.status as { deliveries: Array<{ statusCode: number; error?: string }> }
      expect(current.deliveries.map((d) => d.statusCode)).toEqual([200, 503, 503])
      return current
    })
    expect(status.deliveries[1]!.error).toBe('HTTP 503 Service Unavailable')
  })

  it('moves an event to the dead-letter queue after repeated failure', async () => {
    const stack = await eventsStack({ maxReceiveCount: 3 })
    await createProject(stack.db, project)
    const receiver = await sink()
    receiver.failAlways(500)
    await createSubscription(stack.db, project, 'down', { url: receiver.url })
    const consumer = runDeliver(stack)
    cleanups.push(() => consumer.stop())

    const [event] = succeeded()
    await emit(stack, [event!])
    const dead = await peekQueue(stack.sqs, stack.queues.eventsDlq, 20_000)

    expect(dead.map((b) => (JSON.parse(b) as CloudEvent).id)).toEqual([event!.id])
    // Real SQS counts receives only; the emulator also counts ChangeMessageVisibility, so it gives up sooner.
    expect(receiver.requests.length).toBeGreaterThanOrEqual(2)
    await expect(getDelivery(stack.db, project, event!.id, 'down')).resolves.toMatchObject({
      state: 'failed',
      statusCode: 500,
    })
  })

  it('loses nothing when deliver dies mid-way: the message comes back and only the missing delivery is made', async () => {
    const stack = await eventsStack({ visibilityTimeoutSeconds: 1 })
    await createProject(stack.db, project)
    const a = await sink()
    const b = await sink()
    await createSubscription(stack.db, project, 'a', { url: a.url })
    await createSubscription(stack.db, project, 'b', { url: b.url })
    const [event] = succeeded()
    await emit(stack, [event!])

    // A first invocation receives the message, delivers to `a`, and dies while posting to `b` (it never returns,
    // so nothing deletes the message or records b).
    let release: () => void = () => {}
    const hang = new Promise<never>((_, reject) => (release = () => reject(new Error('killed'))))
    const dying = createDeliverHandler({
      db: stack.db,
      sealer: stack.sealer,
      sqs: stack.sqs,
      queueUrl: stack.queues.events,
      fetch: (input, init) => (String(input).startsWith(b.url) ? hang : fetch(input, init)),
    })
    const { Messages } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.events,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ['All'],
      }),
    )
    expect(Messages).toHaveLength(1)
    const m = Messages![0]!
    const crashed = dying(
      {
        Records: [
          {
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body!,
            attributes: { ApproximateReceiveCount: '1' } as never,
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: stack.queues.eventsArn,
            awsRegion: 'us-east-1',
          },
        ],
      },
      localContext('deliver'),
    ).catch(() => undefined)
    await a.waitFor((r) => r.length === 1)
    expect(b.requests).toHaveLength(0)

    // The message reappears after its visibility timeout; a healthy deliver finishes the job.
    const consumer = runDeliver(stack)
    cleanups.push(() => consumer.stop())
    await b.waitFor((r) => r.length === 1, 20_000)
    await new Promise((r) => setTimeout(r, 1500))
    release()
    await crashed

    expect(a.requests).toHaveLength(1)
    expect(b.requests).toHaveLength(1)
    expect(JSON.parse(b.requests[0]!.body).id).toBe(event!.id)
  })

  it('a relay that dies between send and delete sends again, and subscribers still get the event once', async () => {
    const stack = await eventsStack()
    await createProject(stack.db, project)
    const receiver = await sink()
    await createSubscription(stack.db, project, 'once', { url: receiver.url })
    const consumer = runDeliver(stack)
    cleanups.push(() => consumer.stop())

    const [event] = succeeded()
    await emit(stack, [event!])
    await receiver.waitFor((r) => r.length === 1)
    // The same outbox entry again, as if the relay had crashed before deleting it.
    await writeAll(stack.db, [outboxItem(stack.db, event!)], 'conflict')
    await expect(
      relayOutbox({ db: stack.db, sqs: stack.sqs, queueUrl: stack.queues.events }),
    ).resolves.toEqual({ sent: 1, failed: 0 })
    await new Promise((r) => setTimeout(r, 2500))

    expect(receiver.requests).toHaveLength(1)
    await expect(getDelivery(stack.db, project, event!.id, 'once')).resolves.toMatchObject({
      state: 'delivered',
      attempts: 1,
    })
  })

  it('keeps an event only if its state change commits, and relays it later if nobody relayed it', async () => {
    const stack = await eventsStack()
    await createProject(stack.db, project)
    const event = promotionEvent('created', {
      project,
      stage: 'prod',
      freight,
      promotion: { name: 'prod.x', phase: 'Pending' },
    })
    const ref = { project, kind: 'Stage', name: 'prod' }
    const write = {
      ref,
      resource: { apiVersion: KARGO_API_VERSION, kind: 'Stage', metadata: { name: 'prod' } },
      expect: 'absent' as const,
    }
    await writeAll(stack.db, [{ Put: putItem(stack.db, write, nextVersion(write)) }], 'conflict')

    // The state change fails its condition: the event is not recorded either.
    await expect(
      writeAll(
        stack.db,
        [{ Put: putItem(stack.db, write, nextVersion(write)) }, outboxItem(stack.db, event)],
        'conflict',
      ),
    ).rejects.toThrow('conflict')
    const missing = await stack.db.doc.send(
      new GetCommand({ TableName: stack.db.table, Key: eventKeys.outbox(event) }),
    )
    expect(missing.Item).toBeUndefined()

    // It commits, and the process "crashes" before relaying: the next relay (e.g. the reconcile schedule) sends it.
    const update = {
      ref,
      resource: { apiVersion: KARGO_API_VERSION, kind: 'Stage', metadata: { name: 'prod' }, spec: { x: 1 } },
    }
    await writeAll(
      stack.db,
      [{ Put: putItem(stack.db, update, nextVersion(update)) }, outboxItem(stack.db, event)],
      'conflict',
    )
    await expect(
      relayOutbox({ db: stack.db, sqs: stack.sqs, queueUrl: stack.queues.events }),
    ).resolves.toEqual({ sent: 1, failed: 0 })
    const queued = await peekQueue(stack.sqs, stack.queues.events)
    expect(queued.map((b) => (JSON.parse(b) as CloudEvent).id)).toEqual([event.id])
  })

  it('records a missing signing Secret as a failed delivery (and never POSTs unsigned)', async () => {
    const stack = await eventsStack()
    await createProject(stack.db, project)
    const receiver = await sink()
    await createSubscription(stack.db, project, 'signed', {
      url: receiver.url,
      secretRef: { name: 'absent' },
    })
    const handler = createDeliverHandler({
      db: stack.db,
      sealer: stack.sealer,
      sqs: stack.sqs,
      queueUrl: stack.queues.events,
    })
    const [event] = succeeded()
    await emit(stack, [event!])
    const { Messages } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.events,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ['All'],
      }),
    )
    const m = Messages![0]!
    const record = {
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: { ApproximateReceiveCount: '1' } as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: stack.queues.eventsArn,
      awsRegion: 'us-east-1',
    }
    await expect(handler({ Records: [record] }, localContext('deliver'))).rejects.toThrow(
      /All records failed/,
    )
    expect(receiver.requests).toHaveLength(0)
    await expect(getDelivery(stack.db, project, event!.id, 'signed')).resolves.toMatchObject({
      state: 'failed',
      error: 'Secret "absent" (secretRef) not found in project "guestbook"',
    })
  })

  it('relayPending relays only when the events queue is configured, and never throws', async () => {
    const stack = await eventsStack()
    const event = promotionEvent('created', {
      project,
      stage: 'prod',
      freight,
      promotion: { name: 'prod.y', phase: 'Pending' },
    })
    await writeAll(stack.db, [outboxItem(stack.db, event)], 'conflict')
    await expect(relayPending({ db: stack.db, sqs: stack.sqs, env: {} })).resolves.toBeUndefined()
    const lines: string[] = []
    await expect(
      relayPending({
        db: stack.db,
        sqs: stack.sqs,
        env: { TUGBOAT_EVENTS_QUEUE_URL: `${stack.queues.events}-missing` },
        log: (l) => lines.push(l),
      }),
    ).resolves.toBeUndefined()
    expect(lines.join('\n')).toContain('outbox relay failed')
    await expect(
      relayPending({ db: stack.db, sqs: stack.sqs, env: { TUGBOAT_EVENTS_QUEUE_URL: stack.queues.events } }),
    ).resolves.toEqual({ sent: 1, failed: 0 })
    expect(
      (await peekQueue(stack.sqs, stack.queues.events)).map((b) => (JSON.parse(b) as CloudEvent).id),
    ).toEqual([event.id])
  })

  it('refuses link-local and metadata addresses for good (no retry)', async () => {
    const stack = await eventsStack()
    await createProject(stack.db, project)
    await createSubscription(stack.db, project, 'metadata', {
      url: 'http://169.254.169.254/latest/meta-data/',
    })
    const [event] = succeeded()
    const outcomes = await deliverEvent({ db: stack.db, sealer: stack.sealer }, event!)
    expect(outcomes).toEqual([
      {
        subscription: 'metadata',
        state: 'refused',
        error: 'refusing to deliver to link-local/metadata address 169.254.169.254',
      },
    ])
  })
})
