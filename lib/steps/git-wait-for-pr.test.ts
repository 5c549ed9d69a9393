import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import {
  startGitHubFake,
  startGitLabFake,
  startGiteaFake,
  type FakeGitProvider,
  type FakeProviderOptions,
} from '../../test/fakes/gitprovider/index.js'
import { stepHarness, type StepHarness } from '../../test/fakes/gitprovider/harness.js'
import { GitWaitForPRConfigSchema, gitWaitForPR } from './git-wait-for-pr.js'

interface Case {
  provider: 'github' | 'gitlab' | 'gitea'
  start: (opts?: FakeProviderOptions) => Promise<FakeGitProvider>
  repo: string
}

const cases: Case[] = [
  { provider: 'github', start: startGitHubFake, repo: 'acme/app' },
  { provider: 'gitlab', start: startGitLabFake, repo: 'group/app' },
  { provider: 'gitea', start: startGiteaFake, repo: 'acme/app' },
]

const MAIN = 'a'.repeat(40)
const HEAD = 'b'.repeat(40)
const harnesses: StepHarness[] = []
afterEach(() => {
  for (const h of harnesses.splice(0)) h.cleanup()
})

function harness(token: string): StepHarness {
  const h = stepHarness({ creds: { username: 'kargo', password: token } })
  harnesses.push(h)
  return h
}

describe.each(cases)('git-wait-for-pr ($provider)', (c) => {
  let fake: FakeGitProvider
  let n = 0
  beforeAll(async () => {
    fake = await c.start()
    fake.addRepo(c.repo, {
      branches: { main: MAIN, ...Object.fromEntries([...Array(20)].map((_, i) => [`b${i}`, HEAD])) },
    })
  })
  afterAll(() => fake.close())

  const open = () => fake.openPull(c.repo, { head: `b${n++}`, base: 'main' })
  const config = (prNumber: number, extra: Record<string, unknown> = {}) => ({
    repoURL: fake.repoURL(c.repo),
    provider: c.provider,
    prNumber,
    ...extra,
  })

  it('is Running while the pull request is open, then Succeeded with the merge commit', async () => {
    const pr = await open()
    const h = harness(fake.token)
    const running = await h.run(gitWaitForPR, config(pr.number), 'wait')
    expect(running).toMatchObject({
      status: 'Running',
      retryAfterMs: 30_000,
      message: expect.stringMatching(/is open/),
      output: { pr: { id: pr.number, open: true, merged: false } },
    })
    // An open GitHub PR carries a throw-away test merge SHA: it is not a commit to report.
    expect(running.output).not.toHaveProperty('commit')
    const sha = await fake.mergePull(c.repo, pr.number)
    const done = await h.run(gitWaitForPR, config(pr.number), 'wait')
    expect(done).toEqual({
      status: 'Succeeded',
      message: `pull request #${pr.number} was merged`,
      output: { pr: { id: pr.number, url: expect.any(String), open: false, merged: true }, commit: sha },
    })
    expect(h.outputs.wait).toMatchObject({ commit: sha })
  })

  it('fails when the pull request is closed without being merged', async () => {
    const pr = await open()
    fake.closePull(c.repo, pr.number)
    const result = await harness(fake.token).run(gitWaitForPR, config(pr.number))
    expect(result).toMatchObject({
      status: 'Failed',
      message: `pull request #${pr.number} was closed without being merged`,
      output: { pr: { open: false, merged: false } },
    })
  })

  it.each([
    ['1m', 60_000],
    ['90s', 90_000],
    ['1s', 10_000],
  ])('polls every pollInterval %s (at least 10s): %i ms', async (pollInterval, ms) => {
    const pr = await open()
    const result = await harness(fake.token).run(gitWaitForPR, config(pr.number, { pollInterval }))
    expect(result.retryAfterMs).toBe(ms)
  })

  it('fails terminally with a bad token or an unknown pull request', async () => {
    await expect(harness('bad').run(gitWaitForPR, config(1))).rejects.toThrow(/HTTP 401/)
    await expect(harness(fake.token).run(gitWaitForPR, config(999))).rejects.toBeInstanceOf(TerminalError)
  })

  it('reads the number from a step output (legacy prNumberFromStep)', async () => {
    const pr = await open()
    const h = harness(fake.token)
    h.outputs['open-pr'] = { pr: { id: pr.number, url: 'x' } }
    const { prNumber: _p, ...rest } = config(pr.number)
    expect((await h.run(gitWaitForPR, { ...rest, prNumberFromStep: 'open-pr' })).output).toMatchObject({
      pr: { id: pr.number },
    })
  })
})

describe('git-wait-for-pr', () => {
  it('waits out a provider that cannot be reached', async () => {
    const fake = await startGitHubFake()
    const repoURL = fake.repoURL('acme/app')
    await fake.close()
    const h = stepHarness({ creds: { password: 'x' } })
    harnesses.push(h)
    const result = await h.run(gitWaitForPR, { repoURL, provider: 'github', prNumber: 1 })
    expect(result).toMatchObject({
      status: 'Running',
      retryAfterMs: 30_000,
      message: expect.stringMatching(/waiting/),
    })
  })

  it('has no default timeout, as in Kargo', () => {
    expect(gitWaitForPR.defaultTimeoutMs).toBe(Number.POSITIVE_INFINITY)
    expect(gitWaitForPR.kind).toBe('git-wait-for-pr')
  })

  it.each([
    [{ repoURL: 'https://github.com/a/b' }, /exactly one of prNumber/],
    [{ repoURL: 'https://github.com/a/b', prNumber: 1, prNumberFromStep: 'x' }, /exactly one/],
    [{ repoURL: 'https://github.com/a/b', prNumber: 0 }, /prNumber/],
    [{ repoURL: 'https://github.com/a/b', prNumber: 1.5 }, /prNumber/],
    [{ repoURL: 'https://github.com/a/b', prNumber: 1, pollInterval: 'soon' }, /not a duration/],
  ])('refuses config %j', (config, message) => {
    const parsed = GitWaitForPRConfigSchema.safeParse(config)
    expect(parsed.success).toBe(false)
    expect(JSON.stringify(parsed.error?.issues)).toMatch(message)
  })
})
