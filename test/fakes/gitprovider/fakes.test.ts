import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGitServer, type GitServer } from '../../support/git-server.js'
import {
  GITHUB_FAKE_USER,
  startGitHubFake,
  startGitLabFake,
  startGiteaFake,
  type FakeGitProvider,
} from './index.js'

/*
 * The fakes answer as the real APIs do: these tests speak raw HTTP to them, so the clients' tests can trust them.
 */

const SHA_MAIN = 'a'.repeat(40)
const SHA_FEATURE = 'b'.repeat(40)

async function call(
  fake: FakeGitProvider,
  method: string,
  path: string,
  opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${fake.apiBaseURL}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...opts.headers },
    ...(opts.rawBody !== undefined
      ? { body: opts.rawBody }
      : opts.body !== undefined
        ? { body: JSON.stringify(opts.body) }
        : {}),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}

describe('GitHub fake', () => {
  let fake: FakeGitProvider
  const auth = { authorization: 'Bearer test-token', accept: 'application/vnd.github+json' }
  beforeAll(async () => {
    fake = await startGitHubFake()
    fake.addRepo('acme/app', { branches: { main: SHA_MAIN, feature: SHA_FEATURE, same: SHA_MAIN } })
  })
  afterAll(() => fake.close())

  it.each([
    ['no token', {}, 'Requires authentication'],
    ['a bad token', { authorization: 'Bearer nope' }, 'Bad credentials'],
  ])('answers 401 for %s', async (_name, headers, message) => {
    const res = await call(fake, 'GET', '/repos/acme/app/pulls', { headers })
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ message })
  })

  it('answers 404 for an unknown repository or pull request', async () => {
    expect((await call(fake, 'GET', '/repos/acme/nope/pulls', { headers: auth })).status).toBe(404)
    expect((await call(fake, 'GET', '/repos/acme/app/pulls/999', { headers: auth })).body).toMatchObject({
      message: 'Not Found',
    })
  })

  it.each([
    ['a missing head', { title: 't', base: 'main' }, 422, /"head" wasn't supplied/],
    ['a head of the wrong type', { title: 't', head: 5, base: 'main' }, 422, /properties\/head/],
    ['a missing title', { head: 'feature', base: 'main' }, 422, /"title" wasn't supplied/],
  ])('validates the create body: %s', async (_name, body, status, message) => {
    const res = await call(fake, 'POST', '/repos/acme/app/pulls', { headers: auth, body })
    expect(res.status).toBe(status)
    expect(res.body).toMatchObject({ message: expect.stringMatching(message) })
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await call(fake, 'POST', '/repos/acme/app/pulls', { headers: auth, rawBody: '{' })
    expect(res).toMatchObject({ status: 400, body: { message: 'Problems parsing JSON' } })
  })

  it('refuses unknown branches, empty and duplicate pull requests with 422 Validation Failed', async () => {
    const unknown = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { title: 't', head: 'nope', base: 'main' },
    })
    expect(unknown).toMatchObject({
      status: 422,
      body: { message: 'Validation Failed', errors: [{ field: 'head', code: 'invalid' }] },
    })
    const empty = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { title: 't', head: 'same', base: 'main' },
    })
    expect(empty.body).toMatchObject({ errors: [{ message: 'No commits between main and same' }] })

    const created = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { title: 'Promote', head: 'feature', base: 'main', body: 'details' },
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      number: 1,
      state: 'open',
      merged: false,
      mergeable_state: 'clean',
      html_url: `${fake.url}/acme/app/pull/1`,
      head: { ref: 'feature', sha: SHA_FEATURE, label: 'acme:feature' },
      base: { ref: 'main', sha: SHA_MAIN },
    })
    const duplicate = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { title: 'again', head: 'feature', base: 'main' },
    })
    expect(duplicate.body).toMatchObject({
      message: 'Validation Failed',
      errors: [{ message: 'A pull request already exists for acme:feature.' }],
    })
  })

  it('filters the list by owner:branch head (a bare branch is ignored) and base', async () => {
    const list = async (query: string) =>
      ((await call(fake, 'GET', `/repos/acme/app/pulls?${query}`, { headers: auth })).body as unknown[])
        .length
    expect(await list('state=open&head=acme:feature&base=main')).toBe(1)
    expect(await list('state=open&head=acme:other')).toBe(0)
    expect(await list('state=open&head=other')).toBe(1)
    expect(await list('state=closed')).toBe(0)
  })

  it('merges with PUT …/merge, refusing what GitHub refuses with 405', async () => {
    fake.setPull('acme/app', 1, { readiness: 'blocked' })
    const blocked = await call(fake, 'PUT', '/repos/acme/app/pulls/1/merge', { headers: auth, body: {} })
    expect(blocked).toMatchObject({
      status: 405,
      body: { message: expect.stringMatching(/approving review/) },
    })
    const badMethod = await call(fake, 'PUT', '/repos/acme/app/pulls/1/merge', {
      headers: auth,
      body: { merge_method: 'octopus' },
    })
    expect(badMethod.status).toBe(422)
    fake.setPull('acme/app', 1, { readiness: 'ready' })
    const merged = await call(fake, 'PUT', '/repos/acme/app/pulls/1/merge', {
      headers: auth,
      body: { merge_method: 'squash' },
    })
    expect(merged).toMatchObject({
      status: 200,
      body: { merged: true, message: 'Pull Request successfully merged' },
    })
    const after = await call(fake, 'GET', '/repos/acme/app/pulls/1', { headers: auth })
    expect(after.body).toMatchObject({
      state: 'closed',
      merged: true,
      merge_commit_sha: fake.pull('acme/app', 1).mergeCommitSHA,
    })
    const again = await call(fake, 'PUT', '/repos/acme/app/pulls/1/merge', { headers: auth, body: {} })
    expect(again.status).toBe(405)
  })

  it('paginates with a Link header', async () => {
    fake.addRepo('acme/many', {
      branches: {
        main: SHA_MAIN,
        ...Object.fromEntries([...Array(5)].map((_, i) => [`b${i}`, SHA_FEATURE])),
      },
    })
    for (let i = 0; i < 5; i++) await fake.openPull('acme/many', { head: `b${i}`, base: 'main' })
    const first = await call(fake, 'GET', '/repos/acme/many/pulls?per_page=2', { headers: auth })
    expect(first.body).toHaveLength(2)
    expect(first.headers.get('link')).toMatch(/page=2>; rel="next"/)
  })
})

describe('GitLab fake', () => {
  let fake: FakeGitProvider
  const auth = { 'private-token': 'test-token' }
  const project = `/projects/${encodeURIComponent('group/sub/app')}`
  beforeAll(async () => {
    fake = await startGitLabFake()
    fake.addRepo('group/sub/app', { branches: { main: SHA_MAIN, feature: SHA_FEATURE } })
  })
  afterAll(() => fake.close())

  it('answers 401 for a bad PRIVATE-TOKEN and 404 for an unknown project', async () => {
    const unauthorized = await call(fake, 'GET', `${project}/merge_requests`, {
      headers: { 'private-token': 'x' },
    })
    expect(unauthorized).toMatchObject({ status: 401, body: { message: '401 Unauthorized' } })
    const unknown = await call(fake, 'GET', `/projects/${encodeURIComponent('group/nope')}/merge_requests`, {
      headers: auth,
    })
    expect(unknown).toMatchObject({ status: 404, body: { message: '404 Project Not Found' } })
  })

  it('answers 400 naming every missing parameter', async () => {
    const res = await call(fake, 'POST', `${project}/merge_requests`, { headers: auth, body: { title: 'x' } })
    expect(res).toMatchObject({
      status: 400,
      body: { error: 'source_branch is missing, target_branch is missing' },
    })
  })

  it('creates, refuses a duplicate with 409, lists and accepts a merge request', async () => {
    const missing = await call(fake, 'POST', `${project}/merge_requests`, {
      headers: auth,
      body: { source_branch: 'nope', target_branch: 'main', title: 't' },
    })
    expect(missing).toMatchObject({ status: 422, body: { message: ['Source branch "nope" does not exist'] } })
    const created = await call(fake, 'POST', `${project}/merge_requests`, {
      headers: auth,
      body: {
        source_branch: 'feature',
        target_branch: 'main',
        title: 'Promote',
        description: 'd',
        labels: 'a,b',
      },
    })
    expect(created).toMatchObject({
      status: 201,
      body: {
        iid: 1,
        state: 'opened',
        sha: SHA_FEATURE,
        labels: ['a', 'b'],
        detailed_merge_status: 'mergeable',
        web_url: `${fake.url}/group/sub/app/-/merge_requests/1`,
      },
    })
    const duplicate = await call(fake, 'POST', `${project}/merge_requests`, {
      headers: auth,
      body: { source_branch: 'feature', target_branch: 'main', title: 'again' },
    })
    expect(duplicate).toMatchObject({
      status: 409,
      body: { message: ['Another open merge request already exists for this source branch: !1'] },
    })
    const list = await call(fake, 'GET', `${project}/merge_requests?state=opened&source_branch=feature`, {
      headers: auth,
    })
    expect(list.body).toHaveLength(1)
    expect(list.headers.get('x-next-page')).toBe('')

    fake.setPull('group/sub/app', 1, { readiness: 'pending' })
    const early = await call(fake, 'PUT', `${project}/merge_requests/1/merge`, { headers: auth, body: {} })
    expect(early.status).toBe(405)
    fake.setPull('group/sub/app', 1, { readiness: 'conflict' })
    expect(
      (await call(fake, 'PUT', `${project}/merge_requests/1/merge`, { headers: auth, body: {} })).status,
    ).toBe(406)
    fake.setPull('group/sub/app', 1, { readiness: 'ready' })
    const bad = await call(fake, 'PUT', `${project}/merge_requests/1/merge`, {
      headers: auth,
      body: { squash: 'yes' },
    })
    expect(bad).toMatchObject({ status: 400, body: { error: 'squash is invalid' } })
    const merged = await call(fake, 'PUT', `${project}/merge_requests/1/merge`, { headers: auth, body: {} })
    expect(merged).toMatchObject({
      status: 200,
      body: { state: 'merged', detailed_merge_status: 'not_open' },
    })
    expect(merged.body).toMatchObject({ merge_commit_sha: fake.pull('group/sub/app', 1).mergeCommitSHA })
  })
})

describe('Gitea fake', () => {
  let fake: FakeGitProvider
  const auth = { authorization: 'token test-token' }
  beforeAll(async () => {
    fake = await startGiteaFake()
    fake.addRepo('acme/app', { branches: { main: SHA_MAIN, feature: SHA_FEATURE }, labels: ['infra'] })
  })
  afterAll(() => fake.close())

  it('answers 401 for a bad token and 404 for an unknown repository', async () => {
    expect(
      (await call(fake, 'GET', '/repos/acme/app/pulls', { headers: { authorization: 'token x' } })).status,
    ).toBe(401)
    expect((await call(fake, 'GET', '/repos/acme/nope/pulls', { headers: auth })).status).toBe(404)
  })

  it('validates bodies as Gitea binding does (422 "[Field]: Rule")', async () => {
    const res = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { head: 'feature', base: 'main' },
    })
    expect(res).toMatchObject({ status: 422, body: { message: '[Title]: Required' } })
  })

  it('creates with label ids, refuses a duplicate with 409 and merges with {Do}', async () => {
    const labels = await call(fake, 'GET', '/repos/acme/app/labels', { headers: auth })
    const infra = (labels.body as Array<{ id: number; name: string }>).find((l) => l.name === 'infra')!
    const created = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { head: 'feature', base: 'main', title: 'Promote', body: 'd', labels: [infra.id] },
    })
    expect(created).toMatchObject({
      status: 201,
      body: { number: 1, state: 'open', mergeable: true, merged: false, labels: [{ name: 'infra' }] },
    })
    const duplicate = await call(fake, 'POST', '/repos/acme/app/pulls', {
      headers: auth,
      body: { head: 'feature', base: 'main', title: 'again' },
    })
    expect(duplicate.status).toBe(409)
    const badStyle = await call(fake, 'POST', '/repos/acme/app/pulls/1/merge', {
      headers: auth,
      body: { Do: 'octopus' },
    })
    expect(badStyle).toMatchObject({ status: 422, body: { message: '[Do]: In' } })
    const merged = await call(fake, 'POST', '/repos/acme/app/pulls/1/merge', {
      headers: auth,
      body: { Do: 'merge' },
    })
    expect(merged.status).toBe(200)
    const after = await call(fake, 'GET', '/repos/acme/app/pulls/1', { headers: auth })
    expect(after.body).toMatchObject({ state: 'closed', merged: true })
    expect(
      (await call(fake, 'POST', '/repos/acme/app/pulls/1/merge', { headers: auth, body: { Do: 'merge' } }))
        .status,
    ).toBe(405)
  })
})

describe('a fake backed by a git server', () => {
  let git: GitServer
  let fake: FakeGitProvider
  beforeAll(async () => {
    git = await startGitServer()
    await git.createRepo('acme/app', { 'README.md': 'hello\n' })
    await git.git('acme/app', ['branch', 'feature', 'main'])
    await git.commit('acme/app', 'feature', { 'app.yaml': 'v: 2\n' }, { message: 'bump' })
    fake = await startGitHubFake({ git })
    fake.addRepo('acme/app')
  })
  afterAll(async () => {
    await fake.close()
    await git.close()
  })

  it('serves git through the same URL and merges for real', async () => {
    const refs = await fetch(`${fake.repoURL('acme/app')}/info/refs?service=git-upload-pack`)
    expect(refs.status).toBe(200)
    expect(await refs.text()).toContain('refs/heads/feature')
    const pr = await fake.openPull('acme/app', { head: 'feature', base: 'main', title: 'Bump' })
    const sha = await fake.mergePull('acme/app', pr.number)
    expect(await git.head('acme/app', 'main')).toBe(sha)
    expect(await git.readFile('acme/app', 'main', 'app.yaml')).toBe('v: 2\n')
    const [merge] = await git.log('acme/app', 'main')
    expect(merge?.parents).toHaveLength(2)
  })
})

describe('GitHub fake: Git Data and compare routes', () => {
  let git: GitServer
  let fake: FakeGitProvider
  let main: string
  let feature: string
  let tree: string
  const auth = { authorization: 'Bearer test-token', accept: 'application/vnd.github+json' }
  const api = (method: string, path: string, body?: unknown) =>
    call(fake, method, `/repos/acme/data${path}`, { headers: auth, ...(body === undefined ? {} : { body }) })

  beforeAll(async () => {
    git = await startGitServer()
    await git.createRepo('acme/data', { 'README.md': 'hello\n' })
    main = (await git.head('acme/data', 'main'))!
    await git.git('acme/data', ['branch', 'feature', 'main'])
    feature = await git.commit('acme/data', 'feature', { 'app.yaml': 'v: 2\n' }, { message: 'bump' })
    tree = (await git.git('acme/data', ['rev-parse', `${feature}^{tree}`])).trim()
    fake = await startGitHubFake({ git })
    fake.addRepo('acme/data')
  })
  afterAll(async () => {
    await fake.close()
    await git.close()
  })

  it('reads a ref, and answers 404 for one that does not exist', async () => {
    expect(await api('GET', '/git/ref/heads/feature')).toMatchObject({
      status: 200,
      body: { ref: 'refs/heads/feature', object: { sha: feature, type: 'commit' } },
    })
    expect(await api('GET', '/git/ref/heads/nope')).toMatchObject({
      status: 404,
      body: { message: 'Not Found' },
    })
  })

  it('compares two commits as GitHub does', async () => {
    const ahead = await api('GET', `/compare/main...${feature}`)
    expect(ahead).toMatchObject({
      status: 200,
      body: {
        status: 'ahead',
        ahead_by: 1,
        behind_by: 0,
        total_commits: 1,
        base_commit: { sha: main },
        merge_base_commit: { sha: main },
        commits: [
          { sha: feature, commit: { message: 'bump', tree: { sha: tree } }, parents: [{ sha: main }] },
        ],
        files: [{ filename: 'app.yaml', status: 'added' }],
      },
    })
    expect((await api('GET', '/compare/feature...main')).body).toMatchObject({
      status: 'behind',
      commits: [],
    })
    expect((await api('GET', '/compare/main...main')).body).toMatchObject({ status: 'identical' })
    expect((await api('GET', '/compare/main...nope')).status).toBe(404)
  })

  it('creates commits: signed and authored by the token user without an identity, unsigned with one', async () => {
    const bare = await api('POST', '/git/commits', { message: 'bot', tree, parents: [main] })
    expect(bare).toMatchObject({
      status: 201,
      body: {
        message: 'bot',
        tree: { sha: tree },
        parents: [{ sha: main }],
        author: { name: GITHUB_FAKE_USER.name, email: GITHUB_FAKE_USER.email },
        committer: { name: 'GitHub', email: 'noreply@github.com' },
        verification: { verified: true, reason: 'valid' },
      },
    })
    const sha = (bare.body as { sha: string }).sha
    expect(await git.git('acme/data', ['cat-file', '-t', sha])).toBe('commit\n')
    expect((await api('GET', `/git/commits/${sha}`)).body).toMatchObject({
      sha,
      verification: { verified: true },
    })

    const jane = { name: 'Jane', email: 'jane@example.com', date: '2025-01-01T10:00:00+02:00' }
    const authored = await api('POST', '/git/commits', {
      message: 'by jane',
      tree,
      parents: [main],
      author: jane,
    })
    expect(authored.body).toMatchObject({
      author: { name: 'Jane', email: 'jane@example.com', date: '2025-01-01T08:00:00Z' },
      committer: { name: 'Jane', email: 'jane@example.com' },
      verification: { verified: false, reason: 'unsigned' },
    })

    expect(await api('POST', '/git/commits', { message: 'x', tree: 'f'.repeat(40) })).toMatchObject({
      status: 422,
      body: { message: 'Tree SHA does not exist' },
    })
    expect(await api('POST', '/git/commits', { message: 'x', tree, parents: [tree] })).toMatchObject({
      status: 422,
      body: { message: 'Parent SHA does not exist or is not a commit object' },
    })
    expect((await api('POST', '/git/commits', { tree })).status).toBe(422)
  })

  it('creates, moves (fast-forward unless forced) and deletes refs', async () => {
    const created = await api('POST', '/git/refs', { ref: 'refs/heads/topic', sha: feature })
    expect(created).toMatchObject({
      status: 201,
      body: { ref: 'refs/heads/topic', object: { sha: feature } },
    })
    expect(await api('POST', '/git/refs', { ref: 'refs/heads/topic', sha: main })).toMatchObject({
      status: 422,
      body: { message: 'Reference already exists' },
    })
    expect((await api('POST', '/git/refs', { ref: 'topic', sha: main })).status).toBe(422)

    expect(await api('PATCH', '/git/refs/heads/topic', { sha: main })).toMatchObject({
      status: 422,
      body: { message: 'Update is not a fast forward' },
    })
    expect(await git.head('acme/data', 'topic')).toBe(feature)
    expect(await api('PATCH', '/git/refs/heads/topic', { sha: main, force: true })).toMatchObject({
      status: 200,
      body: { object: { sha: main } },
    })
    expect((await api('PATCH', '/git/refs/heads/topic', { sha: feature, force: false })).status).toBe(200)
    expect(await api('PATCH', '/git/refs/heads/nope', { sha: main })).toMatchObject({
      status: 422,
      body: { message: 'Reference does not exist' },
    })

    expect((await api('DELETE', '/git/refs/heads/topic')).status).toBe(204)
    expect(await git.head('acme/data', 'topic')).toBeUndefined()
    expect(await api('DELETE', '/git/refs/heads/topic')).toMatchObject({
      status: 422,
      body: { message: 'Reference does not exist' },
    })
  })
})
