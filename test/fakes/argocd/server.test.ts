import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock, type ManualClock } from './clock.js'
import { startFakeArgoCD, type FakeArgoCD } from './server.js'
import { swaggerValidator } from './swagger.js'

const TOKEN = 'header.payload.signature'
const SHA1 = 'a'.repeat(40)
const SHA2 = 'b'.repeat(40)

const validator = swaggerValidator({ strict: true })

let fake: FakeArgoCD
let clock: ManualClock

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; header?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {}
  if (options.header) headers.authorization = options.header
  else if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(fake.url + path, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  })
  const json: unknown = await response.json()
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not an object')
  return { status: response.status, json: { ...json } }
}

/** Steps the fake's clock by 10 ms until `probe` answers. */
function until<T>(probe: () => T | undefined, limitMs = 10_000): T {
  for (let elapsed = 0; elapsed <= limitMs; elapsed += 10) {
    const value = probe()
    if (value !== undefined) return value
    clock.advance(10)
  }
  throw new Error('condition not reached in time')
}

function field(value: unknown, ...path: Array<string | number>): unknown {
  let node = value
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string | number, unknown>)[key]
  }
  return node
}

beforeEach(async () => {
  clock = manualClock()
  fake = await startFakeArgoCD({
    token: TOKEN,
    clock: clock.now,
    timing: { startDelayMs: 5, syncDurationMs: 80, reconcileDelayMs: 60, refreshDelayMs: 10 },
    apps: [
      {
        name: 'guestbook',
        project: 'team',
        annotations: { 'kargo.akuity.io/authorized-stage': 'kargo-demo:test' },
        labels: { tier: 'web' },
        source: { repoURL: 'https://git.example.com/gitops.git', path: 'stages/test', targetRevision: SHA1 },
      },
      {
        name: 'multi',
        sources: [
          { repoURL: 'https://charts.example.com', chart: 'app', targetRevision: '1.0.0' },
          { repoURL: 'https://git.example.com/values.git', targetRevision: SHA1, ref: 'values' },
        ],
      },
      {
        name: 'auto',
        automated: true,
        source: { repoURL: 'https://git.example.com/gitops.git', path: 'auto', targetRevision: 'main' },
      },
    ],
  })
})

afterEach(async () => {
  await fake.close()
})

describe('fake Argo CD: shapes follow the swagger', () => {
  it('answers GET with a valid v1alpha1Application (single and multi-source), int64 as numbers', async () => {
    for (const name of ['guestbook', 'multi', 'auto']) {
      const { status, json } = await call('GET', `/api/v1/applications/${name}`)
      expect(status).toBe(200)
      expect(validator.validate('v1alpha1Application', json)).toEqual([])
      expect(typeof field(json, 'status', 'history', 0, 'id')).toBe('number')
    }
  })

  it('lists with a label selector as a valid v1alpha1ApplicationList', async () => {
    const { status, json } = await call('GET', '/api/v1/applications?selector=tier%3Dweb')
    expect(status).toBe(200)
    expect(validator.validate('v1alpha1ApplicationList', json)).toEqual([])
    expect((json.items as unknown[]).map((a) => field(a, 'metadata', 'name'))).toEqual(['guestbook'])
    const none = await call('GET', '/api/v1/applications?selector=tier%20notin%20(web),!nothing')
    expect((none.json.items as unknown[]).length).toBe(2)
  })

  it('answers errors in the grpc-gateway runtimeError shape', async () => {
    const { status, json } = await call('GET', '/api/v1/applications/nope')
    expect(status).toBe(403)
    expect(validator.validate('runtimeError', json)).toEqual([])
    expect(json).toEqual({ error: 'permission denied', code: 7, message: 'permission denied' })
  })

  it('refuses seeds that do not match the swagger', async () => {
    await expect(
      startFakeArgoCD({
        token: TOKEN,
        apps: [{ name: 'bad', source: { repoURL: 'x', targetRevison: 'typo' } }],
      }),
    ).rejects.toThrow(/unknown field "targetRevison"/)
  })
})

describe('fake Argo CD: auth and visibility', () => {
  it('needs a case-sensitive Bearer token with three parts', async () => {
    expect((await call('GET', '/api/v1/applications/guestbook', { token: null })).status).toBe(401)
    expect((await call('GET', '/api/v1/applications/guestbook', { token: 'a.b.wrong' })).status).toBe(401)
    expect((await call('GET', '/api/v1/applications/guestbook', { header: `bearer ${TOKEN}` })).status).toBe(
      401,
    )
    const denied = await call('GET', '/api/v1/applications/guestbook', { token: 'no-dots' })
    expect(denied.json).toMatchObject({ code: 16, message: 'no session information' })
  })

  it('hides absence behind 403 unless a project is given', async () => {
    expect((await call('GET', '/api/v1/applications/missing')).status).toBe(403)
    expect((await call('GET', '/api/v1/applications/missing?project=team')).status).toBe(404)
    expect((await call('GET', '/api/v1/applications/guestbook?project=other')).status).toBe(404)
    expect((await call('GET', '/api/v1/applications/guestbook?project=team')).status).toBe(200)
    expect((await call('GET', '/api/v1/applications/guestbook?projects=a&projects=b')).status).toBe(400)
    expect((await call('GET', '/api/v1/applications/guestbook?appNamespace=elsewhere')).status).toBe(403)
  })
})

describe('fake Argo CD: PATCH', () => {
  it('applies a merge patch, keeps only spec and metadata, and drops operation/status', async () => {
    const patch = {
      metadata: { annotations: { 'argocd.argoproj.io/refresh': 'hard' } },
      spec: { source: { targetRevision: SHA2 } },
      operation: { sync: { revision: SHA2 } },
      status: { health: { status: 'Degraded' } },
    }
    const { status, json } = await call('PATCH', '/api/v1/applications/guestbook', {
      body: { name: 'guestbook', patchType: 'merge', patch: JSON.stringify(patch) },
    })
    expect(status).toBe(200)
    expect(field(json, 'spec', 'source', 'targetRevision')).toBe(SHA2)
    expect(field(json, 'spec', 'source', 'path')).toBe('stages/test')
    expect(field(json, 'operation')).toBeUndefined()
    expect(field(json, 'status', 'health', 'status')).toBe('Healthy')
    expect(field(json, 'metadata', 'annotations', 'kargo.akuity.io/authorized-stage')).toBe('kargo-demo:test')
    // The refresh is processed by the controller: annotation removed, app compared again.
    const app = until(() => {
      const a = fake.app('guestbook')
      return a.metadata.annotations?.['argocd.argoproj.io/refresh'] === undefined ? a : undefined
    })
    expect(app.status.sync.status).toBe('OutOfSync')
  })

  it('applies JSON patches and answers 500 when a test op fails', async () => {
    const ok = await call('PATCH', '/api/v1/applications/multi', {
      body: {
        patchType: 'json',
        patch: JSON.stringify([
          { op: 'test', path: '/spec/sources/0/chart', value: 'app' },
          { op: 'replace', path: '/spec/sources/0/targetRevision', value: '1.1.0' },
        ]),
      },
    })
    expect(ok.status).toBe(200)
    expect(field(ok.json, 'spec', 'sources', 0, 'targetRevision')).toBe('1.1.0')
    const bad = await call('PATCH', '/api/v1/applications/multi', {
      body: {
        patchType: 'json',
        patch: JSON.stringify([{ op: 'test', path: '/spec/sources/0/chart', value: 'x' }]),
      },
    })
    expect(bad.status).toBe(500)
    expect(String(bad.json.message)).toMatch(/error applying patch/)
  })

  it('rejects bodies that do not match ApplicationPatchRequest, and unsupported patch types', async () => {
    const objectPatch = await call('PATCH', '/api/v1/applications/guestbook', {
      body: { patchType: 'merge', patch: { spec: {} } },
    })
    expect(objectPatch.status).toBe(400)
    expect(String(objectPatch.json.message)).toMatch(/\/patch: must be string/)
    const missing = await call('PATCH', '/api/v1/applications/guestbook', { body: { patch: '{}' } })
    expect(missing.status).toBe(500)
    const strategic = await call('PATCH', '/api/v1/applications/guestbook', {
      body: { patchType: 'strategic', patch: '{}' },
    })
    expect(strategic.status).toBe(400)
    expect(strategic.json.message).toBe("Patch type 'strategic' is not supported")
    const typo = await call('PATCH', '/api/v1/applications/guestbook', {
      body: { patchType: 'merge', patch: JSON.stringify({ spec: { source: { targetRevison: 'x' } } }) },
    })
    expect(typo.status).toBe(400)
  })

  it('validates the new revision against the repo-server', async () => {
    await fake.close()
    fake = await startFakeArgoCD({
      token: TOKEN,
      apps: [{ name: 'app', source: { repoURL: 'https://git.example.com/r.git', targetRevision: SHA1 } }],
      resolveRevision: (_repo, revision) => (revision === 'missing' ? undefined : revision),
    })
    const { status, json } = await call('PATCH', '/api/v1/applications/app', {
      body: {
        patchType: 'merge',
        patch: JSON.stringify({ spec: { source: { targetRevision: 'missing' } } }),
      },
    })
    expect(status).toBe(400)
    expect(String(json.message)).toMatch(/application spec for app is invalid/)
  })
})

describe('fake Argo CD: sync', () => {
  it('runs the operation lifecycle and only trusts health after reconciliation', async () => {
    const started = await call('POST', '/api/v1/applications/guestbook/sync', {
      body: {
        name: 'guestbook',
        revision: SHA1,
        infos: [{ name: 'kargo.akuity.io/promotion', value: 'p1' }],
      },
    })
    expect(started.status).toBe(200)
    expect(validator.validate('v1alpha1Application', started.json)).toEqual([])
    expect(field(started.json, 'operation', 'info', 0, 'value')).toBe('p1')
    expect(field(started.json, 'operation', 'initiatedBy', 'username')).toBe('tugboat')
    expect(field(started.json, 'status', 'operationState')).toBeUndefined()

    const again = await call('POST', '/api/v1/applications/guestbook/sync', { body: {} })
    expect(again.status).toBe(400)
    expect(again.json).toEqual({
      error: 'another operation is already in progress',
      code: 9,
      message: 'another operation is already in progress',
    })

    const running = until(() =>
      fake.app('guestbook').status.operationState?.phase === 'Running' ? true : undefined,
    )
    expect(running).toBe(true)
    expect(fake.app('guestbook').status.health.status).toBe('Progressing')

    const finished = until(() => {
      const app = fake.app('guestbook')
      return app.status.operationState?.phase === 'Succeeded' ? structuredClone(app) : undefined
    })
    expect(finished.operation).toBeUndefined()
    expect(finished.status.operationState?.syncResult?.revision).toBe(SHA1)
    expect(finished.status.sync.revision).toBe(SHA1)
    expect(Date.parse(finished.status.reconciledAt ?? '')).toBeLessThan(
      Date.parse(finished.status.operationState?.finishedAt ?? ''),
    )
    const reconciled = until(() => {
      const app = fake.app('guestbook')
      return Date.parse(app.status.reconciledAt ?? '') >=
        Date.parse(app.status.operationState?.finishedAt ?? '')
        ? app
        : undefined
    })
    expect(reconciled.status.health.status).toBe('Healthy')
    const { json } = await call('GET', '/api/v1/applications/guestbook')
    expect(validator.validate('v1alpha1Application', json)).toEqual([])
  })

  it('syncs multi-source apps with revisions + numeric sourcePositions', async () => {
    const bad = await call('POST', '/api/v1/applications/multi/sync', {
      body: { revisions: [SHA2], sourcePositions: ['2'] },
    })
    expect(bad.status).toBe(400)
    const outOfRange = await call('POST', '/api/v1/applications/multi/sync', {
      body: { revisions: [SHA2], sourcePositions: [3] },
    })
    expect(outOfRange.status).toBe(500)
    const ok = await call('POST', '/api/v1/applications/multi/sync', {
      body: { revisions: [SHA2], sourcePositions: [2] },
    })
    expect(ok.status).toBe(200)
    expect(field(ok.json, 'operation', 'sync', 'revisions')).toEqual(['1.0.0', SHA2])
    const done = until(() => {
      const app = fake.app('multi')
      return app.status.operationState?.phase === 'Succeeded' ? app : undefined
    })
    expect(done.status.sync.revisions).toEqual(['1.0.0', SHA2])
    expect(done.status.sync.status).toBe('OutOfSync')
  })

  it('refuses an explicit other revision on auto-sync apps, and blocked sync windows', async () => {
    const refused = await call('POST', '/api/v1/applications/auto/sync', { body: { revision: SHA2 } })
    expect(refused.status).toBe(400)
    expect(refused.json.message).toBe(`Cannot sync to ${SHA2}: auto-sync currently set to main`)
    fake.setSyncWindowBlocked('auto', true)
    const blocked = await call('POST', '/api/v1/applications/auto/sync', { body: {} })
    expect(blocked.status).toBe(403)
    expect(blocked.json.message).toBe('cannot sync: blocked by sync window')
  })

  it('fails an operation on request, reports Degraded health, and terminates', async () => {
    fake.failNextSync('guestbook', 'Deployment "web" is invalid')
    fake.setHealth('guestbook', 'Degraded', { message: 'pods crash' })
    await call('POST', '/api/v1/applications/guestbook/sync', { body: {} })
    const failed = until(() => {
      const app = fake.app('guestbook')
      return app.status.operationState?.phase === 'Failed' ? app : undefined
    })
    expect(failed.status.operationState?.message).toBe('Deployment "web" is invalid')
    const degraded = until(() => {
      const app = fake.app('guestbook')
      return app.status.health.status === 'Degraded' ? app : undefined
    })
    expect(degraded.status.health.message).toBe('pods crash')

    const none = await call('DELETE', '/api/v1/applications/guestbook/operation')
    expect(none.status).toBe(400)
    fake.holdOperation('guestbook')
    await call('POST', '/api/v1/applications/guestbook/sync', { body: {} })
    until(() => (fake.app('guestbook').status.operationState?.phase === 'Running' ? true : undefined))
    const terminated = await call('DELETE', '/api/v1/applications/guestbook/operation')
    expect(terminated).toEqual({ status: 200, json: {} })
    const stopped = until(() => {
      const app = fake.app('guestbook')
      return app.status.operationState?.phase === 'Failed' ? app : undefined
    })
    expect(stopped.status.operationState?.message).toBe('Operation terminated')
  })

  it('records requests without the token', async () => {
    await call('GET', '/api/v1/applications/guestbook')
    expect(JSON.stringify(fake.requests)).not.toContain(TOKEN)
    expect(fake.requests.at(-1)).toMatchObject({
      method: 'GET',
      status: 200,
      authorization: 'Bearer <redacted>',
    })
  })
})
