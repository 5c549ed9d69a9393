import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pollDueWarehouses } from '../../lib/discovery/poller.js'
import { pollDeps } from '../../lib/runtime/discovery.js'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { startTugboat } from '../support/tugboat.js'

const warehouse = (
  project: string,
  name: string,
  registry: Registry,
  extra = '',
) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: ${name}, namespace: ${project}}
spec:
  interval: 1m
${extra}  subscriptions:
  - image:
      repoURL: ${registry.host}/demo/app
      semverConstraint: ^1.x
      discoveryLimit: 5
`

describe('Warehouses against a real registry with htpasswd auth', () => {
  let registry: Registry
  let tugboat: Awaited<ReturnType<typeof startTugboat>>
  const creds = (password: string) => `apiVersion: v1
kind: Secret
metadata:
  name: registry
  namespace: demo
  labels: {kargo.akuity.io/cred-type: image}
stringData: {repoURL: ${registry.host}/demo/app, username: ci, password: ${password}}
`

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { username: 'ci', password: 's3cret' } })
    for (const tag of ['1.4.298', '1.4.299', '2.0.0']) await pushImage(registry, 'demo/app', tag)
    tugboat = await startTugboat({}, { worker: false })
    await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Project\nmetadata: {name: demo}\n',
      'application/yaml',
    )
  }, 120_000)

  afterAll(async () => {
    await tugboat?.stop()
    await registry?.close()
  })

  it('shows a bad credential as a Warehouse condition, not a crash, and recovers when it is fixed', async () => {
    await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      `${creds('wrong')}---\n${warehouse('demo', 'guarded', registry)}`,
      'application/yaml',
    )
    const refreshed = await tugboat.api<any>('POST', '/v1beta1/projects/demo/warehouses/guarded/refresh')
    expect(refreshed.status).toBe(200)
    expect(refreshed.body.result).toMatchObject({ ok: false })
    const ready = refreshed.body.warehouse.status.conditions.find((c: any) => c.type === 'Ready')
    expect(ready).toMatchObject({ status: 'False', reason: 'DiscoveryFailed' })
    expect(ready.message).toBe(`401 from registry ${registry.host} for demo/app: check image credentials`)
    expect(JSON.stringify(refreshed.body)).not.toContain('wrong')

    await tugboat.api('PUT', '/v1beta1/resources?upsert=true', creds('s3cret'), 'application/yaml')
    const fixed = await tugboat.api<any>('POST', '/v1beta1/projects/demo/warehouses/guarded/refresh')
    expect(fixed.body.result.ok).toBe(true)
    const freight = (await tugboat.api<any>('GET', '/v1beta1/projects/demo/freight?origins=guarded')).body
      .groups[''].items
    expect(freight.map((f: any) => f.images[0].tag)).toEqual(['1.4.299'])
  })

  it('with freightCreationPolicy Manual records discovered artifacts and builds Freight only on request', async () => {
    await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      `${creds('s3cret')}---\n${warehouse('demo', 'manual', registry, '  freightCreationPolicy: Manual\n')}`,
      'application/yaml',
    )
    const refreshed = await tugboat.api<any>('POST', '/v1beta1/projects/demo/warehouses/manual/refresh')
    expect(refreshed.body.result).toMatchObject({ ok: true, freightCreated: [] })
    const discovered = refreshed.body.warehouse.status.discoveredArtifacts.images[0]
    expect(discovered.references.map((r: any) => r.tag)).toEqual(['1.4.299', '1.4.298'])
    const bad = await tugboat.api<any>('POST', '/v1beta1/projects/demo/freight', {
      origin: { kind: 'Warehouse', name: 'manual' },
      images: [{ repoURL: `${registry.host}/demo/app`, tag: '2.0.0' }],
    })
    expect(bad.status).toBe(400)
    expect(bad.body.message).toContain('was not discovered')
    const made = await tugboat.api<any>('POST', '/v1beta1/projects/demo/freight', {
      origin: { kind: 'Warehouse', name: 'manual' },
      images: [{ repoURL: `${registry.host}/demo/app`, tag: '1.4.298' }],
    })
    expect(made.status).toBe(201)
    expect(made.body.images[0]).toMatchObject({ tag: '1.4.298', digest: discovered.references[1].digest })
    const again = await tugboat.api<any>('POST', '/v1beta1/projects/demo/freight', {
      origin: { kind: 'Warehouse', name: 'manual' },
      images: [{ repoURL: `${registry.host}/demo/app`, tag: '1.4.298' }],
    })
    expect(again.status).toBe(200)
    expect(again.body.metadata.name).toBe(made.body.metadata.name)
  })

  it('polls each due Warehouse once even when discover invocations overlap', async () => {
    await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      `${warehouse('demo', 'due-a', registry)}---\n${warehouse('demo', 'due-b', registry)}`,
      'application/yaml',
    )
    const deps = pollDeps(tugboat.ctx)
    const [first, second] = await Promise.all([pollDueWarehouses(deps), pollDueWarehouses(deps)])
    const polled = [...first, ...second].filter(
      (r) => r.message !== 'already being polled' && ['due-a', 'due-b'].includes(r.warehouse),
    )
    expect(polled.map((r) => r.warehouse).sort()).toEqual(['due-a', 'due-b'])
    // Not due again until the interval has passed.
    const third = await pollDueWarehouses(deps)
    expect(third.filter((r) => ['due-a', 'due-b'].includes(r.warehouse))).toEqual([])
  })
})
