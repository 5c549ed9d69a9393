import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConflictError, TerminalError, UpstreamError } from '../errors.js'
import {
  startGitHubFake,
  startGitLabFake,
  startGiteaFake,
  type FakeGitProvider,
  type FakeProviderOptions,
} from '../../test/fakes/gitprovider/index.js'
import { newGitProvider } from './provider.js'
import type { GitProvider } from './types.js'

/*
 * The three REST clients against their contract fakes. The fakes listen on http://127.0.0.1:PORT, so every client
 * here finds its API root the way a self-hosted server's is found: `provider` named, host taken from the repoURL.
 */

const MAIN = '1'.repeat(40)
const FEATURE = '2'.repeat(40)
const OTHER = '3'.repeat(40)

interface Case {
  name: 'github' | 'gitlab' | 'gitea'
  start: (opts?: FakeProviderOptions) => Promise<FakeGitProvider>
  repo: string
  /** How the API root sits on the fake's host. */
  apiPath: string
  /** What the fake saw as the auth header. */
  auth: (headers: Record<string, string | string[] | undefined>) => string | string[] | undefined
  authValue: string
  /** How each provider judges a PR with merge conflicts: GitHub's `dirty` is final, the others just not mergeable. */
  conflict: 'error' | 'not-ready'
}

const cases: Case[] = [
  {
    name: 'github',
    start: startGitHubFake,
    repo: 'acme/app',
    apiPath: '/api/v3',
    auth: (h) => h.authorization,
    authValue: 'Bearer test-token',
    conflict: 'error',
  },
  {
    name: 'gitlab',
    start: startGitLabFake,
    repo: 'group/sub/app',
    apiPath: '/api/v4',
    auth: (h) => h['private-token'],
    authValue: 'test-token',
    conflict: 'not-ready',
  },
  {
    name: 'gitea',
    start: startGiteaFake,
    repo: 'acme/app',
    apiPath: '/api/v1',
    auth: (h) => h.authorization,
    authValue: 'token test-token',
    conflict: 'not-ready',
  },
]

describe.each(cases)('$name client', (c) => {
  let fake: FakeGitProvider
  let client: GitProvider
  const branches = {
    main: MAIN,
    feature: FEATURE,
    other: OTHER,
    a: OTHER,
    b: OTHER,
    c: OTHER,
    d: OTHER,
    e: OTHER,
  }

  beforeAll(async () => {
    fake = await c.start()
    fake.addRepo(c.repo, { branches, labels: ['infra', 'needs-review'] })
    client = newGitProvider(fake.repoURL(c.repo), { name: c.name, token: fake.token })
  })
  afterAll(() => fake.close())

  it('derives the API root from the repoURL host', () => {
    expect(client.apiBaseURL).toBe(`${fake.url}${c.apiPath}`)
  })

  it('opens a pull request with labels, authenticated with the token', async () => {
    const pr = await client.createPullRequest({
      head: 'feature',
      base: 'main',
      title: 'Promote to dev',
      description: 'Freight abc',
      labels: ['infra', 'needs-review'],
    })
    expect(pr).toMatchObject({
      number: 1,
      open: true,
      merged: false,
      headSHA: FEATURE,
      headBranch: 'feature',
      baseBranch: 'main',
    })
    expect(pr.url).toMatch(new RegExp(`^${fake.url}/${c.repo}/`))
    expect(pr.mergeCommitSHA).toBeUndefined()
    expect(fake.pull(c.repo, 1)).toMatchObject({ title: 'Promote to dev', body: 'Freight abc' })
    expect(fake.pulls(c.repo)[0]?.labels).toEqual(['infra', 'needs-review'])
    const request = fake.requests.find((r) => r.method === 'POST')!
    expect(c.auth(request.headers)).toBe(c.authValue)
  })

  it('reports a duplicate as a ConflictError', async () => {
    await expect(
      client.createPullRequest({ head: 'feature', base: 'main', title: 'again', description: '' }),
    ).rejects.toBeInstanceOf(ConflictError)
  })

  it.each([
    [{ head: 'feature', base: 'main', headCommit: FEATURE }, [1]],
    [{ head: 'feature', base: 'main', headCommit: OTHER }, []],
    [{ head: 'other', base: 'main' }, []],
    [{ head: 'feature', base: 'stage/dev' }, []],
    [{}, [1]],
  ])('lists open pull requests matching %j', async (filter, numbers) => {
    expect((await client.listOpenPullRequests(filter)).map((p) => p.number)).toEqual(numbers)
  })

  it('gets a pull request through its life: open, then merged with its merge commit', async () => {
    expect(await client.getPullRequest(1)).toMatchObject({ open: true, merged: false })
    const sha = await fake.mergePull(c.repo, 1)
    const merged = await client.getPullRequest(1)
    expect(merged).toMatchObject({ number: 1, open: false, merged: true, mergeCommitSHA: sha })
    expect(await client.listOpenPullRequests({ head: 'feature' })).toEqual([])
  })

  it('merges a ready pull request, and treats an already merged one as merged', async () => {
    const pr = await fake.openPull(c.repo, { head: 'other', base: 'main' })
    const outcome = await client.mergePullRequest(pr.number, { mergeMethod: 'squash' })
    expect(outcome).toEqual({
      merged: true,
      pr: expect.objectContaining({ merged: true, number: pr.number }),
    })
    const sha = fake.pull(c.repo, pr.number).mergeCommitSHA
    expect(outcome.merged && outcome.pr.mergeCommitSHA).toBe(sha)
    const again = await client.mergePullRequest(pr.number)
    expect(again.merged && again.pr.mergeCommitSHA).toBe(sha)
  })

  it.each([
    ['pending checks', { readiness: 'pending' as const }],
    ['a missing review', { readiness: 'blocked' as const }],
    ['a draft', { draft: true }],
  ])('does not merge with %s (not ready, no error)', async (_name, patch) => {
    const pr = await fake.openPull(c.repo, { head: 'a', base: 'main' })
    fake.setPull(c.repo, pr.number, patch)
    expect(await client.mergePullRequest(pr.number)).toMatchObject({ merged: false })
    expect(fake.pull(c.repo, pr.number)).toMatchObject({ state: 'open', merged: false })
    fake.closePull(c.repo, pr.number)
  })

  it('judges a conflicting pull request as the provider does', async () => {
    const pr = await fake.openPull(c.repo, { head: 'b', base: 'main' })
    fake.setPull(c.repo, pr.number, { readiness: 'conflict' })
    const attempt = client.mergePullRequest(pr.number)
    if (c.conflict === 'error') await expect(attempt).rejects.toThrow(/conflicts/)
    else expect(await attempt).toMatchObject({ merged: false })
    fake.closePull(c.repo, pr.number)
  })

  it('refuses to merge a closed pull request or with an unknown merge method', async () => {
    const pr = await fake.openPull(c.repo, { head: 'c', base: 'main' })
    await expect(client.mergePullRequest(pr.number, { mergeMethod: 'octopus' })).rejects.toBeInstanceOf(
      TerminalError,
    )
    fake.closePull(c.repo, pr.number)
    await expect(client.mergePullRequest(pr.number)).rejects.toThrow(/closed but not merged/)
  })

  it('fails terminally with a bad token, without showing it', async () => {
    const bad = newGitProvider(fake.repoURL(c.repo), { name: c.name, token: 'sekrit-token-value' })
    const error = await bad.getPullRequest(1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TerminalError)
    expect(String((error as Error).message)).toMatch(/authentication failed \(HTTP 401\)/)
    expect(JSON.stringify(error) + String(error)).not.toContain('sekrit')
  })

  it('fails terminally for an unknown repository or pull request', async () => {
    const unknown = newGitProvider(fake.repoURL(`${c.repo}-nope`), { name: c.name, token: fake.token })
    await expect(unknown.getPullRequest(1)).rejects.toThrow(/not found \(HTTP 404\)/)
    await expect(client.getPullRequest(999)).rejects.toBeInstanceOf(TerminalError)
  })

  it('reads every page of a long list', async () => {
    const many = Object.fromEntries([...Array(120)].map((_, i) => [`p${i}`, OTHER]))
    fake.addRepo(`${c.repo}-many`, { branches: { main: MAIN, ...many } })
    for (let i = 0; i < 120; i++) await fake.openPull(`${c.repo}-many`, { head: `p${i}`, base: 'main' })
    const big = newGitProvider(fake.repoURL(`${c.repo}-many`), { name: c.name, token: fake.token })
    expect(await big.listOpenPullRequests({ base: 'main' })).toHaveLength(120)
    expect((await big.listOpenPullRequests({ head: 'p117' })).map((p) => p.headBranch)).toEqual(['p117'])
  })

  it.each([
    [503, {}, UpstreamError],
    [429, {}, UpstreamError],
    [403, { 'x-ratelimit-remaining': '0' }, UpstreamError],
    [403, {}, TerminalError],
    [422, {}, TerminalError],
  ])('maps HTTP %i %j to a %o', async (status, headers, type) => {
    const stub = newGitProvider(fake.repoURL(c.repo), {
      name: c.name,
      token: 't',
      fetch: async () => new Response(JSON.stringify({ message: 'nope' }), { status, headers }),
    })
    await expect(stub.getPullRequest(1)).rejects.toBeInstanceOf(type)
  })

  it('maps a refused connection to an UpstreamError', async () => {
    const gone = await c.start()
    gone.addRepo(c.repo)
    const offline = newGitProvider(gone.repoURL(c.repo), { name: c.name, token: gone.token })
    await gone.close()
    await expect(offline.getPullRequest(1)).rejects.toBeInstanceOf(UpstreamError)
  })
})

describe('request shapes', () => {
  it('GitHub: head as owner:branch, state=open, body {title, head, base, body}, merge_method', async () => {
    const fake = await startGitHubFake()
    try {
      fake.addRepo('acme/app', { branches: { main: MAIN, feature: FEATURE } })
      const client = newGitProvider(fake.repoURL('acme/app'), { name: 'github', token: fake.token })
      await client.listOpenPullRequests({ head: 'feature', base: 'main' })
      await client.createPullRequest({ head: 'feature', base: 'main', title: 't', description: 'd' })
      await client.mergePullRequest(1, { mergeMethod: 'rebase' })
      const [list, create, , merge] = fake.requests
      expect(list?.query.get('head')).toBe('acme:feature')
      expect(list?.query.get('state')).toBe('open')
      expect(list?.query.get('base')).toBe('main')
      expect(list?.headers.accept).toBe('application/vnd.github+json')
      expect(JSON.parse(create!.body)).toEqual({ title: 't', head: 'feature', base: 'main', body: 'd' })
      expect(merge).toMatchObject({ method: 'PUT', path: '/api/v3/repos/acme/app/pulls/1/merge' })
      expect(JSON.parse(merge!.body)).toEqual({ merge_method: 'rebase' })
    } finally {
      await fake.close()
    }
  })

  it('GitLab: URL-encoded project path, state=opened, comma-separated labels', async () => {
    const fake = await startGitLabFake()
    try {
      fake.addRepo('group/sub/app', { branches: { main: MAIN, feature: FEATURE } })
      const client = newGitProvider(fake.repoURL('group/sub/app'), { name: 'gitlab', token: fake.token })
      await client.listOpenPullRequests({ head: 'feature', base: 'main' })
      await client.createPullRequest({
        head: 'feature',
        base: 'main',
        title: 't',
        description: 'd',
        labels: ['x', 'y'],
      })
      const [list, create] = fake.requests
      expect(list?.path).toBe('/api/v4/projects/group%2Fsub%2Fapp/merge_requests')
      expect(Object.fromEntries(list!.query)).toMatchObject({
        state: 'opened',
        source_branch: 'feature',
        target_branch: 'main',
      })
      expect(JSON.parse(create!.body)).toEqual({
        source_branch: 'feature',
        target_branch: 'main',
        title: 't',
        description: 'd',
        labels: 'x,y',
      })
    } finally {
      await fake.close()
    }
  })

  it('Gitea: label names resolved to ids (a missing one is an error), merge as {Do}', async () => {
    const fake = await startGiteaFake()
    try {
      fake.addRepo('acme/app', { branches: { main: MAIN, feature: FEATURE }, labels: ['infra'] })
      const client = newGitProvider(fake.repoURL('acme/app'), { name: 'gitea', token: fake.token })
      await expect(
        client.createPullRequest({
          head: 'feature',
          base: 'main',
          title: 't',
          description: '',
          labels: ['nope'],
        }),
      ).rejects.toThrow(/labels not found in repository acme\/app: nope/)
      await client.createPullRequest({
        head: 'feature',
        base: 'main',
        title: 't',
        description: '',
        labels: ['infra'],
      })
      await client.mergePullRequest(1)
      const create = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/pulls'))!
      expect(JSON.parse(create.body)).toMatchObject({
        head: 'feature',
        base: 'main',
        labels: [expect.any(Number)],
      })
      const merge = fake.requests.find((r) => r.path.endsWith('/merge'))!
      expect(JSON.parse(merge.body)).toEqual({ Do: 'merge' })
    } finally {
      await fake.close()
    }
  })
})
