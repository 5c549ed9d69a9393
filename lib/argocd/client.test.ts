import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeArgoCD, type FakeArgoCD } from '../../test/fakes/argocd/server.js'
import {
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  UpstreamError,
  ValidationError,
} from '../errors.js'
import { ArgoCDClient } from './client.js'
import { ArgoCDRejectedError, OperationInProgressError, SyncWindowBlockedError } from './errors.js'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0dWdib2F0In0.c2VjcmV0LXNpZ25hdHVyZQ'
const SHA = 'c'.repeat(40)

let fake: FakeArgoCD
let client: ArgoCDClient

beforeAll(async () => {
  fake = await startFakeArgoCD({
    token: TOKEN,
    appNamespaces: ['team-apps'],
    apps: [
      {
        name: 'guestbook',
        project: 'team',
        labels: { tier: 'web' },
        source: { repoURL: 'https://git.example.com/gitops.git', path: 'test', targetRevision: 'main' },
      },
      {
        name: 'guestbook',
        namespace: 'team-apps',
        source: { repoURL: 'https://git.example.com/gitops.git', path: 'other', targetRevision: 'main' },
      },
      {
        name: 'multi',
        sources: [
          { repoURL: 'https://charts.example.com', chart: 'app', targetRevision: '1.0.0' },
          { repoURL: 'https://git.example.com/values.git', targetRevision: 'main', ref: 'values' },
        ],
      },
    ],
    timing: { syncDurationMs: 40, reconcileDelayMs: 20 },
  })
  client = new ArgoCDClient({ server: fake.url, token: TOKEN })
})

afterAll(async () => {
  await fake.close()
})

/** Every error must be free of the token, in its message, its JSON and its cause chain. */
function expectNoToken(error: unknown) {
  let node: unknown = error
  while (node instanceof Error) {
    expect(node.message).not.toContain(TOKEN)
    expect(String(node.stack)).not.toContain(TOKEN)
    expect(JSON.stringify(node)).not.toContain(TOKEN)
    node = node.cause
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof Error)) throw new Error('expected a rejection')
  expectNoToken(error)
  return error
}

describe('ArgoCDClient', () => {
  it('reads an app and keeps fields it does not model', async () => {
    const app = await client.getApplication('guestbook')
    expect(app.metadata).toMatchObject({ name: 'guestbook', namespace: 'argocd', labels: { tier: 'web' } })
    expect(app.spec.source?.targetRevision).toBe('main')
    expect(app.spec).toHaveProperty('destination.server', 'https://kubernetes.default.svc')
    expect(typeof app.status?.operationState?.finishedAt).toBe('string')
  })

  it('reads an app in another namespace', async () => {
    const app = await client.getApplication('guestbook', { namespace: 'team-apps' })
    expect(app.spec.source?.path).toBe('other')
    expect(fake.requests.at(-1)?.query).toEqual({ appNamespace: ['team-apps'] })
  })

  it('lists apps with a selector', async () => {
    const apps = await client.listApplications({ selector: 'tier=web' })
    expect(apps.map((a) => a.metadata.name)).toEqual(['guestbook'])
  })

  it('explains a refused token (401) without showing it', async () => {
    const bad = new ArgoCDClient({ server: fake.url, token: 'a.b.c' })
    const error = await failure(bad.getApplication('guestbook'))
    expect(error).toBeInstanceOf(UnauthenticatedError)
    expect(error.message).toBe('Argo CD rejected the token (401): no session information')
  })

  it('explains 403 (absent or forbidden) and 404 (absent in the project)', async () => {
    const forbidden = await failure(client.getApplication('nope'))
    expect(forbidden).toBeInstanceOf(ForbiddenError)
    expect(forbidden.message).toBe('app "nope" not found or not permitted (Argo CD answered 403)')
    const missing = await failure(client.getApplication('nope', { project: 'team' }))
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing.message).toBe('app "nope" not found in project "team" (Argo CD answered 404)')
  })

  it('sends PATCH as {patch: string, patchType}, and reads the updated app', async () => {
    const app = await client.patchApplication('guestbook', {
      patch: { spec: { source: { targetRevision: SHA } } },
    })
    expect(app.spec.source?.targetRevision).toBe(SHA)
    const body = fake.requests.at(-1)?.body
    expect(body).toEqual({
      name: 'guestbook',
      patchType: 'merge',
      patch: JSON.stringify({ spec: { source: { targetRevision: SHA } } }),
    })
    const rejected = await failure(
      client.patchApplication('guestbook', {
        patchType: 'json',
        patch: [{ op: 'test', path: '/spec/project', value: 'x' }],
      }),
    )
    expect(rejected).toBeInstanceOf(UpstreamError)
    expect(rejected.message).toMatch(/error applying patch/)
  })

  it('syncs multi-source apps with numeric sourcePositions and detects "operation in progress"', async () => {
    fake.holdOperation('multi')
    const app = await client.syncApplication('multi', {
      revisions: [SHA],
      sourcePositions: [2],
      infos: [{ name: 'kargo.akuity.io/promotion', value: 'p-1' }],
    })
    expect(app.operation?.info).toEqual([{ name: 'kargo.akuity.io/promotion', value: 'p-1' }])
    expect(fake.requests.at(-1)?.body).toMatchObject({ revisions: [SHA], sourcePositions: [2] })
    const busy = await failure(client.syncApplication('multi'))
    expect(busy).toBeInstanceOf(OperationInProgressError)
    expect(busy.message).toBe('app "multi": another operation is already in progress (Argo CD answered 400)')
    await client.terminateOperation('multi')
    fake.holdOperation('multi', false)
  })

  it('refuses uneven revisions/sourcePositions before Argo CD panics on them', async () => {
    const error = await failure(client.syncApplication('multi', { revisions: [SHA], sourcePositions: [] }))
    expect(error).toBeInstanceOf(ValidationError)
  })

  it('maps sync windows and other 400s', async () => {
    fake.setSyncWindowBlocked('guestbook', true)
    const blocked = await failure(client.syncApplication('guestbook'))
    expect(blocked).toBeInstanceOf(SyncWindowBlockedError)
    fake.setSyncWindowBlocked('guestbook', false)
    fake.failNextRequest({ method: 'POST' }, { status: 400, code: 9, message: 'application is deleting' })
    const rejected = await failure(client.syncApplication('guestbook'))
    expect(rejected).toBeInstanceOf(ArgoCDRejectedError)
    expect(rejected.message).toBe('Argo CD refused to sync app "guestbook": application is deleting (400)')
  })

  it('reports an unreachable server as an UpstreamError', async () => {
    const closed = await startFakeArgoCD({ token: TOKEN })
    await closed.close()
    const unreachable = new ArgoCDClient({ server: closed.url, token: TOKEN })
    const error = await failure(unreachable.getApplication('guestbook'))
    expect(error).toBeInstanceOf(UpstreamError)
    expect(error.message).toMatch(
      /^could not reach Argo CD at http:\/\/127\.0\.0\.1:\d+ to get app "guestbook": /,
    )
  })

  it('honours rootPath and never serialises the token', async () => {
    const rooted = await startFakeArgoCD({
      token: TOKEN,
      rootPath: '/argo-cd',
      apps: [{ name: 'a', source: { repoURL: 'https://git.example.com/r.git', targetRevision: 'main' } }],
    })
    try {
      const c = new ArgoCDClient({ server: rooted.url, token: TOKEN, rootPath: 'argo-cd/' })
      expect((await c.getApplication('a')).metadata.name).toBe('a')
      expect(JSON.stringify(c)).toBe(JSON.stringify({ server: rooted.url }))
    } finally {
      await rooted.close()
    }
  })
})

describe('ArgoCDClient over TLS', () => {
  let dir: string
  let tls: FakeArgoCD | undefined
  let hasOpenSSL = true

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tugboat-argocd-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      )
    } catch {
      hasOpenSSL = false
      return
    }
    tls = await startFakeArgoCD({
      token: TOKEN,
      tls: {
        key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
        cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      },
      apps: [{ name: 'a', source: { repoURL: 'https://git.example.com/r.git', targetRevision: 'main' } }],
    })
  })

  afterAll(async () => {
    await tls?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses a self-signed server unless insecureSkipTLSVerify is set', async (ctx) => {
    if (!hasOpenSSL || !tls) return ctx.skip()
    const strict = new ArgoCDClient({ server: tls.url, token: TOKEN })
    expect(await failure(strict.getApplication('a'))).toBeInstanceOf(UpstreamError)
    const insecure = new ArgoCDClient({ server: tls.url, token: TOKEN, insecureSkipTLSVerify: true })
    expect((await insecure.getApplication('a')).metadata.name).toBe('a')
    const patched = await insecure.patchApplication('a', { patch: { metadata: { labels: { x: 'y' } } } })
    expect(patched.metadata.labels).toEqual({ x: 'y' })
  })
})
