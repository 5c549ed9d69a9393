import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { listResources } from '../../lib/store/resources.js'
import { testApp } from '../support/stack.js'

const example = (file: string) => fs.readFileSync(path.resolve(__dirname, '../../examples', file), 'utf8')
const sillyDemo = () =>
  fs
    .readdirSync(path.resolve(__dirname, '../../examples/silly-demo'))
    .sort()
    .map((f) => example(`silly-demo/${f}`))
    .join('\n---\n')

describe('/v1beta1 auth', () => {
  it.each([
    ['no token', null, 'missing bearer token'],
    ['a bad token', 'tb_nope', 'not valid'],
  ])('answers 401 with a JSON error for %s', async (_name, token, message) => {
    const { call } = await testApp()
    const response = await call('GET', '/v1beta1/projects', { token })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      code: 'unauthenticated',
      message: expect.stringContaining(message),
    })
  })

  it('leaves /healthz and the OpenAPI document open', async () => {
    const { call } = await testApp()
    expect((await call('GET', '/healthz', { token: null })).status).toBe(200)
    const doc = (await (await call('GET', '/v1beta1/openapi.json', { token: null })).json()) as {
      paths: Record<string, unknown>
      components: { schemas: Record<string, unknown> }
    }
    expect(doc.paths).toHaveProperty('/v1beta1/resources')
    expect(doc.components.schemas).toHaveProperty('Warehouse')
  })

  it('gives project roles only what they allow (403 otherwise)', async () => {
    const { call } = await testApp()
    await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', { body: sillyDemo() })
    const viewer = (await (
      await call('POST', '/v1beta1/projects/silly-demo/roles/kargo-viewer/api-tokens', {
        body: { name: 'ci-viewer' },
      })
    ).json()) as { token: string }
    expect(viewer.token).toMatch(/^tb_/)
    expect((await call('GET', '/v1beta1/projects/silly-demo/stages', { token: viewer.token })).status).toBe(
      200,
    )
    const write = await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', {
      body: example('silly-demo/warehouse.yaml'),
      token: viewer.token,
    })
    expect(write.status).toBe(403)
    expect(await write.json()).toMatchObject({ code: 'forbidden' })
    expect((await call('GET', '/v1beta1/projects/other/stages', { token: viewer.token })).status).toBe(403)
    const tokens = (await (await call('GET', '/v1beta1/projects/silly-demo/api-tokens')).json()) as {
      items: Array<Record<string, unknown>>
    }
    expect(tokens.items).toEqual([expect.objectContaining({ name: 'ci-viewer', role: 'kargo-viewer' })])
    expect(JSON.stringify(tokens)).not.toContain(viewer.token)
  })
})

describe('/v1beta1/resources', () => {
  it('applies the seed 004 manifests into a project and lists the Stages with their sources', async () => {
    const { call } = await testApp()
    const response = await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', {
      body: sillyDemo(),
    })
    expect(response.status).toBe(200)
    const { results } = (await response.json()) as { results: Array<Record<string, any>> }
    expect(results).toHaveLength(6)
    expect(results.every((r) => r.createdResourceManifest)).toBe(true)
    const stages = (await (await call('GET', '/v1beta1/projects/silly-demo/stages')).json()) as {
      items: Array<any>
    }
    expect(stages.items.map((s) => s.metadata.name).sort()).toEqual(['dev', 'pre-prod', 'prod'])
    const preProd = stages.items.find((s) => s.metadata.name === 'pre-prod')
    expect(preProd.spec.requestedFreight[0]).toEqual({
      origin: { kind: 'Warehouse', name: 'silly-demo' },
      sources: { stages: ['dev'] },
    })
    expect(preProd.metadata).toMatchObject({ namespace: 'silly-demo', resourceVersion: '1', generation: 1 })
  })

  it('never returns a Secret, and stores it sealed', async () => {
    const { call, db } = await testApp()
    const response = await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', {
      body: sillyDemo(),
    })
    const text = await response.text()
    expect(text).not.toContain('your-github-pat')
    expect(text).toContain('"kind":"Secret"')
    const raw = await db.doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: db.table,
        Key: { PK: 'P#silly-demo', SK: 'Credential#silly-demo-repo' },
      }),
    )
    expect(JSON.stringify(raw.Item)).not.toContain('your-github-pat')
    expect(raw.Item?.sealed).toMatch(/^v1\./)
  })

  it.each([
    [
      'a misspelt field',
      example('silly-demo/warehouse.yaml').replace('discoveryLimit', 'discoverLimit'),
      'spec.subscriptions[0].image.discoverLimit: unknown field',
    ],
    [
      'a wrong type',
      example('silly-demo/warehouse.yaml').replace('discoveryLimit: 5', 'discoveryLimit: five'),
      'spec.subscriptions[0].image.discoveryLimit',
    ],
    [
      'broken YAML',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehouse\nmetadata:\n  name: [oops\n',
      'invalid YAML at line',
    ],
    [
      'an unknown kind',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehous\nmetadata: {name: x}\n',
      'unknown kind',
    ],
  ])('answers 400 for %s, naming the problem, and writes nothing', async (_name, bad, message) => {
    const { call, db } = await testApp()
    await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', {
      body: example('silly-demo/project.yaml'),
    })
    const response = await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', {
      body: `${example('silly-demo/stage-dev.yaml')}\n---\n${bad}`,
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { message: string }).message).toContain(message)
    expect(await listResources(db, 'silly-demo', 'Stage')).toEqual([])
    expect(await listResources(db, 'silly-demo', 'Warehouse')).toEqual([])
  })

  it('answers 409 to create an existing resource, and to a stale resourceVersion', async () => {
    const { call } = await testApp()
    const project = example('silly-demo/project.yaml')
    expect((await call('POST', '/v1beta1/resources', { body: project })).status).toBe(201)
    const again = await call('POST', '/v1beta1/resources', { body: project })
    expect(again.status).toBe(409)
    expect(((await again.json()) as { message: string }).message).toContain('already exists')
    await call('PUT', '/v1beta1/resources?upsert=true', { body: project })
    const stale = project.replace('  name: silly-demo', '  name: silly-demo\n  resourceVersion: "1"')
    const conflict = await call('PUT', '/v1beta1/resources', { body: stale })
    expect(conflict.status).toBe(409)
  })

  it('is all or nothing: a document in a missing project fails the whole request', async () => {
    const { call, db } = await testApp()
    const body = `${example('silly-demo/project.yaml')}\n---\n${example('silly-demo/warehouse.yaml').replace('name: silly-demo', 'name: silly-demo\n  namespace: elsewhere')}`
    const response = await call('PUT', '/v1beta1/resources?upsert=true', { body })
    expect(response.status).toBe(404)
    expect(((await response.json()) as { message: string }).message).toContain(
      'project "elsewhere" does not exist',
    )
    expect(await listResources(db, '', 'Project')).toEqual([])
  })

  it('answers 413 for a body over 1 MB', async () => {
    const { call } = await testApp()
    const response = await call('POST', '/v1beta1/resources', { body: `# ${'x'.repeat(1024 * 1024 + 10)}\n` })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ code: 'too_large' })
  })

  it('updates bump resourceVersion and generation, keep status, and delete removes', async () => {
    const { call } = await testApp()
    await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', {
      body: `${example('silly-demo/project.yaml')}\n---\n${example('silly-demo/warehouse.yaml')}`,
    })
    const changed = example('silly-demo/warehouse.yaml').replace('discoveryLimit: 5', 'discoveryLimit: 6')
    await call('PUT', '/v1beta1/resources?upsert=true&project=silly-demo', { body: changed })
    const warehouse = (await (
      await call('GET', '/v1beta1/projects/silly-demo/warehouses/silly-demo')
    ).json()) as any
    expect(warehouse.metadata).toMatchObject({ resourceVersion: '2', generation: 2 })
    expect(warehouse.spec.subscriptions[0].image.discoveryLimit).toBe(6)
    const deleted = await call('DELETE', '/v1beta1/resources?project=silly-demo', { body: changed })
    expect(deleted.status).toBe(200)
    expect((await call('GET', '/v1beta1/projects/silly-demo/warehouses/silly-demo')).status).toBe(404)
  })
})
