import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError, UpstreamError, ValidationError } from '../errors.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import { freePort } from '../../test/support/registry.js'
import { discoverCommits } from './git.js'

let server: GitServer

beforeAll(async () => {
  server = await startGitServer()
})

afterAll(async () => {
  await server?.close()
})

/** Tags `sha` in repo `name`: annotated (with a tagger date) when `date` is given, else lightweight. */
async function tag(name: string, tagName: string, sha: string, date?: string): Promise<void> {
  if (date === undefined) {
    await server.git(name, ['tag', tagName, sha])
    return
  }
  await server.git(name, ['tag', '-a', '-m', `release ${tagName}`, tagName, sha], {
    GIT_COMMITTER_NAME: 'Tagger',
    GIT_COMMITTER_EMAIL: 'tagger@example.com',
    GIT_COMMITTER_DATE: date,
  })
}

describe('discoverCommits: NewestFromBranch', () => {
  it('lists the newest commits of the default branch with their metadata', async () => {
    const url = await server.createRepo('branch-default', { 'README.md': 'hi' }, { message: 'initial' })
    await server.commit(
      'branch-default',
      'main',
      { 'a.txt': '1' },
      { message: 'second commit\n\nwith a body', author: { name: 'Ann', email: 'ann@example.com' } },
    )
    await server.commit('branch-default', 'main', { 'a.txt': '2' }, { message: 'third' })
    const log = await server.log('branch-default', 'main')
    const result = await discoverCommits({ repoURL: url, discoveryLimit: 2 })
    expect(result.unchanged).toBe(false)
    expect(result.commits.map((c) => c.id)).toEqual([log[0]?.sha, log[1]?.sha])
    expect(result.commits[1]).toMatchObject({
      message: 'second commit',
      subject: 'second commit',
      author: 'Ann <ann@example.com>',
      committer: 'Ann <ann@example.com>',
    })
    expect(result.commits[0]?.branch).toBeUndefined()
    expect(result.commits[0]?.creatorDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(result.refs).toEqual({ HEAD: log[0]?.sha })
    expect(result.observedRefs).toEqual({ branchHead: log[0]?.sha })
    // One ref listing, one fetch.
    expect(result.stats).toEqual({ requests: 2, fetches: 1 })
  })

  it('follows a named branch and reports it', async () => {
    const url = await server.createRepo('branch-named', { 'README.md': 'hi' })
    const sha = await server.commit('branch-named', 'release', { 'r.txt': 'r' }, { message: 'on release' })
    const result = await discoverCommits({ repoURL: url, branch: 'release' })
    expect(result.commits[0]).toMatchObject({ id: sha, branch: 'release', message: 'on release' })
    expect(result.refs).toEqual({ 'refs/heads/release': sha })
    await expect(discoverCommits({ repoURL: url, branch: 'absent' })).rejects.toBeInstanceOf(NotFoundError)
  })

  it('skips the fetch when the branch head did not move', async () => {
    const url = await server.createRepo('branch-unchanged', { 'README.md': 'hi' })
    const first = await discoverCommits({ repoURL: url })
    server.requests.length = 0
    const second = await discoverCommits({ repoURL: url }, { lastSeenRefs: first.refs })
    expect(second).toMatchObject({ unchanged: true, commits: [], refs: first.refs })
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /branch-unchanged.git/info/refs',
    ])
    expect(server.count('/git-upload-pack', 'POST')).toBe(0)

    const sha = await server.commit('branch-unchanged', 'main', { 'b.txt': 'b' })
    const third = await discoverCommits({ repoURL: url }, { lastSeenRefs: first.refs })
    expect(third.unchanged).toBe(false)
    expect(third.commits[0]?.id).toBe(sha)
    expect(server.count('/git-upload-pack', 'POST')).toBe(1)
  })

  it('stops at since', async () => {
    const url = await server.createRepo('branch-since', { 'README.md': 'hi' })
    await server.commit('branch-since', 'main', { x: '1' })
    const future = new Date(Date.now() + 3600_000).toISOString()
    expect((await discoverCommits({ repoURL: url, since: future })).commits).toEqual([])
    expect((await discoverCommits({ repoURL: url, since: '2000-01-01T00:00:00Z' })).commits).toHaveLength(2)
  })

  it('handles an empty repository', async () => {
    const url = await server.createRepo('branch-empty', {}, { empty: true })
    const result = await discoverCommits({ repoURL: url })
    expect(result).toMatchObject({ commits: [], refs: {} })
  })
})

describe('discoverCommits: path filters', () => {
  it('keeps commits whose changes (vs first parent) are included and not excluded, deepening as needed', async () => {
    const name = 'paths'
    const url = await server.createRepo(name, { 'README.md': 'root' }, { message: 'root' })
    const a1 = await server.commit(name, 'main', { 'apps/a/deploy.yaml': '1' }, { message: 'a1' })
    await server.commit(name, 'main', { 'apps/b/deploy.yaml': '1' }, { message: 'b1' })
    for (let i = 0; i < 12; i++)
      await server.commit(name, 'main', { 'docs/notes.md': String(i) }, { message: `docs ${i}` })
    await server.commit(
      name,
      'main',
      { 'apps/a/deploy.yaml': '2', 'configurations/x': '1' },
      { message: 'change a, add configurations' },
    )
    const a3 = await server.commit(
      name,
      'main',
      { 'apps/a/deploy.yaml': '3', 'docs/notes.md': 'z' },
      { message: 'a3' },
    )

    const cases: Array<{ include?: string[]; exclude?: string[]; limit: number; messages: string[] }> = [
      {
        include: ['apps'],
        exclude: ['apps/b'],
        limit: 5,
        messages: ['a3', 'change a, add configurations', 'a1'],
      },
      { include: ['configs'], limit: 5, messages: [] },
      { include: ['glob:configurations/*'], limit: 5, messages: ['change a, add configurations'] },
      { exclude: ['docs'], limit: 3, messages: ['a3', 'change a, add configurations', 'b1'] },
      { include: ['regex:^apps/b/'], limit: 1, messages: ['b1'] },
      { include: ['README.md'], limit: 1, messages: ['root'] },
    ]
    for (const c of cases) {
      const result = await discoverCommits({
        repoURL: url,
        discoveryLimit: c.limit,
        ...(c.include ? { includePaths: c.include } : {}),
        ...(c.exclude ? { excludePaths: c.exclude } : {}),
      })
      expect(
        result.commits.map((x) => x.message),
        JSON.stringify(c),
      ).toEqual(c.messages)
      // a1 is 15 commits deep: reaching it takes a deeper second fetch.
      if (c.messages.includes('a1')) expect(result.stats.fetches).toBe(2)
    }
    const narrow = await discoverCommits({ repoURL: url, discoveryLimit: 2, includePaths: ['apps/a'] })
    expect(narrow.commits.map((c) => c.id)).toEqual([a3, (await server.log(name, 'main'))[1]?.sha])
    expect(narrow.commits.map((c) => c.id)).not.toContain(a1)
  })

  it('diffs a merge commit against its first parent', async () => {
    const name = 'merge'
    const url = await server.createRepo(name, { 'README.md': 'root' })
    const base = (await server.head(name, 'main')) ?? ''
    await server.git(name, ['branch', 'feature', base])
    const feature = await server.commit(name, 'feature', { 'feature/x': '1' }, { message: 'feature work' })
    const main = await server.commit(name, 'main', { 'main/y': '1' }, { message: 'main work' })
    const tree = (await server.git(name, ['rev-parse', `${feature}^{tree}`])).trim()
    const merge = (
      await server.git(name, ['commit-tree', tree, '-p', main, '-p', feature, '-m', 'merge feature'], {
        GIT_AUTHOR_NAME: 'M',
        GIT_AUTHOR_EMAIL: 'm@example.com',
        GIT_COMMITTER_NAME: 'M',
        GIT_COMMITTER_EMAIL: 'm@example.com',
      })
    ).trim()
    await server.git(name, ['update-ref', 'refs/heads/main', merge])
    const result = await discoverCommits({ repoURL: url, includePaths: ['feature'] })
    // First-parent history: the merge brought feature/ in; the feature commit itself is not on the first-parent chain.
    expect(result.commits.map((c) => c.message)).toEqual(['merge feature'])
  })

  it('works with servers that filter blobs and trees', async () => {
    const name = 'filtered'
    const url = await server.createRepo(name, { 'README.md': 'root' })
    await server.git(name, ['config', 'uploadpack.allowFilter', 'true'])
    await server.commit(name, 'main', { 'apps/a.yaml': '1' }, { message: 'apps' })
    await server.commit(name, 'main', { 'docs/a.md': '1' }, { message: 'docs' })
    const tip = await discoverCommits({ repoURL: url })
    expect(tip.commits.map((c) => c.message)).toEqual(['docs', 'apps', `update main`])
    const apps = await discoverCommits({ repoURL: url, includePaths: ['apps'] })
    expect(apps.commits.map((c) => c.message)).toEqual(['apps'])
    await tag(name, 'v1.0.0', (await server.head(name, 'main')) ?? '', '2021-01-01T00:00:00Z')
    const tagged = await discoverCommits({ repoURL: url, commitSelectionStrategy: 'SemVer' })
    expect(tagged.commits.map((c) => c.tag)).toEqual(['v1.0.0'])
  })
})

describe('discoverCommits: tag strategies', () => {
  const name = 'tags'
  let url: string
  const shas: Record<string, string> = {}
  beforeAll(async () => {
    url = await server.createRepo(name, { 'README.md': 'root' }, { message: 'root' })
    shas.c1 = (await server.head(name, 'main')) ?? ''
    shas.c2 = await server.commit(name, 'main', { 'apps/a.yaml': '2' }, { message: 'c2 apps' })
    shas.c3 = await server.commit(name, 'main', { 'docs/a.md': '3' }, { message: 'c3 docs' })
    shas.c4 = await server.commit(name, 'main', { 'apps/a.yaml': '4' }, { message: 'c4 apps' })
    await tag(name, 'v1.0.0', shas.c1, '2021-01-01T00:00:00Z')
    await tag(name, 'v1.1.0', shas.c2, '2021-03-01T00:00:00Z')
    await tag(name, '1.2', shas.c3, '2021-02-01T00:00:00Z')
    await tag(name, 'v2.0.0-rc.1', shas.c4, '2021-04-01T00:00:00Z')
    await tag(name, 'nightly', shas.c4) // lightweight: the commit's (current) date
    await tag(name, 'v1.1.1', shas.c3, '2020-06-01T00:00:00Z')
  })

  const cases: Array<{ name: string; sub: Record<string, unknown>; tags: string[] }> = [
    {
      name: 'SemVer, strict, no constraint',
      sub: { commitSelectionStrategy: 'SemVer' },
      tags: ['v2.0.0-rc.1', 'v1.1.1', 'v1.1.0', 'v1.0.0'],
    },
    {
      name: 'SemVer constraint',
      sub: { commitSelectionStrategy: 'SemVer', semverConstraint: '^1' },
      tags: ['v1.1.1', 'v1.1.0', 'v1.0.0'],
    },
    {
      name: 'SemVer loose',
      sub: { commitSelectionStrategy: 'SemVer', strictSemvers: false, semverConstraint: '>=1.1.1, <2' },
      tags: ['1.2', 'v1.1.1'],
    },
    {
      name: 'Lexical',
      sub: { commitSelectionStrategy: 'Lexical', discoveryLimit: 3 },
      tags: ['v2.0.0-rc.1', 'v1.1.1', 'v1.1.0'],
    },
    {
      name: 'NewestTag by creator date',
      sub: { commitSelectionStrategy: 'NewestTag' },
      tags: ['nightly', 'v2.0.0-rc.1', 'v1.1.0', '1.2', 'v1.0.0', 'v1.1.1'],
    },
    {
      name: 'allow / ignore regexes',
      sub: { commitSelectionStrategy: 'Lexical', allowTagsRegexes: ['^v1'], ignoreTagsRegexes: ['\\.1$'] },
      tags: ['v1.1.0', 'v1.0.0'],
    },
    {
      name: 'tag path filters',
      sub: { commitSelectionStrategy: 'NewestTag', includePaths: ['apps'] },
      tags: ['nightly', 'v2.0.0-rc.1', 'v1.1.0'],
    },
    {
      name: 'tag path filters with a limit',
      sub: { commitSelectionStrategy: 'SemVer', excludePaths: ['apps'], discoveryLimit: 1 },
      tags: ['v1.1.1'],
    },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const result = await discoverCommits({ repoURL: url, ...c.sub })
      expect(result.commits.map((x) => x.tag)).toEqual(c.tags)
      for (const commit of result.commits) expect(commit.branch).toBeUndefined()
    })
  }

  it('reports the tagged commit, the tagger date of annotated tags, and observed refs', async () => {
    const result = await discoverCommits({
      repoURL: url,
      commitSelectionStrategy: 'SemVer',
      semverConstraint: '~1.1.0',
    })
    expect(result.commits).toEqual([
      {
        id: shas.c3,
        tag: 'v1.1.1',
        message: 'c3 docs',
        subject: 'c3 docs',
        author: 'Test Server <server@example.com>',
        committer: 'Test Server <server@example.com>',
        creatorDate: '2020-06-01T00:00:00Z',
      },
      expect.objectContaining({ id: shas.c2, tag: 'v1.1.0', creatorDate: '2021-03-01T00:00:00Z' }),
    ])
    expect(Object.keys(result.refs)).toEqual(['refs/tags/v1.1.0', 'refs/tags/v1.1.1'])
    expect(result.observedRefs.tags?.map((t) => t.name)).toEqual(['v1.1.0', 'v1.1.1'])
    // Annotated tags are recorded by their tag object id.
    expect(result.refs['refs/tags/v1.1.1']).not.toBe(shas.c3)
  })

  it('skips the fetch while the matching tags did not move, and fetches when one is added', async () => {
    const sub = { repoURL: url, commitSelectionStrategy: 'SemVer' as const, semverConstraint: '^1' }
    const first = await discoverCommits(sub)
    server.requests.length = 0
    // A tag outside the constraint does not count as a change.
    await tag(name, 'v3.0.0', shas.c4 ?? '', '2022-01-01T00:00:00Z')
    const second = await discoverCommits(sub, { lastSeenRefs: first.refs })
    expect(second.unchanged).toBe(true)
    expect(server.count('/git-upload-pack', 'POST')).toBe(0)
    await tag(name, 'v1.3.0', shas.c4 ?? '', '2022-01-02T00:00:00Z')
    const third = await discoverCommits(sub, { lastSeenRefs: first.refs })
    expect(third.unchanged).toBe(false)
    expect(third.commits[0]?.tag).toBe('v1.3.0')
    expect(server.count('/git-upload-pack', 'POST')).toBe(1)
    await server.git(name, ['tag', '-d', 'v1.3.0'])
    await server.git(name, ['tag', '-d', 'v3.0.0'])
  })
})

describe('discoverCommits: errors and auth', () => {
  it('uses credentials and reports refusals without leaking them', async () => {
    const secured = await startGitServer({ auth: { username: 'bot', password: 'tok3n' } })
    try {
      const url = await secured.createRepo('private', { 'a.txt': 'a' })
      const ok = await discoverCommits(
        { repoURL: url },
        { credentials: { username: 'bot', password: 'tok3n' } },
      )
      expect(ok.commits).toHaveLength(1)
      const withUserInfo = await discoverCommits({ repoURL: url.replace('http://', 'http://bot:tok3n@') })
      expect(withUserInfo.commits).toHaveLength(1)
      const error = await discoverCommits(
        { repoURL: url },
        { credentials: { username: 'bot', password: 'wrong' } },
      ).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UpstreamError)
      expect(String(error)).toMatch(
        /401 from git host 127\.0\.0\.1:\d+ for 127\.0\.0\.1:\d+\/private\.git: check git credentials/,
      )
      expect(String(error)).not.toContain('wrong')
    } finally {
      await secured.close()
    }
  })

  it('reports a missing repository and an unreachable host', async () => {
    const missing = await discoverCommits({ repoURL: `${server.url}/absent.git` }).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(NotFoundError)
    const port = await freePort()
    const down = await discoverCommits({ repoURL: `http://127.0.0.1:${port}/x.git` }).catch((e: unknown) => e)
    expect(String(down)).toContain(`git host 127.0.0.1:${port} is unreachable: ECONNREFUSED`)
  })

  it('rejects what it does not support', async () => {
    await expect(
      discoverCommits({ repoURL: `${server.url}/x.git`, expressionFilter: 'true' }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(discoverCommits({ repoURL: 'git@github.com:org/repo' })).rejects.toThrow(/http\(s\)/)
    await expect(discoverCommits({ repoURL: `${server.url}/x.git`, allowTags: 'v.*' })).rejects.toThrow(
      /allowTagsRegexes/,
    )
    await expect(
      discoverCommits({ repoURL: `${server.url}/x.git`, semverConstraint: 'bogus' }),
    ).rejects.toBeInstanceOf(ValidationError)
  })
})
