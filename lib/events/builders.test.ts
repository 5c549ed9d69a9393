import { describe, expect, it } from 'vitest'
import { cdeventsValidator } from '../../test/events/cdevents-schemas.js'
import {
  artifactPublishedEvents,
  deploymentChange,
  discoveryFailedEvent,
  freightApprovedEvent,
  freightInfo,
  MAX_MESSAGE_LENGTH,
  promotionEvent,
  promotionFinishedEvents,
  serviceEvents,
  verificationEvent,
} from './builders.js'
import { EVENT_TYPES, tugboatDataOf, type CloudEvent, type FreightInfo } from './types.js'

const now = new Date('2025-03-01T12:00:00.000Z')
const digest = `sha256:${'a'.repeat(64)}`
const freight: FreightInfo = {
  name: 'f0a3c9e1d2b4a6c8e0f1a2b3c4d5e6f708192a3b',
  alias: 'clever-otter',
  warehouse: 'guestbook',
  discoveredAt: '2025-03-01T10:00:00.000Z',
  images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.2.0', digest }],
  commits: [{ repoURL: 'https://github.com/acme/guestbook-config.git', id: 'c'.repeat(40) }],
}
const older: FreightInfo = {
  name: 'e'.repeat(40),
  alias: 'old-owl',
  discoveredAt: '2025-02-01T10:00:00.000Z',
  images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.1.0', digest: `sha256:${'b'.repeat(64)}` }],
}
const base = { project: 'guestbook', stage: 'prod', freight, actor: 'ci-bot' }
const promotion = (phase: string, message?: string) => ({
  name: 'prod.01jabc.f0a3c9e',
  phase,
  ...(message ? { message } : {}),
})

const everyEmittedType: Array<[string, () => CloudEvent[]]> = [
  [
    'promotion created',
    () => [promotionEvent('created', { ...base, promotion: promotion('Pending') }, { now })],
  ],
  [
    'promotion started',
    () => [promotionEvent('started', { ...base, promotion: promotion('Running') }, { now })],
  ],
  [
    'promotion succeeded + service.deployed',
    () => promotionFinishedEvents({ ...base, promotion: promotion('Succeeded') }, { now }),
  ],
  [
    'promotion succeeded + service.upgraded',
    () =>
      promotionFinishedEvents(
        { ...base, promotion: promotion('Succeeded'), previousFreight: older },
        { now },
      ),
  ],
  [
    'service.rolledback',
    () =>
      serviceEvents(
        {
          ...base,
          freight: older,
          promotion: promotion('Succeeded'),
          change: 'rolledback',
          previousFreight: freight,
        },
        { now },
      ),
  ],
  [
    'promotion failed',
    () =>
      promotionFinishedEvents({ ...base, promotion: promotion('Failed', 'step git-push failed') }, { now }),
  ],
  [
    'promotion errored',
    () => promotionFinishedEvents({ ...base, promotion: promotion('Errored', 'boom') }, { now }),
  ],
  ['promotion aborted', () => promotionFinishedEvents({ ...base, promotion: promotion('Aborted') }, { now })],
  [
    'verification started',
    () => [verificationEvent({ ...base, verification: { id: 'v1', phase: 'Running' } }, { now })],
  ],
  [
    'verification succeeded',
    () => [verificationEvent({ ...base, verification: { id: 'v1', phase: 'Successful' } }, { now })],
  ],
  [
    'verification failed',
    () => [
      verificationEvent(
        { ...base, verification: { id: 'v1', phase: 'Failed', message: 'error rate 7%' } },
        { now },
      ),
    ],
  ],
  ['freight approved', () => [freightApprovedEvent({ ...base }, { now })]],
  [
    'discovery failed',
    () => [
      discoveryFailedEvent(
        { project: 'guestbook', warehouse: 'guestbook', message: 'registry answered 401' },
        { now },
      ),
    ],
  ],
  [
    'artifact published',
    () => artifactPublishedEvents({ project: 'guestbook', warehouse: 'guestbook', freight }, { now }),
  ],
  [
    'artifact published (git-only Freight)',
    () =>
      artifactPublishedEvents(
        {
          project: 'guestbook',
          warehouse: 'config',
          freight: { name: 'x'.repeat(40), commits: freight.commits },
        },
        { now },
      ),
  ],
]

describe('emitted events', () => {
  const validate = cdeventsValidator()

  it.each(everyEmittedType)('%s: valid CDEvents 0.5.1 in a CloudEvents 1.0 envelope', (_name, build) => {
    const events = build()
    expect(events.length).toBeGreaterThan(0)
    for (const event of events) {
      expect(validate(event), event.type).toEqual([])
      expect(event).toMatchObject({
        specversion: '1.0',
        source: '/tugboat/projects/guestbook',
        datacontenttype: 'application/json',
        time: now.toISOString(),
      })
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(tugboatDataOf(event)?.project).toBe('guestbook')
    }
  })

  it('the validator is not vacuous: it rejects a broken CDEvent', () => {
    const [event] = promotionFinishedEvents({ ...base, promotion: promotion('Succeeded') }, { now }).slice(1)
    const data = structuredClone(event!.data) as {
      subject: { content: Record<string, unknown> }
      context: Record<string, unknown>
    }
    delete data.subject.content.artifactId
    data.context.extra = 1
    expect(validate({ ...event!, data }).length).toBeGreaterThanOrEqual(2)
    const custom = promotionEvent('created', { ...base, promotion: promotion('Pending') }, { now })
    expect(
      validate({
        ...custom,
        type: 'dev.cdeventsx.tugboat.promotion.created.0.1.0',
        data: {
          ...(custom.data as object),
          context: {
            ...(custom.data as { context: object }).context,
            type: 'dev.cdeventsx.tugboat.promotion.created.0.1.0',
          },
        },
      }),
    ).not.toEqual([])
  })

  it('covers every type in EVENT_TYPES', () => {
    const types = new Set(everyEmittedType.flatMap(([, build]) => build().map((e) => e.type)))
    expect([...types].sort()).toEqual(Object.values(EVENT_TYPES).sort())
  })

  it('names project, stage, freight {name, alias} and promotion in every promotion event', () => {
    const [event] = promotionFinishedEvents(
      { ...base, promotion: promotion('Failed', 'step failed') },
      { now },
    )
    expect(event!.type).toBe(EVENT_TYPES.promotionFailed)
    expect(tugboatDataOf(event!)).toEqual({
      project: 'guestbook',
      stage: 'prod',
      freight: { name: freight.name, alias: 'clever-otter' },
      promotion: { name: 'prod.01jabc.f0a3c9e', phase: 'Failed', message: 'step failed' },
      actor: 'ci-bot',
    })
  })

  it('describes a deployment as the Stage environment and the image purl', () => {
    const events = promotionFinishedEvents({ ...base, promotion: promotion('Succeeded') }, { now })
    expect(events.map((e) => e.type)).toEqual([EVENT_TYPES.promotionSucceeded, EVENT_TYPES.serviceDeployed])
    const deployed = events[1]!
    expect(deployed.subject).toBe('ghcr.io/acme/guestbook')
    expect((deployed.data as { subject: unknown }).subject).toMatchObject({
      id: 'ghcr.io/acme/guestbook',
      content: {
        environment: { id: 'guestbook/prod' },
        artifactId: `pkg:oci/guestbook@sha256%3A${'a'.repeat(64)}?repository_url=ghcr.io/acme/guestbook&tag=v1.2.0`,
      },
    })
  })

  it.each([
    ['first Freight', undefined, freight, 'deployed'],
    ['newer Freight', older, freight, 'upgraded'],
    ['older Freight', freight, older, 'rolledback'],
    ['the same Freight again', freight, freight, undefined],
  ] as const)('classifies %s as %s', (_name, previous, next, expected) => {
    expect(deploymentChange(previous, next)).toBe(expected)
  })

  it('emits no service event when the same Freight is promoted again', () => {
    const events = promotionFinishedEvents(
      { ...base, promotion: promotion('Succeeded'), previousFreight: freight },
      { now },
    )
    expect(events.map((e) => e.type)).toEqual([EVENT_TYPES.promotionSucceeded])
  })

  it('gives each event its own id, and honours a fixed one', () => {
    const a = promotionEvent('created', { ...base, promotion: promotion('Pending') })
    const b = promotionEvent('created', { ...base, promotion: promotion('Pending') })
    expect(a.id).not.toBe(b.id)
    expect(
      promotionEvent('created', { ...base, promotion: promotion('Pending') }, { id: 'fixed-id' }).id,
    ).toBe('fixed-id')
  })
})

describe('freightInfo', () => {
  it('reads a stored Freight (as completePromotion has it)', async () => {
    const { asFreight } = await import('../store/freight.js')
    const stored = asFreight({
      apiVersion: 'kargo.akuity.io/v1alpha1',
      kind: 'Freight',
      metadata: {
        name: freight.name,
        namespace: 'guestbook',
        resourceVersion: '1',
        uid: 'u',
        generation: 1,
        creationTimestamp: now.toISOString(),
      },
      alias: 'clever-otter',
      origin: { kind: 'Warehouse', name: 'guestbook' },
      images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.2.0', digest, annotations: { a: 'b' } }],
      discoveredAt: '2025-03-01T10:00:00.000Z',
    })
    expect(freightInfo(stored)).toEqual({
      name: freight.name,
      alias: 'clever-otter',
      warehouse: 'guestbook',
      discoveredAt: '2025-03-01T10:00:00.000Z',
      images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.2.0', digest }],
    })
  })

  it('clips long messages so an event always fits in an SQS message', () => {
    const [event] = promotionFinishedEvents(
      { ...base, promotion: promotion('Failed', 'x'.repeat(10_000)) },
      { now },
    )
    expect(tugboatDataOf(event!)?.promotion?.message).toHaveLength(MAX_MESSAGE_LENGTH)
  })
})
