import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { startTugboat } from '../support/tugboat.js'

describe('CloudEvents in, through the real API: artifact.published refreshes at once; promotion.requested promotes', () => {
  let registry: Registry
  let tugboat: Awaited<ReturnType<typeof startTugboat>>
  const post = (event: Record<string, unknown>, id: string) =>
    fetch(`${tugboat.url}/v1beta1/projects/events-demo/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tugboat.env.TUGBOAT_TOKEN}`,
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': '/ci/test',
        'ce-type': String(event.type),
      },
      body: JSON.stringify(event.data),
    })

  beforeAll(async () => {
    registry = await startRegistry()
    await pushImage(registry, 'demo/app', '1.0.0')
    tugboat = await startTugboat({}, { worker: false })
    const applied = await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata: {name: events-demo}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: events-demo}
spec:
  interval: 1h
  subscriptions:
  - image: {repoURL: ${registry.host}/demo/app}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: test, namespace: events-demo}
spec:
  requestedFreight: [{origin: {kind: Warehouse, name: app}, sources: {direct: true}}]
  promotionTemplate: {spec: {steps: [{uses: git-clear, config: {path: ./out}}]}}
`,
      'application/yaml',
    )
    expect(applied.status).toBe(200)
  }, 120_000)

  afterAll(async () => {
    await tugboat?.stop()
    await registry?.close()
  })

  it('creates Freight for a newly published tag within a second, without waiting for the schedule', async () => {
    await pushImage(registry, 'demo/app', '1.1.0')
    const started = Date.now()
    const response = await post(
      {
        type: 'dev.cdevents.artifact.published.0.3.0',
        data: {
          subject: { id: `pkg:oci/app?repository_url=${registry.host}/demo/app&tag=1.1.0`, content: {} },
        },
      },
      'publish-1.1.0',
    )
    expect(response.status, await response.clone().text()).toBe(202)
    const freight = (await tugboat.api<any>('GET', '/v1beta1/projects/events-demo/freight')).body.groups['']
      .items
    expect(Date.now() - started).toBeLessThan(1000)
    expect(freight[0].images[0].tag).toBe('1.1.0')
    // The same event again is ignored.
    const again = await post(
      {
        type: 'dev.cdevents.artifact.published.0.3.0',
        data: {
          subject: { id: `pkg:oci/app?repository_url=${registry.host}/demo/app&tag=1.1.0`, content: {} },
        },
      },
      'publish-1.1.0',
    )
    expect(again.status).toBeLessThan(300)
    expect(
      (await tugboat.api<any>('GET', '/v1beta1/projects/events-demo/freight')).body.groups[''].items,
    ).toHaveLength(1)
  })

  it('promotes on a promotion.requested event, and refuses unknown types with 400', async () => {
    const [freight] = (await tugboat.api<any>('GET', '/v1beta1/projects/events-demo/freight')).body.groups['']
      .items
    const response = await post(
      {
        type: 'dev.cdeventsx.tugboat-promotion.requested.0.1.0',
        data: { stage: 'test', freightAlias: freight.alias },
      },
      'promote-1',
    )
    expect(response.status, await response.clone().text()).toBe(202)
    const promotions = (await tugboat.api<any>('GET', '/v1beta1/projects/events-demo/promotions?stage=test'))
      .body.items
    expect(promotions).toHaveLength(1)
    expect(promotions[0].spec.freight).toBe(freight.metadata.name)
    const unknown = await post({ type: 'dev.example.unknown.0.1.0', data: {} }, 'unknown-1')
    expect(unknown.status).toBe(400)
    expect(await unknown.text()).toContain('dev.example.unknown')
  })
})
