import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pollWarehouse } from '../../lib/discovery/poller.js'
import { pendingOutbox } from '../../lib/events/store.js'
import type { Db } from '../../lib/store/client.js'
import { createFreight } from '../../lib/store/freight.js'
import { runStageVerification } from '../../lib/reconcile/analysis.js'
import { requireStage, updateStageStatus } from '../../lib/store/stages.js'
import { testApp } from '../support/stack.js'

/*
 * The lifecycle events that are written where their state change is written (the outbox, same transaction):
 * freight approved, Promotion aborted while Pending, verification started, and Warehouse discovery failed.
 */

const project = 'lifecycle'

const manifests = (registry: string) => `
apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata: {name: ${project}}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: ${project}}
spec:
  subscriptions:
  - image: {repoURL: ${registry}/acme/app}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: smoke, namespace: ${project}}
spec:
  metrics:
  - name: smoke
    provider: {web: {url: "http://127.0.0.1:1/never-called-before-the-interval"}}
    initialDelay: 1h
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: test, namespace: ${project}}
spec:
  requestedFreight:
  - origin: {kind: Warehouse, name: app}
    sources: {direct: true}
  verification:
    analysisTemplates: [{name: smoke}]
  promotionTemplate:
    spec:
      steps:
      - uses: fail
        config: {message: never runs in this test}
`

interface Event {
  type: string
  data: Record<string, any>
}

async function outbox(db: Db): Promise<Event[]> {
  return (await pendingOutbox(db, 100)).map((entry) => JSON.parse(entry.body) as Event)
}

const ofType = (events: Event[], suffix: string) => events.filter((e) => e.type.includes(suffix))

let registry: http.Server
let registryHost = ''
beforeAll(async () => {
  // A registry that refuses every caller: discovery fails with a 401 that names the credentials.
  registry = http.createServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
  })
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
  registryHost = `127.0.0.1:${(registry.address() as AddressInfo).port}`
})
afterAll(() => registry.close())

async function setUp() {
  const harness = await testApp({ enqueuePromotion: async () => undefined })
  const applied = await harness.call('PUT', '/v1beta1/resources?upsert=true', {
    body: manifests(registryHost),
  })
  expect(applied.status).toBe(200)
  const { freight } = await createFreight(harness.db, {
    project,
    name: 'f'.repeat(40),
    alias: 'brave-otter',
    origin: { kind: 'Warehouse', name: 'app' },
    images: [{ repoURL: `${registryHost}/acme/app`, tag: '1.0.0', digest: 'sha256:abc' }],
    discoveredAt: new Date(),
  })
  return { ...harness, freight }
}

describe('lifecycle events', () => {
  it('approving Freight publishes freight.approved once, naming the Stage, the Freight and its alias', async () => {
    const { call, db, freight } = await setUp()
    const approve = () =>
      call('POST', `/v1beta1/projects/${project}/freight/brave-otter/approve`, { body: { stage: 'test' } })
    expect((await approve()).status).toBe(200)
    expect((await approve()).status).toBe(200)
    const approved = ofType(await outbox(db), 'freight.approved')
    expect(approved).toHaveLength(1)
    expect(approved[0]!.data.customData).toMatchObject({
      project,
      stage: 'test',
      freight: { name: freight.metadata.name, alias: 'brave-otter' },
      warehouse: 'app',
      actor: expect.any(String),
    })
  })

  it('aborting a Pending Promotion publishes promotion.aborted with the change', async () => {
    const { call, db } = await setUp()
    const created = await call('POST', `/v1beta1/projects/${project}/stages/test/promotions`, {
      body: { freight: 'brave-otter' },
    })
    expect(created.status).toBe(201)
    const name = ((await created.json()) as { metadata: { name: string } }).metadata.name
    const aborted = await call('POST', `/v1beta1/projects/${project}/promotions/${name}/abort`)
    expect(aborted.status).toBe(200)
    expect(await aborted.json()).toMatchObject({ status: { phase: 'Aborted' } })
    const events = ofType(await outbox(db), 'promotion.aborted')
    expect(events).toHaveLength(1)
    expect(events[0]!.data.customData).toMatchObject({
      stage: 'test',
      promotion: { name, phase: 'Aborted' },
      freight: { alias: 'brave-otter' },
    })
    // A second abort is refused: the Promotion has finished.
    expect((await call('POST', `/v1beta1/projects/${project}/promotions/${name}/abort`)).status).toBe(409)
    expect(ofType(await outbox(db), 'promotion.aborted')).toHaveLength(1)
  })

  it('starting a verification run publishes verification.started once', async () => {
    const { db, freight } = await setUp()
    await updateStageStatus(db, project, 'test', (status) => ({
      ...status,
      phase: 'Verifying',
      freightHistory: [
        {
          id: 'c'.repeat(40),
          items: {
            'Warehouse/app': { name: freight.metadata.name, origin: { kind: 'Warehouse', name: 'app' } },
          },
        },
      ],
    }))
    const first = await runStageVerification({ db }, await requireStage(db, project, 'test'))
    expect(first).toMatchObject({ phase: 'Running' })
    // The next reconcile finds the run already started: nothing new is published.
    await runStageVerification({ db }, await requireStage(db, project, 'test'))
    const started = ofType(await outbox(db), 'verification.started')
    expect(started).toHaveLength(1)
    expect(started[0]!.data.customData).toMatchObject({
      stage: 'test',
      freight: { name: freight.metadata.name },
      verification: { phase: 'Running', id: expect.stringMatching(/^test\./) },
    })
  })

  it('a failing Warehouse publishes discovery.failed once per distinct reason, without secrets', async () => {
    const { db } = await setUp()
    const poll = () =>
      pollWarehouse(
        { db, credentials: async () => ({ username: 'robot', password: 's3cret-pass' }) },
        project,
        'app',
        { force: true },
      )
    expect(await poll()).toMatchObject({ ok: false, message: expect.stringMatching(/401/) })
    expect(await poll()).toMatchObject({ ok: false })
    const failed = ofType(await outbox(db), 'discovery.failed')
    expect(failed).toHaveLength(1)
    expect(failed[0]!.data.customData).toMatchObject({
      project,
      warehouse: 'app',
      message: expect.stringMatching(/401/),
    })
    expect(JSON.stringify(await outbox(db))).not.toContain('s3cret-pass')
  })
})
