import { describe, expect, it } from 'vitest'
import { imagePurl } from '../../events/purl.js'
import { EVENTS_API_VERSION } from '../../events/subscriptions.js'
import { createFreight } from '../../store/freight.js'
import { getResource, writeResource } from '../../store/resources.js'
import { updateStageStatus } from '../../store/stages.js'
import { eventsApp, projectYaml } from '../../../test/events/app.js'

const project = 'guestbook'
const digest = `sha256:${'2'.repeat(64)}`

function artifactPublished(id: string, subjectId: string) {
  return {
    context: {
      specversion: '0.5.1',
      id,
      source: '/ci/acme',
      type: 'dev.cdevents.artifact.published.0.3.0',
      timestamp: '2025-03-01T12:00:00Z',
    },
    subject: { id: subjectId, content: {} },
  }
}

async function setUp(overrides: Parameters<typeof eventsApp>[0] = {}) {
  const harness = await eventsApp(overrides)
  await harness.apply(projectYaml(project))
  return harness
}

describe('POST /v1beta1/projects/{project}/events', () => {
  it('binary mode: artifact.published refreshes the Warehouses subscribed to the image', async () => {
    const { call, refreshed } = await setUp()
    const purl = imagePurl({ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.3.0', digest })
    const response = await call('POST', `/v1beta1/projects/${project}/events`, {
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'evt-1',
        'ce-source': '/ci/acme',
        'ce-type': 'dev.cdevents.artifact.published.0.3.0',
        'ce-subject': encodeURIComponent(purl),
      },
      body: JSON.stringify(artifactPublished('evt-1', purl)),
    })
    expect(response.status).toBe(202)
    expect(await response.json()).toEqual({
      id: 'evt-1',
      type: 'dev.cdevents.artifact.published.0.3.0',
      duplicate: false,
      actions: [{ action: 'refresh', warehouse: 'images', ok: true }],
    })
    expect(refreshed).toEqual([{ project, warehouse: 'images' }])
  })

  it('structured mode: a repeated event id is acknowledged and does nothing', async () => {
    const { call, refreshed } = await setUp()
    const event = {
      specversion: '1.0',
      id: 'evt-dup',
      source: '/ci/acme',
      type: 'dev.cdevents.artifact.published.0.3.0',
      data: artifactPublished('evt-dup', 'pkg:github/acme/guestbook-config@abc123'),
    }
    const send = () =>
      call('POST', `/v1beta1/projects/${project}/events`, {
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(event),
      })
    const first = await send()
    expect(first.status).toBe(202)
    expect(
      ((await first.json()) as { actions: Array<{ warehouse: string }> }).actions
        .map((a) => a.warehouse)
        .sort(),
    ).toEqual(['config', 'docs'])
    const second = await send()
    expect(second.status).toBe(200)
    expect(await second.json()).toMatchObject({ id: 'evt-dup', duplicate: true })
    expect(refreshed).toHaveLength(2)
  })

  it('answers 400 naming an unknown type, and does nothing', async () => {
    const { call, refreshed } = await setUp()
    const response = await call('POST', `/v1beta1/projects/${project}/events`, {
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'evt-x',
        source: '/x',
        type: 'com.example.thing.happened',
      }),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      code: 'validation',
      message: expect.stringContaining('"com.example.thing.happened"'),
    })
    expect(refreshed).toEqual([])
  })

  it.each([
    ['no CloudEvent at all', { 'content-type': 'text/plain' }, 'hello', 'send a CloudEvent'],
    [
      'a structured event without an id',
      { 'content-type': 'application/cloudevents+json' },
      JSON.stringify({ specversion: '1.0', source: '/x', type: 'dev.cdevents.artifact.published.0.3.0' }),
      'id',
    ],
    ['a batch', { 'content-type': 'application/cloudevents-batch+json' }, '[]', 'batched'],
    [
      'an artifact event without a purl',
      { 'content-type': 'application/cloudevents+json' },
      JSON.stringify({
        specversion: '1.0',
        id: 'e',
        source: '/x',
        type: 'dev.cdevents.artifact.published.0.3.0',
        data: { nothing: true },
      }),
      'purl',
    ],
  ])('answers 400 for %s', async (_name, headers, body, message) => {
    const { call } = await setUp()
    const response = await call('POST', `/v1beta1/projects/${project}/events`, { headers, body })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { message: string }).message).toContain(message)
  })

  it('needs the promoter role', async () => {
    const { call } = await setUp()
    const viewer = (await (
      await call('POST', `/v1beta1/projects/${project}/roles/kargo-viewer/api-tokens`, {
        body: { name: 'watcher' },
      })
    ).json()) as { token: string }
    const response = await call('POST', `/v1beta1/projects/${project}/events`, {
      token: viewer.token,
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'e',
        source: '/x',
        type: 'dev.cdevents.artifact.published.0.3.0',
      }),
    })
    expect(response.status).toBe(403)
    expect((await call('POST', `/v1beta1/projects/${project}/events`, { token: null })).status).toBe(401)
  })

  it('promotion.requested promotes, as the calling token', async () => {
    const calls: unknown[] = []
    const { call } = await setUp({
      promote: async (input) => {
        calls.push(input)
        return { metadata: { name: 'prod.01jxyz.abcdef0' } }
      },
    })
    const response = await call('POST', `/v1beta1/projects/${project}/events`, {
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'req-1',
        source: '/ci/acme',
        type: 'dev.cdeventsx.tugboat-promotion.requested.0.1.0',
        data: {
          context: {
            specversion: '0.5.1',
            id: 'req-1',
            source: '/ci/acme',
            type: 'dev.cdeventsx.tugboat-promotion.requested.0.1.0',
            timestamp: '2025-03-01T12:00:00Z',
          },
          subject: { id: 'guestbook/prod', content: { stage: 'prod', freightAlias: 'brave-fox' } },
        },
      }),
    })
    expect(response.status).toBe(202)
    expect(await response.json()).toMatchObject({
      actions: [{ action: 'promote', stage: 'prod', promotion: 'prod.01jxyz.abcdef0' }],
    })
    expect(calls).toEqual([
      {
        project,
        stage: 'prod',
        selector: { freightAlias: 'brave-fox' },
        actor: { name: 'admin', role: 'system-admin' },
      },
    ])
  })

  it('promotion.requested uses promoteToStage when no promote is injected (the real engine path)', async () => {
    const queued: unknown[] = []
    const { call, db } = await setUp({ enqueuePromotion: async (message) => void queued.push(message) })
    await createFreight(db, {
      project,
      name: 'b'.repeat(40),
      alias: 'calm-heron',
      origin: { kind: 'Warehouse', name: 'images' },
      images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.3.0', digest }],
      discoveredAt: new Date(),
    })
    const response = await call('POST', `/v1beta1/projects/${project}/events`, {
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'req-2',
        source: '/ci',
        type: 'dev.cdeventsx.tugboat-promotion.requested.0.1.0',
        data: { stage: 'prod', freightAlias: 'calm-heron' },
      }),
    })
    expect(response.status).toBe(202)
    const { actions } = (await response.json()) as { actions: Array<{ promotion: string }> }
    expect(actions[0]!.promotion).toMatch(/^prod\./)
    expect(queued).toEqual([{ project, stage: 'prod', promotion: actions[0]!.promotion }])
    const promotion = await getResource(db, { project, kind: 'Promotion', name: actions[0]!.promotion })
    expect(promotion).toMatchObject({
      spec: { stage: 'prod', freight: 'b'.repeat(40) },
      status: { phase: 'Pending' },
    })
  })

  it('testsuiterun.finished records a verification of the current Freight; wrong Freight is 409 and can be resent', async () => {
    const { call, db } = await setUp()
    const { freight } = await createFreight(db, {
      project,
      name: 'a'.repeat(40),
      alias: 'brave-fox',
      origin: { kind: 'Warehouse', name: 'images' },
      images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1.3.0', digest }],
      discoveredAt: new Date(),
    })
    await updateStageStatus(db, project, 'prod', (status) => ({
      ...status,
      phase: 'Verifying',
      freightHistory: [
        {
          id: 'c1',
          items: {
            'Warehouse/images': {
              name: freight.metadata.name,
              origin: { kind: 'Warehouse', name: 'images' },
            },
          },
          verificationHistory: [],
        },
      ],
    }))
    const event = (id: string, freightName: string) => ({
      specversion: '1.0',
      id,
      source: '/ci/e2e',
      type: 'dev.cdevents.testsuiterun.finished.0.3.0',
      data: {
        context: {
          specversion: '0.5.1',
          id,
          source: '/ci/e2e',
          type: 'dev.cdevents.testsuiterun.finished.0.3.0',
          timestamp: '2025-03-01T12:00:00Z',
        },
        subject: {
          id: 'run-42',
          content: {
            environment: { id: `${project}/prod` },
            outcome: 'success',
            testSuite: { id: 'smoke', name: 'smoke' },
          },
        },
        customData: { freight: freightName },
      },
    })
    const send = (body: object) =>
      call('POST', `/v1beta1/projects/${project}/events`, {
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(body),
      })

    const wrong = await send(event('run-42', 'other-freight'))
    expect(wrong.status).toBe(409)
    const right = await send(event('run-42', 'brave-fox'))
    expect(right.status).toBe(202)
    expect(await right.json()).toMatchObject({
      actions: [{ action: 'verify', stage: 'prod', freight: freight.metadata.name, phase: 'Successful' }],
    })

    const stage = await getResource(db, { project, kind: 'Stage', name: 'prod' })
    expect(stage?.status).toMatchObject({
      phase: 'Steady',
      freightHistory: [
        {
          verificationHistory: [
            { id: 'run-42', phase: 'Successful', actor: 'admin', message: 'test suite smoke: success' },
          ],
        },
      ],
    })
    const verified = await getResource(db, { project, kind: 'Freight', name: freight.metadata.name })
    expect(verified?.status).toMatchObject({ verifiedIn: { prod: {} } })
  })
})

describe('GET /v1beta1/projects/{project}/event-subscriptions', () => {
  it('lists and gets subscriptions with their delivery status, never a secret', async () => {
    const { call, apply, db } = await setUp()
    await apply(`
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: ${project}, labels: {kargo.akuity.io/cred-type: generic}}
stringData: {secret: do-not-show}
`)
    // EventSubscription is not an applicable kind until the lead adds it; store it as apply would.
    await writeResource(db, {
      ref: { project, kind: 'EventSubscription', name: 'slack' },
      resource: {
        apiVersion: EVENTS_API_VERSION,
        kind: 'EventSubscription',
        metadata: { name: 'slack' },
        spec: { url: 'https://hooks.example.com/x', secretRef: { name: 'hook' } },
      },
    })
    const list = await call('GET', `/v1beta1/projects/${project}/event-subscriptions`)
    expect(list.status).toBe(200)
    const body = await list.text()
    expect(JSON.parse(body)).toMatchObject({
      kind: 'EventSubscriptionList',
      items: [{ metadata: { name: 'slack' }, spec: { secretRef: { name: 'hook' } } }],
    })
    expect(body).not.toContain('do-not-show')
    expect((await call('GET', `/v1beta1/projects/${project}/event-subscriptions/slack`)).status).toBe(200)
    expect((await call('GET', `/v1beta1/projects/${project}/event-subscriptions/nope`)).status).toBe(404)
  })
})
