import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConflictError, TerminalError } from '../errors.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import {
  startGitHubFake,
  startGitLabFake,
  startGiteaFake,
  type FakeGitProvider,
  type FakeProviderOptions,
} from '../../test/fakes/gitprovider/index.js'
import { stepHarness, type StepHarness } from '../../test/fakes/gitprovider/harness.js'
import { gitClone } from './git-clone.js'
import { gitCommit } from './git-commit.js'
import { createGitOpenPR, gitOpenPR, GitOpenPRConfigSchema } from './git-open-pr.js'
import { createGitPush } from './git-push.js'
import { gitWaitForPR } from './git-wait-for-pr.js'

/*
 * git-open-pr against a real git server fronted by each provider's contract fake (one URL serves git and the API,
 * as a self-hosted server does), with `provider` named in the config since 127.0.0.1 names no provider.
 */

interface Case {
  provider: 'github' | 'gitlab' | 'gitea'
  start: (opts?: FakeProviderOptions) => Promise<FakeGitProvider>
  owner: string
}

const cases: Case[] = [
  { provider: 'github', start: startGitHubFake, owner: 'acme' },
  { provider: 'gitlab', start: startGitLabFake, owner: 'group/sub' },
  { provider: 'gitea', start: startGiteaFake, owner: 'acme' },
]

const SOURCE = 'kargo/promotion/dev.01j2w7a15cxjjgejresfyw6ysp.666209f'
const COMMIT_MESSAGE = 'Promote app:1.2.3 to dev\n\nFreight abc123\nImage app:1.2.3'

let git: GitServer
let counter = 0
const harnesses: StepHarness[] = []

beforeAll(async () => {
  git = await startGitServer()
})
afterAll(() => git.close())
afterEach(() => {
  for (const h of harnesses.splice(0)) h.cleanup()
})

function harness(token: string | undefined): StepHarness {
  const h = stepHarness(token === undefined ? {} : { creds: { username: 'kargo', password: token } })
  harnesses.push(h)
  return h
}

/** A repository with `main`, `stage/dev`, and a promotion branch one commit ahead of `stage/dev`. */
async function seedRepo(name: string): Promise<void> {
  await git.createRepo(name, { 'README.md': '# app\n' })
  await git.git(name, ['branch', 'stage/dev', 'main'])
  await git.git(name, ['branch', SOURCE, 'stage/dev'])
  await git.commit(name, SOURCE, { 'manifests.yaml': 'image: app:1.2.3\n' }, { message: COMMIT_MESSAGE })
}

describe.each(cases)('git-open-pr ($provider)', (c) => {
  let fake: FakeGitProvider
  let repo: string
  let repoURL: string
  beforeAll(async () => {
    fake = await c.start({ git })
  })
  afterAll(() => fake.close())

  async function freshRepo(): Promise<void> {
    repo = `${c.owner}/app-${++counter}`
    await seedRepo(repo)
    fake.addRepo(repo, { labels: ['infra', 'needs-review'] })
    repoURL = fake.repoURL(repo)
  }

  const config = (extra: Record<string, unknown> = {}) => ({
    repoURL,
    provider: c.provider,
    sourceBranch: SOURCE,
    targetBranch: 'stage/dev',
    ...extra,
  })

  it('opens a pull request titled after the head commit, and outputs pr.id and pr.url', async () => {
    await freshRepo()
    const h = harness(fake.token)
    const result = await h.run(gitOpenPR, config(), 'open-pr')
    const [pull] = fake.pulls(repo)
    expect(result).toEqual({
      status: 'Succeeded',
      output: { pr: { id: pull!.number, url: expect.any(String) } },
    })
    expect((result.output?.pr as { url: string }).url).toMatch(new RegExp(`^${fake.url}/${repo}/`))
    expect(pull).toMatchObject({
      head: SOURCE,
      base: 'stage/dev',
      headSHA: await git.head(repo, SOURCE),
      title: 'Promote app:1.2.3 to dev',
      body: 'Freight abc123\nImage app:1.2.3',
    })
    // The scratch object store is gone.
    expect(fs.readdirSync(h.workDir)).toEqual([])
  })

  it('is idempotent: run again (a crash before the output was saved), it reuses the open pull request', async () => {
    await freshRepo()
    const first = await harness(fake.token).run(gitOpenPR, config(), 'open-pr')
    const replay = harness(fake.token)
    const second = await replay.run(gitOpenPR, config(), 'open-pr')
    expect(second).toEqual(first)
    expect(fake.pulls(repo)).toHaveLength(1)
    expect(replay.logs.join('\n')).toMatch(/reusing open pull request #1/)
  })

  it('opens a new pull request when the earlier one was closed without merging', async () => {
    await freshRepo()
    await harness(fake.token).run(gitOpenPR, config(), 'open-pr')
    fake.closePull(repo, 1)
    const again = await harness(fake.token).run(gitOpenPR, config(), 'open-pr')
    expect(again.output).toMatchObject({ pr: { id: 2 } })
  })

  it('takes title, description and labels from the config', async () => {
    await freshRepo()
    await harness(fake.token).run(
      gitOpenPR,
      config({ title: 'Deploy to dev', description: 'Reviewed by Kargo', labels: ['infra', 'needs-review'] }),
    )
    expect(fake.pulls(repo)[0]).toMatchObject({
      title: 'Deploy to dev',
      body: 'Reviewed by Kargo',
      labels: ['infra', 'needs-review'],
    })
  })

  it('with a title only, the whole commit message is the description', async () => {
    await freshRepo()
    await harness(fake.token).run(gitOpenPR, config({ title: 'Deploy to dev' }))
    expect(fake.pulls(repo)[0]?.body).toBe(COMMIT_MESSAGE)
  })

  it('is Skipped when the source branch holds nothing the target lacks', async () => {
    await freshRepo()
    await git.git(repo, ['branch', 'same', 'stage/dev'])
    const same = await harness(fake.token).run(gitOpenPR, config({ sourceBranch: 'same' }))
    expect(same).toMatchObject({ status: 'Skipped' })
    // A different commit with the same tree is no change either.
    await git.commit(repo, 'stage/dev', { 'manifests.yaml': 'image: app:1.2.3\n' }, { message: 'by hand' })
    const identical = await harness(fake.token).run(gitOpenPR, config())
    expect(identical).toMatchObject({ status: 'Skipped', message: expect.stringMatching(/no differences/) })
    expect(fake.pulls(repo)).toEqual([])
  })

  it.each([
    ['the target branch', { targetBranch: 'stage/nope' }, /target branch "stage\/nope" does not exist/],
    [
      'the source branch',
      { sourceBranch: 'kargo/promotion/nope' },
      /source branch "kargo\/promotion\/nope" does not exist/,
    ],
  ])('fails terminally when %s does not exist', async (_name, extra, message) => {
    await freshRepo()
    const error = await harness(fake.token)
      .run(gitOpenPR, config(extra))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TerminalError)
    expect(String(error)).toMatch(message)
  })

  it('uses the password of the git credentials as the API token (401 otherwise, secret not shown)', async () => {
    await freshRepo()
    const error = await harness('wrong-sekrit-token')
      .run(gitOpenPR, config())
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TerminalError)
    expect(String(error)).toMatch(/authentication failed \(HTTP 401\)/)
    expect(String(error)).not.toContain('wrong-sekrit-token')
    const anonymous = await harness(undefined)
      .run(gitOpenPR, config())
      .catch((e: unknown) => e)
    expect(String(anonymous)).toMatch(/HTTP 401/)
  })

  it('reads the source branch from a step output (legacy sourceBranchFromStep)', async () => {
    await freshRepo()
    const h = harness(fake.token)
    h.outputs.push = { branch: SOURCE, commit: await git.head(repo, SOURCE) }
    const { sourceBranch: _s, ...rest } = config()
    const result = await h.run(gitOpenPR, { ...rest, sourceBranchFromStep: 'push' })
    expect(result.status).toBe('Succeeded')
    expect(fake.pulls(repo)[0]?.head).toBe(SOURCE)
  })
})

describe('git-open-pr', () => {
  it.each([
    [{ repoURL: 'https://github.com/a/b', targetBranch: 'main' }, /exactly one of sourceBranch/],
    [
      {
        repoURL: 'https://github.com/a/b',
        sourceBranch: 'x',
        sourceBranchFromStep: 'y',
        targetBranch: 'main',
      },
      /exactly one/,
    ],
    [{ repoURL: 'https://github.com/a/b', sourceBranch: 'x' }, /targetBranch/],
    [
      { repoURL: 'https://github.com/a/b', sourceBranch: 'x', targetBranch: 'm', provider: 'sourcehut' },
      /provider/,
    ],
    [{ repoURL: 'https://github.com/a/b', sourceBranch: 'x', targetBranch: 'm', extra: 1 }, /extra/],
  ])('refuses config %j', (config, message) => {
    const parsed = GitOpenPRConfigSchema.safeParse(config)
    expect(parsed.success).toBe(false)
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message)
  })

  it('accepts the deprecated createTargetBranch as a no-op', () => {
    expect(
      GitOpenPRConfigSchema.parse({
        repoURL: 'https://github.com/a/b',
        sourceBranch: 'x',
        targetBranch: 'main',
        createTargetBranch: true,
      }),
    ).toMatchObject({ createTargetBranch: true })
  })

  it('returns the pull request an earlier execution recorded, without calling anyone', async () => {
    const h = stepHarness({ creds: () => undefined })
    harnesses.push(h)
    h.outputs['open-pr'] = { pr: { id: 7, url: 'https://github.com/a/b/pull/7' } }
    const result = await h.run(
      gitOpenPR,
      { repoURL: 'https://github.invalid/a/b', sourceBranch: 'x', targetBranch: 'main' },
      'open-pr',
    )
    expect(result).toEqual({
      status: 'Succeeded',
      output: { pr: { id: 7, url: 'https://github.com/a/b/pull/7' } },
    })
  })

  it('adopts the pull request the provider says already exists (opened between our look and our create)', async () => {
    const fake = await startGitHubFake({ git })
    try {
      const repo = `acme/race-${++counter}`
      await seedRepo(repo)
      fake.addRepo(repo)
      const existing = await fake.openPull(repo, {
        head: SOURCE,
        base: 'stage/dev',
        title: 'by someone else',
      })
      // The first list answers as a provider that has not indexed the pull request yet.
      let lists = 0
      const step = createGitOpenPR({
        fetch: async (input, init) => {
          const url = String(input)
          if (init?.method === 'GET' && /\/pulls\?/.test(url) && lists++ === 0) {
            return new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } })
          }
          return fetch(input, init)
        },
      })
      const h = stepHarness({ creds: { password: fake.token } })
      harnesses.push(h)
      const result = await h.run(step, {
        repoURL: fake.repoURL(repo),
        provider: 'github',
        sourceBranch: SOURCE,
        targetBranch: 'stage/dev',
      })
      expect(result.output).toMatchObject({ pr: { id: existing.number } })
      expect(fake.pulls(repo)).toHaveLength(1)
      expect(fake.requests.some((r) => r.method === 'POST')).toBe(true)
    } finally {
      await fake.close()
    }
  })

  it('passes a ConflictError on when no open pull request can be found to adopt', async () => {
    const fake = await startGitHubFake({ git })
    try {
      const repo = `acme/race-${++counter}`
      await seedRepo(repo)
      fake.addRepo(repo)
      await fake.openPull(repo, { head: SOURCE, base: 'stage/dev' })
      const step = createGitOpenPR({
        fetch: async (input, init) =>
          init?.method === 'GET' && /\/pulls\?/.test(String(input))
            ? new Response('[]', { status: 200, headers: { 'content-type': 'application/json' } })
            : fetch(input, init),
      })
      const h = stepHarness({ creds: { password: fake.token } })
      harnesses.push(h)
      const error = await h
        .run(step, {
          repoURL: fake.repoURL(repo),
          provider: 'github',
          sourceBranch: SOURCE,
          targetBranch: 'stage/dev',
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConflictError)
    } finally {
      await fake.close()
    }
  })
})

describe("Kargo's pull request flow: git-push (generated branch) → git-open-pr → git-wait-for-pr", () => {
  it('promotes through a pull request that a reviewer merges', async () => {
    const github = await startGitHubFake({ git })
    try {
      const repo = `acme/flow-${++counter}`
      await git.createRepo(repo, { 'README.md': '# app\n' })
      await git.commit(
        repo,
        'stage/dev',
        { 'manifests.yaml': 'image: app:1.0.0\n' },
        { message: 'Initial commit' },
      )
      github.addRepo(repo)
      const repoURL = github.repoURL(repo)
      const promotion = 'dev.01jb4v7fz0wqv9r8k3x2m1n0p5.4b8e1f2'
      const h = stepHarness({ promotion, creds: { username: 'kargo', password: github.token } })
      harnesses.push(h)

      await h.run(gitClone, { repoURL, checkout: [{ branch: 'stage/dev', path: './out' }] })
      fs.writeFileSync(path.join(h.workDir, 'out', 'manifests.yaml'), 'image: app:1.2.3\n')
      await h.run(gitCommit, { path: './out', message: 'Promote app:1.2.3\n\nFreight 5f3a…' }, 'commit')
      const push = await h.run(
        createGitPush({ retryDelayMs: () => 5 }),
        { path: './out', generateTargetBranch: true },
        'push',
      )
      expect(push.output).toMatchObject({ branch: `kargo/promotion/${promotion}` })

      const open = await h.run(
        gitOpenPR,
        { repoURL, provider: 'github', sourceBranch: h.outputs.push!.branch, targetBranch: 'stage/dev' },
        'open-pr',
      )
      expect(open.status).toBe('Succeeded')
      const prNumber = (h.outputs['open-pr']!.pr as { id: number }).id
      expect(github.pull(repo, prNumber)).toMatchObject({
        head: `kargo/promotion/${promotion}`,
        base: 'stage/dev',
        title: 'Promote app:1.2.3',
        state: 'open',
      })

      const waitConfig = { repoURL, provider: 'github', prNumber }
      const waiting = await h.run(gitWaitForPR, waitConfig, 'wait-for-pr')
      expect(waiting).toMatchObject({ status: 'Running', retryAfterMs: 30_000 })
      expect(h.states['wait-for-pr']).toBeDefined()
      expect(await git.readFile(repo, 'stage/dev', 'manifests.yaml')).toBe('image: app:1.0.0\n')

      // Still open on the next poll.
      expect((await h.run(gitWaitForPR, waitConfig, 'wait-for-pr')).status).toBe('Running')

      // A reviewer merges the pull request.
      const mergeCommit = await github.mergePull(repo, prNumber)
      const done = await h.run(gitWaitForPR, waitConfig, 'wait-for-pr')
      expect(done).toMatchObject({
        status: 'Succeeded',
        output: { commit: mergeCommit, pr: { id: prNumber, open: false, merged: true } },
      })
      expect(await git.head(repo, 'stage/dev')).toBe(mergeCommit)
      expect(await git.readFile(repo, 'stage/dev', 'manifests.yaml')).toBe('image: app:1.2.3\n')
      expect(h.outputs['wait-for-pr']).toMatchObject({ commit: mergeCommit })
    } finally {
      await github.close()
    }
  })
})
