import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { commitURL } from '../git/commit-url.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import {
  GITHUB_FAKE_USER,
  startGitHubFake,
  type FakeGitProvider,
} from '../../test/fakes/gitprovider/index.js'
import { stepHarness, type StepHarness } from '../../test/fakes/gitprovider/harness.js'
import { validateStepConfig } from './config-validation.js'
import { gitClone } from './git-clone.js'
import { gitCommit } from './git-commit.js'
import {
  createGitHubPush,
  GitHubPushConfigSchema,
  githubPushSettingsFromEnv,
  withCoAuthor,
} from './github-push.js'

/*
 * github-push against a real git server fronted by the GitHub contract fake: git (clone, fetch, the staging push)
 * and the REST API (refs, compare, commits) share one URL, as on GitHub Enterprise Server.
 */

const exec = promisify(execFile)
async function cli(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  })
  return stdout.trim()
}

const PROMOTION = 'dev.01j2w7a15cxjjgejresfyw6ysp.666209f'
const JANE = { name: 'Jane Dev', email: 'jane@example.com' }

let server: GitServer
let fake: FakeGitProvider
let counter = 0
const harnesses: StepHarness[] = []

beforeAll(async () => {
  server = await startGitServer()
  fake = await startGitHubFake({ git: server })
})
afterAll(async () => {
  await fake.close()
  await server.close()
})
afterEach(() => {
  server.beforeRequest = undefined
  for (const h of harnesses.splice(0)) h.cleanup()
})

function push(env: Record<string, string> = {}) {
  return createGitHubPush({ apiBaseURL: fake.apiBaseURL, retryDelayMs: () => 5, env })
}

function harness(creds: { password: string } | null = { password: fake.token }): StepHarness {
  const h = stepHarness({
    promotion: PROMOTION,
    ...(creds ? { creds: { username: 'kargo', ...creds } } : {}),
  })
  harnesses.push(h)
  return h
}

async function freshRepo(): Promise<{ repo: string; repoURL: string }> {
  const repo = `acme/app-${++counter}`
  await server.createRepo(repo, { 'README.md': '# app\n', 'values.yaml': 'image: app:1.0.0\n' })
  fake.addRepo(repo)
  return { repo, repoURL: fake.repoURL(repo) }
}

/** Clones `main` into ./out and commits a new image tag there (as Jane, when `author` is set). */
async function render(h: StepHarness, repoURL: string, tag = '1.2.3', author = true): Promise<string> {
  await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: './out' }] })
  fs.writeFileSync(path.join(h.workDir, 'out', 'values.yaml'), `image: app:${tag}\n`)
  await h.run(gitCommit, {
    path: './out',
    message: `Promote app:${tag}`,
    ...(author ? { author: JANE } : {}),
  })
  return cli(out(h), ['rev-parse', 'HEAD^{tree}'])
}

const out = (h: StepHarness) => path.join(h.workDir, 'out')

async function apiCommit(repo: string, sha: string) {
  const res = await fetch(`${fake.apiBaseURL}/repos/${repo}/git/commits/${sha}`, {
    headers: { authorization: `Bearer ${fake.token}` },
  })
  expect(res.status).toBe(200)
  return (await res.json()) as {
    message: string
    author: { name: string; email: string }
    committer: { name: string; email: string }
    tree: { sha: string }
    parents: Array<{ sha: string }>
    verification: { verified: boolean }
  }
}

describe('github-push', () => {
  it('re-creates the local commit on the checked-out branch through the API: verified, with a co-author', async () => {
    const { repo, repoURL } = await freshRepo()
    const before = await server.head(repo, 'main')
    const h = harness()
    const tree = await render(h, repoURL)
    const local = await cli(out(h), ['rev-parse', 'HEAD'])

    const result = await h.run(push(), { path: './out' }, 'push')

    const head = await server.head(repo, 'main')
    expect(head).not.toBe(local)
    expect(result).toEqual({
      status: 'Succeeded',
      output: { commit: head, branch: 'main', commitURL: commitURL(repoURL, head!, 'github') },
    })
    const commit = await apiCommit(repo, head!)
    expect(commit).toMatchObject({
      tree: { sha: tree },
      parents: [{ sha: before }],
      author: { name: GITHUB_FAKE_USER.name, email: GITHUB_FAKE_USER.email },
      committer: { name: 'GitHub', email: 'noreply@github.com' },
      message: 'Promote app:1.2.3\n\nCo-authored-by: Jane Dev <jane@example.com>',
      verification: { verified: true },
    })
    // The workspace follows the branch: HEAD is the re-created commit, and the working tree is clean.
    expect(await cli(out(h), ['rev-parse', 'HEAD'])).toBe(head)
    expect(await cli(out(h), ['status', '--porcelain'])).toBe('')
    // The staging ref is gone.
    expect(await server.git(repo, ['for-each-ref', 'refs/kargo'])).toBe('')
    const deletes = fake.requests.filter((r) => r.method === 'DELETE')
    expect(deletes.at(-1)?.path).toBe(`/api/v3/repos/${repo}/git/refs/kargo/staging/${PROMOTION}`)
  })

  it('adds no trailer when Tugboat authored the commit itself', async () => {
    const { repo, repoURL } = await freshRepo()
    const h = harness()
    await render(h, repoURL, '1.2.4', false)
    const result = await h.run(push(), { path: './out' })
    const commit = await apiCommit(repo, String(result.output?.commit))
    expect(commit.message).toBe('Promote app:1.2.4')
    expect(commit.verification.verified).toBe(true)
  })

  it('creates kargo/promotion/<promotion> with generateTargetBranch and outputs it', async () => {
    const { repo, repoURL } = await freshRepo()
    const main = await server.head(repo, 'main')
    const h = harness()
    const tree = await render(h, repoURL)
    const result = await h.run(push(), { path: './out', generateTargetBranch: true })
    const branch = `kargo/promotion/${PROMOTION}`
    const head = await server.head(repo, branch)
    expect(result.output).toMatchObject({ commit: head, branch })
    expect(await server.head(repo, 'main')).toBe(main)
    expect((await server.git(repo, ['rev-parse', `${head}^{tree}`])).trim()).toBe(tree)
    expect((await apiCommit(repo, head!)).parents).toEqual([expect.objectContaining({ sha: main })])
    expect(await cli(out(h), ['rev-parse', 'HEAD'])).toBe(head)
  })

  it('pushes to targetBranch, creating it from the current branch', async () => {
    const { repo, repoURL } = await freshRepo()
    const main = await server.head(repo, 'main')
    const h = harness()
    await render(h, repoURL)
    const result = await h.run(push(), { path: './out', targetBranch: 'stage/dev' })
    const head = await server.head(repo, 'stage/dev')
    expect(result.output).toMatchObject({ commit: head, branch: 'stage/dev' })
    expect((await server.log(repo, 'stage/dev'))[0]?.parents).toEqual([main])
  })

  it('pushes an orphan branch (git-clone create) that exists nowhere on GitHub yet', async () => {
    const { repo, repoURL } = await freshRepo()
    const h = harness()
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'stage/dev', create: true, path: './out' }] })
    fs.writeFileSync(path.join(out(h), 'manifests.yaml'), 'kind: List\n')
    await h.run(gitCommit, { path: './out', message: 'Render' })
    const result = await h.run(push(), { path: './out' })
    const log = await server.log(repo, 'stage/dev')
    expect(log.map((c) => c.message)).toEqual(['Render', 'Initial commit'])
    expect(log[1]?.parents).toEqual([])
    expect(result.output).toMatchObject({ commit: log[0]?.sha, branch: 'stage/dev' })
    expect(await server.listFiles(repo, 'stage/dev')).toEqual(['manifests.yaml'])
  })

  it('integrates a push someone made since the clone, keeping both changes', async () => {
    const { repo, repoURL } = await freshRepo()
    const h = harness()
    await render(h, repoURL)
    const theirs = await server.commit(repo, 'main', { 'NOTES.md': 'from someone else\n' })
    const result = await h.run(push(), { path: './out' })
    const head = await server.head(repo, 'main')
    expect(result.output).toMatchObject({ commit: head })
    expect((await server.log(repo, 'main'))[0]?.parents).toEqual([theirs])
    expect(await server.readFile(repo, 'main', 'values.yaml')).toBe('image: app:1.2.3\n')
    expect(await server.readFile(repo, 'main', 'NOTES.md')).toBe('from someone else\n')
    expect(fs.readFileSync(path.join(out(h), 'NOTES.md'), 'utf8')).toBe('from someone else\n')
    expect(await cli(out(h), ['rev-parse', 'HEAD'])).toBe(head)
  })

  it('retries when someone pushes while ours is in flight', async () => {
    const { repo, repoURL } = await freshRepo()
    const h = harness()
    await render(h, repoURL)
    let theirs: string | undefined
    server.beforeRequest = async (r) => {
      if (theirs === undefined && r.method === 'POST' && r.path.endsWith('/git-receive-pack'))
        theirs = await server.commit(repo, 'main', { 'NOTES.md': 'raced\n' })
    }
    const result = await h.run(push(), { path: './out' })
    expect(theirs).toBeDefined()
    expect((await server.log(repo, 'main'))[0]?.parents).toEqual([theirs])
    expect(result.output).toMatchObject({ commit: await server.head(repo, 'main') })
    expect(h.logs.join('\n')).toMatch(/main moved while pushing \(attempt 1\)/)
    expect(await server.git(repo, ['for-each-ref', 'refs/kargo'])).toBe('')
  })

  it.each([
    { name: 'the checked-out branch', config: {} },
    { name: 'a generated branch (force)', config: { generateTargetBranch: true } },
  ])('is a no-op when run again after a success ($name)', async ({ config }) => {
    const { repo, repoURL } = await freshRepo()
    const h = harness()
    await render(h, repoURL)
    // A second workspace that made the same commit (the Promotion's start time fixes its SHA): the state a
    // Promotion that crashed after moving the branch, before recording the step, replays from.
    const crashed = harness()
    await render(crashed, repoURL)
    expect(await cli(out(crashed), ['rev-parse', 'HEAD'])).toBe(await cli(out(h), ['rev-parse', 'HEAD']))

    const first = await h.run(push(), { path: './out', ...config })
    const branch = String(first.output?.branch)
    const commits = (await server.log(repo, branch)).length
    const created = () => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git/commits'))
    const made = created().length

    const again = await h.run(push(), { path: './out', ...config })
    const replayed = await crashed.run(push(), { path: './out', ...config })
    expect(again).toEqual(first)
    expect(replayed).toEqual(first)
    expect((await server.log(repo, branch)).length).toBe(commits)
    expect(created().length).toBe(made)
    expect(await cli(out(crashed), ['rev-parse', 'HEAD'])).toBe(first.output?.commit)
    expect(await server.git(repo, ['for-each-ref', 'refs/kargo'])).toBe('')
  })

  it('fails terminally without credentials, naming the URL', async () => {
    const { repoURL } = await freshRepo()
    const h = harness(null)
    await render(h, repoURL)
    const run = h.run(push(), { path: './out' })
    await expect(run).rejects.toThrow(TerminalError)
    await expect(run).rejects.toThrow(`no credentials found for ${repoURL}`)
  })

  it('fails terminally with a bad token (HTTP 401)', async () => {
    const { repo, repoURL } = await freshRepo()
    const main = await server.head(repo, 'main')
    const h = harness({ password: 'not-the-token' })
    await render(h, repoURL)
    const run = h.run(push(), { path: './out' })
    await expect(run).rejects.toThrow(TerminalError)
    await expect(run).rejects.toThrow(/authentication failed \(HTTP 401\)/)
    expect(await server.head(repo, 'main')).toBe(main)
  })

  it('fails terminally when there are more commits than TUGBOAT_GITHUB_PUSH_MAX_REVISIONS', async () => {
    const { repo, repoURL } = await freshRepo()
    const main = await server.head(repo, 'main')
    const h = harness()
    await render(h, repoURL)
    fs.writeFileSync(path.join(out(h), 'values.yaml'), 'image: app:1.2.4\n')
    await h.run(gitCommit, { path: './out', message: 'again' })
    const run = h.run(push({ TUGBOAT_GITHUB_PUSH_MAX_REVISIONS: '1' }), { path: './out' })
    await expect(run).rejects.toThrow(TerminalError)
    await expect(run).rejects.toThrow(/re-create 2 commits .*more than the 1 allowed/)
    expect(await server.head(repo, 'main')).toBe(main)
  })

  it('sends the original author and committer with TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS (unverified)', async () => {
    const { repo, repoURL } = await freshRepo()
    const h = harness()
    const tree = await render(h, repoURL)
    const result = await h.run(push({ TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS: 'true' }), { path: './out' })
    const commit = await apiCommit(repo, String(result.output?.commit))
    expect(commit).toMatchObject({
      tree: { sha: tree },
      author: JANE,
      committer: { name: 'Kargo', email: 'no-reply@kargo.io' },
      message: 'Promote app:1.2.3',
      verification: { verified: false },
    })
  })
})

describe('github-push config', () => {
  const both = { path: './out', targetBranch: 'stage/dev', generateTargetBranch: true }

  it('rejects targetBranch together with generateTargetBranch', () => {
    // At apply time Kargo's JSON schema (a oneOf) reports the conflict, naming the fields; so does the parsed config.
    expect(validateStepConfig('github-push', both)).toEqual([
      'generateTargetBranch: conflicts with targetBranch; set only one of them (see the step reference)',
    ])
    const parsed = GitHubPushConfigSchema.safeParse(both)
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['targetBranch'],
      message: expect.stringContaining('generateTargetBranch'),
    })
  })

  it.each([
    [{ path: './out' }],
    [{ path: './out', targetBranch: 'stage/dev', force: true, maxAttempts: 3 }],
    [{ path: './out', generateTargetBranch: true, insecureSkipTLSVerify: true }],
  ])('accepts %j', (config) => {
    expect(validateStepConfig('github-push', config)).toEqual([])
    expect(GitHubPushConfigSchema.safeParse(config).success).toBe(true)
  })

  it('applies Kargo defaults', () => {
    expect(GitHubPushConfigSchema.parse({ path: 'out' })).toEqual({
      path: 'out',
      targetBranch: undefined,
      generateTargetBranch: false,
      force: false,
      maxAttempts: 10,
      insecureSkipTLSVerify: false,
    })
  })

  it.each([
    [{}, { maxRevisions: 10, preserveAuthors: false }],
    [
      { TUGBOAT_GITHUB_PUSH_MAX_REVISIONS: '25', TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS: 'TRUE' },
      { maxRevisions: 25, preserveAuthors: true },
    ],
    [
      { TUGBOAT_GITHUB_PUSH_MAX_REVISIONS: '', TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS: 'false' },
      { maxRevisions: 10, preserveAuthors: false },
    ],
  ])('reads the deployment settings %j', (env, settings) => {
    expect(githubPushSettingsFromEnv(env)).toEqual(settings)
  })

  it.each([
    [{ TUGBOAT_GITHUB_PUSH_MAX_REVISIONS: '0' }, /TUGBOAT_GITHUB_PUSH_MAX_REVISIONS/],
    [{ TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS: 'yes' }, /TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS/],
  ])('refuses malformed settings %j', (env, message) => {
    expect(() => githubPushSettingsFromEnv(env)).toThrow(message)
  })
})

describe('withCoAuthor', () => {
  const kargo = { name: 'Kargo', email: 'no-reply@kargo.io' }
  it.each([
    ['same identity', 'Msg\n', kargo, 'Msg\n'],
    ['another author', 'Msg\n', JANE, 'Msg\n\nCo-authored-by: Jane Dev <jane@example.com>\n'],
    [
      'after existing trailers',
      'Msg\n\nSigned-off-by: Jane Dev <jane@example.com>\n',
      JANE,
      'Msg\n\nSigned-off-by: Jane Dev <jane@example.com>\nCo-authored-by: Jane Dev <jane@example.com>\n',
    ],
    [
      'already credited',
      'Msg\n\nCo-authored-by: Jane Dev <jane@example.com>\n',
      JANE,
      'Msg\n\nCo-authored-by: Jane Dev <jane@example.com>\n',
    ],
  ])('%s', (_name, message, author, expected) => {
    expect(withCoAuthor(message, author, kargo)).toBe(expected)
  })
})
