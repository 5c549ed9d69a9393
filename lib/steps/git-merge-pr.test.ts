import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import {
  startGitHubFake,
  startGitLabFake,
  startGiteaFake,
  type FakeGitProvider,
  type FakeProviderOptions,
} from '../../test/fakes/gitprovider/index.js'
import { stepHarness, type StepHarness } from '../../test/fakes/gitprovider/harness.js'
import { GitMergePRConfigSchema, gitMergePR } from './git-merge-pr.js'

/* git-merge-pr against each provider's fake, backed by a real git server so merges make real commits. */

interface Case {
  provider: 'github' | 'gitlab' | 'gitea'
  start: (opts?: FakeProviderOptions) => Promise<FakeGitProvider>
  owner: string
  /** What a conflict does without `wait`: GitHub's `dirty` is a hard error, elsewhere "not ready". */
  conflict: RegExp
}

const cases: Case[] = [
  { provider: 'github', start: startGitHubFake, owner: 'acme', conflict: /has conflicts/ },
  {
    provider: 'gitlab',
    start: startGitLabFake,
    owner: 'group',
    conflict: /not ready to merge and wait is disabled/,
  },
  {
    provider: 'gitea',
    start: startGiteaFake,
    owner: 'acme',
    conflict: /not ready to merge and wait is disabled/,
  },
]

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

function harness(token: string): StepHarness {
  const h = stepHarness({ creds: { username: 'kargo', password: token } })
  harnesses.push(h)
  return h
}

describe.each(cases)('git-merge-pr ($provider)', (c) => {
  let fake: FakeGitProvider
  let repo: string
  beforeAll(async () => {
    fake = await c.start({ git })
  })
  afterAll(() => fake.close())

  /** A fresh repository with an open pull request from `feature` into `stage/dev`. */
  async function openPR(): Promise<number> {
    repo = `${c.owner}/app-${++counter}`
    await git.createRepo(repo, { 'README.md': '# app\n' }, { branch: 'stage/dev' })
    await git.git(repo, ['branch', 'feature', 'stage/dev'])
    await git.commit(repo, 'feature', { 'manifests.yaml': 'image: app:2\n' }, { message: 'Promote app:2' })
    fake.addRepo(repo)
    return (await fake.openPull(repo, { head: 'feature', base: 'stage/dev', title: 'Promote app:2' })).number
  }

  const config = (prNumber: number, extra: Record<string, unknown> = {}) => ({
    repoURL: fake.repoURL(repo),
    provider: c.provider,
    prNumber,
    ...extra,
  })

  it('merges and outputs the commit now at the head of the target branch', async () => {
    const number = await openPR()
    const result = await harness(fake.token).run(gitMergePR, config(number))
    const head = await git.head(repo, 'stage/dev')
    expect(result).toEqual({
      status: 'Succeeded',
      message: `pull request #${number} was merged`,
      output: { commit: head },
    })
    expect(await git.readFile(repo, 'stage/dev', 'manifests.yaml')).toBe('image: app:2\n')
    expect((await git.log(repo, 'stage/dev'))[0]?.parents).toHaveLength(2)
  })

  it('squashes with mergeMethod: squash', async () => {
    const number = await openPR()
    const result = await harness(fake.token).run(gitMergePR, config(number, { mergeMethod: 'squash' }))
    expect(result.output).toEqual({ commit: await git.head(repo, 'stage/dev') })
    expect((await git.log(repo, 'stage/dev'))[0]?.parents).toHaveLength(1)
  })

  it('succeeds again when replayed after the merge (already merged)', async () => {
    const number = await openPR()
    const sha = await fake.mergePull(repo, number)
    expect(await harness(fake.token).run(gitMergePR, config(number))).toMatchObject({
      status: 'Succeeded',
      output: { commit: sha },
    })
  })

  it('fails when the pull request is not ready and wait is off; with wait it is Running until it is', async () => {
    const number = await openPR()
    fake.setPull(repo, number, { readiness: 'pending' })
    const failed = await harness(fake.token).run(gitMergePR, config(number))
    expect(failed).toMatchObject({ status: 'Failed', message: expect.stringMatching(/wait is disabled/) })

    const h = harness(fake.token)
    const running = await h.run(gitMergePR, config(number, { wait: true }), 'merge')
    expect(running).toMatchObject({
      status: 'Running',
      retryAfterMs: 10_000,
      message: expect.stringMatching(/not ready/),
    })
    expect(
      (await h.run(gitMergePR, config(number, { wait: true, pollInterval: '45s' }), 'merge')).retryAfterMs,
    ).toBe(45_000)
    fake.setPull(repo, number, { readiness: 'ready' })
    const merged = await h.run(gitMergePR, config(number, { wait: true }), 'merge')
    expect(merged).toMatchObject({
      status: 'Succeeded',
      output: { commit: await git.head(repo, 'stage/dev') },
    })
  })

  it('fails on a conflict as the provider judges it', async () => {
    const number = await openPR()
    fake.setPull(repo, number, { readiness: 'conflict' })
    const result = await harness(fake.token).run(gitMergePR, config(number))
    expect(result).toMatchObject({ status: 'Failed', message: expect.stringMatching(c.conflict) })
  })

  it('fails for a pull request closed without merging, an unknown one, or a bad token', async () => {
    const number = await openPR()
    fake.closePull(repo, number)
    expect(await harness(fake.token).run(gitMergePR, config(number, { wait: true }))).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/closed but not merged/),
    })
    expect(await harness(fake.token).run(gitMergePR, config(999))).toMatchObject({
      status: 'Failed',
      message: expect.stringMatching(/HTTP 404/),
    })
    const unauthorized = await harness('bad-sekrit').run(gitMergePR, config(number))
    expect(unauthorized).toMatchObject({ status: 'Failed', message: expect.stringMatching(/HTTP 401/) })
    expect(unauthorized.message).not.toContain('bad-sekrit')
  })
})

describe('git-merge-pr', () => {
  it('GitHub: a PR blocked by a missing review is attempted, and is "not ready" when GitHub refuses', async () => {
    const fake = await startGitHubFake()
    try {
      fake.addRepo('acme/app', { branches: { main: 'a'.repeat(40), feature: 'b'.repeat(40) } })
      const pr = await fake.openPull('acme/app', { head: 'feature', base: 'main' })
      fake.setPull('acme/app', pr.number, { readiness: 'blocked' })
      const h = stepHarness({ creds: { password: fake.token } })
      harnesses.push(h)
      const result = await h.run(gitMergePR, {
        repoURL: fake.repoURL('acme/app'),
        provider: 'github',
        prNumber: 1,
        wait: true,
      })
      expect(result).toMatchObject({ status: 'Running', message: expect.stringMatching(/approving review/) })
      expect(fake.requests.some((r) => r.method === 'PUT')).toBe(true)
    } finally {
      await fake.close()
    }
  })

  it('with wait, rides out a provider that cannot be reached', async () => {
    const fake = await startGitLabFake()
    const repoURL = fake.repoURL('group/app')
    await fake.close()
    const h = stepHarness({ creds: { password: 'x' } })
    harnesses.push(h)
    expect(await h.run(gitMergePR, { repoURL, provider: 'gitlab', prNumber: 1, wait: true })).toMatchObject({
      status: 'Running',
    })
    await expect(h.run(gitMergePR, { repoURL, provider: 'gitlab', prNumber: 1 })).rejects.toThrow(
      /GitLab API PUT|GitLab API GET/,
    )
  })

  it.each([
    [{ repoURL: 'https://github.com/a/b' }, /exactly one of prNumber/],
    [{ repoURL: 'https://github.com/a/b', prNumber: 1, mergeMethod: '' }, /mergeMethod/],
    [{ repoURL: 'https://github.com/a/b', prNumber: 1, wait: 'yes' }, /wait/],
  ])('refuses config %j', (config, message) => {
    const parsed = GitMergePRConfigSchema.safeParse(config)
    expect(parsed.success).toBe(false)
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message)
  })
})
