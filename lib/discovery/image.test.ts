import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError, UpstreamError, ValidationError } from '../errors.js'
import {
  freePort,
  pushImage,
  startRegistry,
  startRegistryFront,
  type Registry,
} from '../../test/support/registry.js'
import { startTokenServer, type TokenServer } from '../../test/support/token-server.js'
import { discoverImages, type KnownImage } from './image.js'
import { createTokenCache, type RegistryRequestEvent } from './oci/registry-client.js'
import type { DiscoveredImageReference } from './types.js'

let registry: Registry

beforeAll(async () => {
  registry = await startRegistry()
}, 60_000)

afterAll(async () => {
  await registry?.close()
})

function knownFrom(references: DiscoveredImageReference[]): Map<string, KnownImage> {
  return new Map(
    references.map((r) => [r.tag, { digest: r.digest, ...(r.createdAt ? { createdAt: r.createdAt } : {}) }]),
  )
}

describe('discoverImages: the issue acceptance', () => {
  it('finds 1.4.299 under ^1.x, then 1.4.300 once pushed', async () => {
    const repo = 'acceptance/app'
    const digests: Record<string, string> = {}
    for (const tag of ['1.4.298', '1.4.299', '2.0.0']) digests[tag] = await pushImage(registry, repo, tag)
    const sub = { repoURL: `${registry.host}/${repo}`, semverConstraint: '^1.x', discoveryLimit: 5 }
    const first = await discoverImages(sub)
    expect(first.references.map((r) => r.tag)).toEqual(['1.4.299', '1.4.298'])
    expect(first.references[0]?.digest).toBe(digests['1.4.299'])
    expect(first.references[1]?.digest).toBe(digests['1.4.298'])

    digests['1.4.300'] = await pushImage(registry, repo, '1.4.300')
    const second = await discoverImages(sub, { known: knownFrom(first.references) })
    expect(second.references[0]).toEqual({ tag: '1.4.300', digest: digests['1.4.300'] })
    expect(second.references.map((r) => r.tag)).toEqual(['1.4.300', '1.4.299', '1.4.298'])
    // Only the new tag's manifest was read.
    expect(second.stats.manifestReads).toBe(1)
  })
})

describe('discoverImages: strategies', () => {
  const repo = 'strategies/app'
  const digests: Record<string, string> = {}
  const created: Record<string, string> = {
    'v1.2.3': '2024-01-01T00:00:00Z',
    '1.2': '2024-01-05T00:00:00Z',
    '1.10.0': '2024-01-02T00:00:00Z',
    '1.9.0': '2024-01-04T00:00:00Z',
    latest: '2024-01-04T00:00:00Z',
    '1.11.0-rc.1': '2024-01-03T00:00:00Z',
  }
  beforeAll(async () => {
    for (const [tag, at] of Object.entries(created))
      digests[tag] = await pushImage(registry, repo, tag, { created: at })
  })

  const cases: Array<{ name: string; sub: Record<string, unknown>; tags: string[] }> = [
    {
      name: 'SemVer is the default and strict; no constraint admits prereleases',
      sub: {},
      tags: ['1.11.0-rc.1', '1.10.0', '1.9.0', 'v1.2.3'],
    },
    {
      name: 'a constraint without a prerelease excludes prereleases',
      sub: { constraint: '>=1.0.0' },
      tags: ['1.10.0', '1.9.0', 'v1.2.3'],
    },
    {
      name: 'SemVer with strictSemvers false admits 1.2',
      sub: { strictSemvers: false, constraint: '>=1' },
      tags: ['1.10.0', '1.9.0', 'v1.2.3', '1.2'],
    },
    { name: 'SemVer constraint', sub: { constraint: '>=1.9.0, <1.10.0' }, tags: ['1.9.0'] },
    { name: 'SemVer prerelease constraint', sub: { constraint: '>=1.11.0-0' }, tags: ['1.11.0-rc.1'] },
    {
      name: 'constraint wins over legacy semverConstraint',
      sub: { constraint: '~1.9', semverConstraint: '^1.10' },
      tags: ['1.9.0'],
    },
    { name: 'discoveryLimit', sub: { discoveryLimit: 2 }, tags: ['1.11.0-rc.1', '1.10.0'] },
    {
      name: 'Lexical',
      sub: { imageSelectionStrategy: 'Lexical' },
      tags: ['v1.2.3', 'latest', '1.9.0', '1.2', '1.11.0-rc.1', '1.10.0'],
    },
    {
      name: 'NewestBuild orders by created, ties by tag descending',
      sub: { imageSelectionStrategy: 'NewestBuild' },
      tags: ['1.2', 'latest', '1.9.0', '1.11.0-rc.1', '1.10.0', 'v1.2.3'],
    },
    {
      name: 'allowTagsRegexes (RE2, unanchored)',
      sub: { allowTagsRegexes: ['^1\\.(9|10)\\.'] },
      tags: ['1.10.0', '1.9.0'],
    },
    {
      name: 'ignoreTagsRegexes win over allow',
      sub: { allowTagsRegexes: ['\\d'], ignoreTagsRegexes: ['^1\\.1[01]'] },
      tags: ['1.9.0', 'v1.2.3'],
    },
    {
      name: 'filters apply to Lexical too',
      sub: { imageSelectionStrategy: 'Lexical', ignoreTagsRegexes: ['(?i)LATEST', '^v'] },
      tags: ['1.9.0', '1.2', '1.11.0-rc.1', '1.10.0'],
    },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const result = await discoverImages({ repoURL: `${registry.host}/${repo}`, ...c.sub })
      expect(result.references.map((r) => r.tag)).toEqual(c.tags)
      for (const r of result.references) expect(r.digest).toBe(digests[r.tag])
    })
  }

  it('NewestBuild reports createdAt and reuses known creation times', async () => {
    const sub = {
      repoURL: `${registry.host}/${repo}`,
      imageSelectionStrategy: 'NewestBuild' as const,
      discoveryLimit: 3,
    }
    const first = await discoverImages(sub)
    expect(first.references).toEqual([
      { tag: '1.2', digest: digests['1.2'], createdAt: '2024-01-05T00:00:00Z' },
      { tag: 'latest', digest: digests.latest, createdAt: '2024-01-04T00:00:00Z' },
      { tag: '1.9.0', digest: digests['1.9.0'], createdAt: '2024-01-04T00:00:00Z' },
    ])
    expect(first.dated?.map((r) => r.tag)).toEqual([
      '1.2',
      'latest',
      '1.9.0',
      '1.11.0-rc.1',
      '1.10.0',
      'v1.2.3',
    ])
    // Every candidate: a manifest and a config blob.
    expect(first.stats.manifestReads).toBe(6)
    expect(first.stats.blobReads).toBe(6)
    const second = await discoverImages(sub, { known: knownFrom(first.dated ?? []) })
    expect(second.references).toEqual(first.references)
    expect(second.stats.manifestReads + second.stats.blobReads).toBe(0)
  })

  it('rejects an invalid constraint and the deprecated fields', async () => {
    await expect(
      discoverImages({ repoURL: `${registry.host}/${repo}`, constraint: 'bogus' }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(discoverImages({ repoURL: `${registry.host}/${repo}`, allowTags: '.*' })).rejects.toThrow(
      /allowTagsRegexes/,
    )
    await expect(discoverImages({ repoURL: `${registry.host}/${repo}`, ignoreTags: ['x'] })).rejects.toThrow(
      /ignoreTagsRegexes/,
    )
    await expect(
      discoverImages({ repoURL: `${registry.host}/${repo}`, allowTagsRegexes: ['(?=x)'] }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(
      discoverImages({ repoURL: `${registry.host}/${repo}`, discoveryLimit: 101 }),
    ).rejects.toThrow(/discoveryLimit/)
    await expect(
      discoverImages({ repoURL: `${registry.host}/${repo}`, imageSelectionStrategy: 'Digest' }),
    ).rejects.toThrow(/constraint/)
  })
})

describe('discoverImages: Digest strategy', () => {
  it('follows a mutable tag, re-reading its digest every poll', async () => {
    const repo = 'digest/app'
    const d1 = await pushImage(registry, repo, 'latest', { created: '2024-01-01T00:00:00Z' })
    await pushImage(registry, repo, '1.0.0')
    const sub = {
      repoURL: `${registry.host}/${repo}`,
      imageSelectionStrategy: 'Digest' as const,
      constraint: 'latest',
    }
    const first = await discoverImages(sub)
    expect(first.references).toEqual([{ tag: 'latest', digest: d1 }])
    expect(first.stats.tagPages).toBe(0)
    expect(first.stats.requests).toBe(1)

    // Unchanged: one HEAD.
    const same = await discoverImages(sub, { known: knownFrom(first.references) })
    expect(same.references).toEqual(first.references)
    expect(same.stats.requests).toBe(1)

    const d2 = await pushImage(registry, repo, 'latest', { created: '2024-02-01T00:00:00Z' })
    expect(d2).not.toBe(d1)
    const moved = await discoverImages(sub, { known: knownFrom(first.references) })
    expect(moved.references).toEqual([{ tag: 'latest', digest: d2 }])

    const missing = await discoverImages({ ...sub, constraint: 'nope' })
    expect(missing.references).toEqual([])
  })
})

describe('discoverImages: platforms and manifest types', () => {
  const repo = 'platforms/app'
  const digests: Record<string, string> = {}
  beforeAll(async () => {
    digests['1.0.0'] = await pushImage(registry, repo, '1.0.0', {
      platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
      created: '2024-03-01T00:00:00Z',
    })
    digests['1.1.0'] = await pushImage(registry, repo, '1.1.0', {
      platforms: ['linux/amd64'],
      format: 'docker',
      created: '2024-03-02T00:00:00Z',
    })
    digests['1.2.0'] = await pushImage(registry, repo, '1.2.0', { created: '2024-03-03T00:00:00Z' })
    digests['1.3.0'] = await pushImage(registry, repo, '1.3.0', {
      platforms: ['linux/arm64'],
      annotations: {
        'org.opencontainers.image.created': '2024-03-04T00:00:00Z',
        'org.example.note': 'hello',
      },
    })
  })

  const cases: Array<{ platform?: string; tags: string[] }> = [
    { tags: ['1.3.0', '1.2.0', '1.1.0', '1.0.0'] },
    { platform: 'linux/arm64', tags: ['1.3.0', '1.0.0'] },
    { platform: 'linux/amd64', tags: ['1.1.0', '1.0.0'] },
    { platform: 'linux/arm/v7', tags: ['1.0.0'] },
    { platform: 'windows/amd64', tags: [] },
  ]
  for (const c of cases) {
    it(`platform ${c.platform ?? '(none)'} selects ${c.tags.join(', ') || 'nothing'}`, async () => {
      const result = await discoverImages({
        repoURL: `${registry.host}/${repo}`,
        ...(c.platform ? { platform: c.platform } : {}),
      })
      expect(result.references.map((r) => r.tag)).toEqual(c.tags)
      // An index is reported by its own digest, as Kargo does.
      for (const r of result.references) expect(r.digest).toBe(digests[r.tag])
      if (c.platform) expect(result.platform).toBe(c.platform)
    })
  }

  it('carries index annotations and reads creation time from an index', async () => {
    const result = await discoverImages({
      repoURL: `${registry.host}/${repo}`,
      imageSelectionStrategy: 'NewestBuild',
      platform: 'linux/arm64',
    })
    expect(result.references).toEqual([
      {
        tag: '1.3.0',
        digest: digests['1.3.0'],
        createdAt: '2024-03-04T00:00:00Z',
        annotations: {
          'org.opencontainers.image.created': '2024-03-04T00:00:00Z',
          'org.example.note': 'hello',
        },
      },
      { tag: '1.0.0', digest: digests['1.0.0'], createdAt: '2024-03-01T00:00:00Z' },
    ])
  })
})

describe('discoverImages: requests per poll', () => {
  it('reads tag pages + discoveryLimit manifests on a fresh Warehouse, and no manifests when nothing changed', async () => {
    const repo = 'requests/app'
    for (let i = 0; i < 12; i++) await pushImage(registry, repo, `1.0.${i}`)
    const front = await startRegistryFront(registry, { tagPageSize: 5 })
    try {
      const sub = { repoURL: `${front.host}/${repo}`, discoveryLimit: 4 }
      const events: RegistryRequestEvent[] = []
      const first = await discoverImages(sub, { onRequest: (e) => events.push(e) })
      expect(first.references.map((r) => r.tag)).toEqual(['1.0.11', '1.0.10', '1.0.9', '1.0.8'])
      expect(first.stats).toMatchObject({ tagPages: 3, manifestReads: 4, requests: 7 })
      expect(events.filter((e) => e.kind === 'tags')).toHaveLength(3)

      const second = await discoverImages(sub, { known: knownFrom(first.references) })
      expect(second.references).toEqual(first.references)
      expect(second.stats).toMatchObject({ tagPages: 3, manifestReads: 0, requests: 3 })
    } finally {
      await front.close()
    }
  })
})

describe('discoverImages: tag list pagination', () => {
  it('follows Link pages and sends n=', async () => {
    const repo = 'paged/app'
    const tags = Array.from({ length: 23 }, (_, i) => `0.${i}.0`)
    for (const tag of tags) await pushImage(registry, repo, tag)
    const front = await startRegistryFront(registry, { tagPageSize: 100 })
    try {
      const result = await discoverImages(
        { repoURL: `${front.host}/${repo}`, discoveryLimit: 100 },
        { tagPageSize: 10 },
      )
      expect(result.references).toHaveLength(23)
      expect(result.references[0]?.tag).toBe('0.22.0')
      expect(result.stats.tagPages).toBe(3)
      const tagRequests = front.requests.filter((r) => r.path.includes('/tags/list')).map((r) => r.path)
      expect(tagRequests[0]).toBe(`/v2/${repo}/tags/list?n=10`)
      expect(tagRequests[1]).toMatch(/n=10&last=/)
    } finally {
      await front.close()
    }
  })
})

describe('discoverImages: errors', () => {
  it('404 names the repository', async () => {
    const error = await discoverImages({ repoURL: `${registry.host}/does/not-exist` }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(NotFoundError)
    expect(String(error)).toContain(
      `404 from registry ${registry.host} for does/not-exist: repository not found`,
    )
  })

  it('an unreachable host names the host', async () => {
    const port = await freePort()
    const error = await discoverImages({ repoURL: `127.0.0.1:${port}/demo/app` }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UpstreamError)
    expect(String(error)).toContain(`registry 127.0.0.1:${port} is unreachable: ECONNREFUSED`)
  })

  it('retries 429 per Retry-After (seconds, then an HTTP date), capped', async () => {
    const repo = 'limited/app'
    const digest = await pushImage(registry, repo, '1.0.0')
    let throttled = 0
    const front = await startRegistryFront(registry, {
      intercept: (request) => {
        if (!request.path.includes('/tags/list') || throttled >= 2) return undefined
        throttled++
        const retryAfter = throttled === 1 ? '2' : new Date(Date.now() + 60_000).toUTCString()
        return {
          status: 429,
          headers: { 'Retry-After': retryAfter, 'Content-Type': 'application/json' },
          body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
        }
      },
    })
    try {
      const waits: number[] = []
      const sleep = async (ms: number) => {
        waits.push(ms)
      }
      const result = await discoverImages(
        { repoURL: `${front.host}/${repo}` },
        { retry: { sleep, maxDelayMs: 5000 } },
      )
      expect(result.references).toEqual([{ tag: '1.0.0', digest }])
      expect(waits[0]).toBe(2000)
      expect(waits[1]).toBe(5000) // a minute away, capped
      expect(result.stats.requests).toBe(4)
    } finally {
      await front.close()
    }
  })

  it('gives up on 429 after the retry budget', async () => {
    const front = await startRegistryFront(registry, {
      intercept: () => ({ status: 429, headers: { 'Retry-After': '1' } }),
    })
    try {
      const waits: number[] = []
      const error = await discoverImages(
        { repoURL: `${front.host}/limited/app` },
        { retry: { maxRetries: 2, sleep: async (ms) => void waits.push(ms) } },
      ).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UpstreamError)
      expect(String(error)).toContain(`429 from registry ${front.host} for limited/app: rate limited`)
      expect(waits).toEqual([1000, 1000])
      expect(front.requests).toHaveLength(3)
    } finally {
      await front.close()
    }
  })
})

describe('discoverImages: basic auth (htpasswd)', () => {
  let secured: Registry
  beforeAll(async () => {
    secured = await startRegistry({ htpasswd: { username: 'robot', password: 's3cret' } })
  }, 60_000)
  afterAll(async () => {
    await secured?.close()
  })

  it('reads with good credentials, and says what is wrong otherwise', async () => {
    const digest = await pushImage(secured, 'private/app', '1.0.0')
    const sub = { repoURL: `${secured.host}/private/app` }
    const ok = await discoverImages(sub, { credentials: { username: 'robot', password: 's3cret' } })
    expect(ok.references).toEqual([{ tag: '1.0.0', digest }])

    for (const credentials of [{ username: 'robot', password: 'wrong' }, undefined]) {
      const error = await discoverImages(sub, credentials ? { credentials } : {}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UpstreamError)
      expect(String(error)).toContain(
        `401 from registry ${secured.host} for private/app: check image credentials`,
      )
      expect(String(error)).not.toContain('wrong')
    }
  })
})

describe('discoverImages: bearer token flow (Distribution token auth)', () => {
  let tokens: TokenServer
  let secured: Registry
  beforeAll(async () => {
    tokens = await startTokenServer({ users: { robot: 's3cret' } })
    secured = await startRegistry({
      tokenAuth: { ...tokens, pushCredentials: { username: 'robot', password: 's3cret' } },
    })
  }, 60_000)
  afterAll(async () => {
    await secured?.close()
    await tokens?.close()
  })

  it('gets a token from the realm for the scope, caches it, and reads', async () => {
    const d1 = await pushImage(secured, 'team/app', '1.0.0')
    const d2 = await pushImage(secured, 'team/app', '1.1.0')
    tokens.requests.length = 0
    const tokenCache = createTokenCache()
    const result = await discoverImages(
      { repoURL: `${secured.host}/team/app` },
      { credentials: { username: 'robot', password: 's3cret' }, tokenCache },
    )
    expect(result.references).toEqual([
      { tag: '1.1.0', digest: d2 },
      { tag: '1.0.0', digest: d1 },
    ])
    // challenge (401) + token + tag list + 2 manifests
    expect(result.stats).toMatchObject({ authRequests: 2, manifestReads: 2, requests: 5 })
    expect(tokens.requests).toEqual([
      { user: 'robot', service: tokens.service, scopes: ['repository:team/app:pull'], status: 200 },
    ])

    // With a shared cache, a later poll sends the cached token straight away: no challenge, no token request.
    const again = await discoverImages(
      { repoURL: `${secured.host}/team/app` },
      {
        credentials: { username: 'robot', password: 's3cret' },
        tokenCache,
        known: knownFrom(result.references),
      },
    )
    expect(again.stats).toMatchObject({ authRequests: 0, requests: 1 })
  })

  it('reports bad credentials at the token service, and anonymous refusal', async () => {
    await pushImage(secured, 'team/other', '1.0.0')
    const bad = await discoverImages(
      { repoURL: `${secured.host}/team/other` },
      { credentials: { username: 'robot', password: 'nope' } },
    ).catch((e: unknown) => e)
    expect(String(bad)).toContain(
      `401 from the token service of registry ${secured.host} for team/other: check image credentials`,
    )
    const anonymous = await discoverImages({ repoURL: `${secured.host}/team/other` }).catch((e: unknown) => e)
    expect(String(anonymous)).toContain(
      `401 from registry ${secured.host} for team/other: check image credentials`,
    )
  })
})
