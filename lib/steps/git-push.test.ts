import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import git from 'isomorphic-git'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError, UpstreamError } from '../errors.js'
import { commitURL } from '../git/commit-url.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import { gitClear } from './git-clear.js'
import { gitClone } from './git-clone.js'
import { gitCommit } from './git-commit.js'
import { createGitPush, GitPushConfigSchema } from './git-push.js'
import { kustomizeBuild } from './kustomize-build.js'
import { kustomizeSetImage } from './kustomize-set-image.js'
import type { FreightCollection, RepoCredentials, Step, StepContext, StepResult } from './types.js'

const exec = promisify(execFile)
async function cli(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  })
  return stdout
}

const gitPush = createGitPush({ retryDelayMs: () => 5 })

function freightWithTag(tag: string): FreightCollection {
  return {
    items: {
      'Warehouse/silly-demo': {
        name: `freight-${tag}`,
        origin: { kind: 'Warehouse', name: 'silly-demo' },
        images: [{ repoURL: 'ghcr.io/vfarcic/silly-demo', tag, digest: `sha256:${'ab'.repeat(32)}` }],
      },
    },
  }
}

interface Harness {
  workDir: string
  outputs: Record<string, Record<string, unknown>>
  run<C>(step: Step<C>, config: unknown, alias?: string): Promise<StepResult>
}

/** Runs steps one after another in one workspace, recording outputs by alias as the engine does. */
function harness(
  opts: { freight?: FreightCollection; creds?: RepoCredentials; promotion?: string } = {},
): Harness {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-push-'))
  const outputs: Record<string, Record<string, unknown>> = {}
  let n = 0
  return {
    workDir,
    outputs,
    async run(step, config, alias) {
      const as = alias ?? `step-${++n}`
      const ctx: StepContext = {
        project: 'silly-demo',
        stage: 'dev',
        promotion: opts.promotion ?? 'dev.01j2w7a15cxjjgejresfyw6ysp.666209f',
        workDir,
        alias: as,
        freight: opts.freight ?? freightWithTag('1.4.299'),
        outputs,
        credentials: async () => opts.creds,
        log: () => {},
      }
      const result = await step.run(ctx, step.config.parse(config))
      if (result.output) outputs[as] = result.output
      return result
    },
  }
}

const seedFiles = {
  'kustomize/base/kustomization.yaml':
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n- service.yaml\n',
  'kustomize/base/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: silly-demo',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '      - name: silly-demo',
    '        image: ghcr.io/vfarcic/silly-demo:1.4.100',
    '',
  ].join('\n'),
  'kustomize/base/service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: silly-demo\nspec:\n  ports:\n  - port: 8080\n',
  'kustomize/overlays/dev/kustomization.yaml':
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\nnamespace: dev\n',
  'README.md': '# silly-demo\n',
}

/** The seed 004 dev Stage's steps, up to (not including) git-push. */
async function renderDev(h: Harness, repoURL: string, branch = 'stage/dev'): Promise<void> {
  await h.run(gitClone, {
    repoURL,
    checkout: [
      { branch: 'main', path: './src' },
      { branch, create: true, path: './out' },
    ],
  })
  await h.run(gitClear, { path: './out' })
  await h.run(
    kustomizeSetImage,
    { path: './src/kustomize/base', images: [{ image: 'ghcr.io/vfarcic/silly-demo' }] },
    'update-image',
  )
  await h.run(kustomizeBuild, { path: './src/kustomize/overlays/dev', outPath: './out/manifests.yaml' })
  await h.run(gitCommit, { path: './out', messageFromSteps: ['update-image'] }, 'commit')
}

describe('git-push', () => {
  let server: GitServer
  let repoURL: string
  let repo: string
  let counter = 0
  beforeAll(async () => {
    server = await startGitServer()
  })
  afterAll(() => server.close())
  beforeEach(async () => {
    repo = `kargo-demo-${++counter}`
    repoURL = await server.createRepo(repo, seedFiles)
  })
  afterEach(() => {
    server.beforeRequest = undefined
  })

  it('runs the seed 004 flow: stage/dev ends up holding only manifests.yaml with the new tag', async () => {
    const h = harness()
    await renderDev(h, repoURL)
    server.requests.length = 0
    const pushed = await h.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    const head = await server.head(repo, 'stage/dev')
    expect(pushed).toEqual({ status: 'Succeeded', output: { commit: head, branch: 'stage/dev' } })
    expect(h.outputs.commit).toEqual({ commit: head })
    expect(await server.listFiles(repo, 'stage/dev')).toEqual(['manifests.yaml'])
    const manifests = (await server.readFile(repo, 'stage/dev', 'manifests.yaml')) ?? ''
    expect(manifests).toContain('image: ghcr.io/vfarcic/silly-demo:1.4.299')
    expect(manifests).toContain('namespace: dev')
    const log = await server.log(repo, 'stage/dev')
    expect(log.map((c) => c.message)).toEqual([
      'Updated ./src/kustomize/base to use new image\n\n- ghcr.io/vfarcic/silly-demo:1.4.299',
      'Initial commit',
    ])
    // main is untouched; the rendered branch is an orphan.
    expect(await server.listFiles(repo, 'main')).toEqual(Object.keys(seedFiles).sort())
    // One ref discovery to integrate (no pack: the remote head is the one we cloned), one push.
    expect(server.requests.filter((r) => r.query === 'service=git-upload-pack')).toHaveLength(1)
    expect(server.count('/git-upload-pack', 'POST')).toBe(0)
    expect(server.count('/git-receive-pack', 'POST')).toBe(1)

    // The next Freight, with the legacy `branch` field: one more commit on top.
    const next = harness({ freight: freightWithTag('1.4.300') })
    await renderDev(next, repoURL)
    const again = await next.run(gitPush, { path: './out', branch: 'stage/dev' })
    expect(again.output).toMatchObject({ branch: 'stage/dev', commit: await server.head(repo, 'stage/dev') })
    expect(await server.readFile(repo, 'stage/dev', 'manifests.yaml')).toContain('silly-demo:1.4.300')
    expect((await server.log(repo, 'stage/dev')).map((c) => c.parents.length)).toEqual([1, 1, 0])
  })

  it('rebases on a remote that moved since the clone (someone else pushed first)', async () => {
    const h = harness()
    await renderDev(h, repoURL)
    const theirs = await server.commit(repo, 'stage/dev', { 'NOTES.md': 'from someone else\n' })
    const pushed = await h.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    const head = await server.head(repo, 'stage/dev')
    expect(pushed.output).toMatchObject({ commit: head })
    expect((await server.log(repo, 'stage/dev'))[0]?.parents).toEqual([theirs])
    expect(await server.listFiles(repo, 'stage/dev')).toEqual(['NOTES.md', 'manifests.yaml'])
    // The local branch and working tree followed, as after `git pull --rebase`.
    const out = path.join(h.workDir, 'out')
    expect((await cli(out, ['rev-parse', 'HEAD'])).trim()).toBe(head)
    expect(fs.readFileSync(path.join(out, 'NOTES.md'), 'utf8')).toBe('from someone else\n')
    expect(await cli(out, ['status', '--porcelain'])).toBe('')
  })

  it.each([
    {
      name: 'before our push is negotiated (refused locally)',
      when: (r: { method: string; query: string }) => r.query === 'service=git-receive-pack',
    },
    {
      name: 'while our push is in flight (refused by the server)',
      when: (r: { method: string; path: string }) =>
        r.method === 'POST' && r.path.endsWith('/git-receive-pack'),
    },
  ])('retries when someone pushes $name', async ({ when }) => {
    const h = harness()
    await renderDev(h, repoURL)
    let raced: string | undefined
    server.beforeRequest = async (r) => {
      if (raced === undefined && when(r))
        raced = await server.commit(repo, 'stage/dev', { 'race.txt': 'race\n' })
    }
    server.requests.length = 0
    const pushed = await h.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    expect(raced).toBeDefined()
    const log = await server.log(repo, 'stage/dev')
    expect(pushed.output).toMatchObject({ commit: log[0]?.sha })
    expect(log[0]?.parents).toEqual([raced])
    expect(await server.listFiles(repo, 'stage/dev')).toEqual(['manifests.yaml', 'race.txt'])
    expect(server.requests.filter((r) => r.query === 'service=git-receive-pack')).toHaveLength(2)
  })

  it('gives up after maxAttempts when the branch keeps moving', async () => {
    const h = harness()
    await renderDev(h, repoURL)
    let n = 0
    server.beforeRequest = async (r) => {
      if (r.query === 'service=git-receive-pack')
        await server.commit(repo, 'stage/dev', { [`race-${++n}.txt`]: 'x' })
    }
    const result = h.run(gitPush, { path: './out', targetBranch: 'stage/dev', maxAttempts: 2 })
    await expect(result).rejects.toBeInstanceOf(UpstreamError)
    await expect(result).rejects.toThrow(/failed after 2 attempts/)
    expect(n).toBe(2)
  })

  it.each([
    {
      name: 'merges edits to different lines of the same file',
      ours: 'a: 1\nb: 2\nc: 30\n',
      theirs: 'a: 10\nb: 2\nc: 3\n',
      merged: 'a: 10\nb: 2\nc: 30\n',
    },
    {
      name: 'fails terminally on edits to the same line',
      ours: 'a: 1\nb: 20\nc: 3\n',
      theirs: 'a: 1\nb: 21\nc: 3\n',
      merged: undefined,
    },
  ])('when both sides changed a file, $name', async ({ ours, theirs, merged }) => {
    await server.commit(repo, 'main', { 'values.yaml': 'a: 1\nb: 2\nc: 3\n' })
    const h = harness()
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: 'src' }] })
    fs.writeFileSync(path.join(h.workDir, 'src/values.yaml'), ours)
    await h.run(gitCommit, { path: 'src', message: 'ours' })
    await server.commit(repo, 'main', { 'values.yaml': theirs })
    const result = h.run(gitPush, { path: 'src' })
    if (merged === undefined) {
      await expect(result).rejects.toBeInstanceOf(TerminalError)
      await expect(result).rejects.toThrow(/merge conflict .*values.yaml/)
    } else {
      await expect(result).resolves.toMatchObject({ output: { branch: 'main' } })
      expect(await server.readFile(repo, 'main', 'values.yaml')).toBe(merged)
    }
  })

  it('is idempotent: pushing again after a success pushes nothing', async () => {
    const h = harness()
    await renderDev(h, repoURL)
    const first = await h.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    server.requests.length = 0
    const second = await h.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    expect(second).toEqual(first)
    expect(server.count('/git-receive-pack', 'POST')).toBe(0)
  })

  it('succeeds without pushing when the remote already has the same changes (an earlier attempt pushed them)', async () => {
    const earlier = harness()
    const resumed = harness()
    await renderDev(earlier, repoURL)
    await renderDev(resumed, repoURL)
    const first = await earlier.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    server.requests.length = 0
    const second = await resumed.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    expect(second.output).toEqual(first.output)
    expect(server.count('/git-receive-pack', 'POST')).toBe(0)
    expect(await server.log(repo, 'stage/dev')).toHaveLength(2)
  })

  it('a no-op promotion (same Freight again) commits nothing and pushes nothing', async () => {
    const first = harness()
    await renderDev(first, repoURL)
    const pushed = await first.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    const second = harness()
    await renderDev(second, repoURL)
    expect(second.outputs.commit).toEqual(pushed.output && { commit: pushed.output.commit })
    const again = await second.run(gitPush, { path: './out', targetBranch: 'stage/dev' })
    expect(again.output).toEqual(pushed.output)
  })

  it('pushes to a generated branch kargo/promotion/<promotion>, overwriting it on a rerun', async () => {
    const h = harness({ promotion: 'dev.01hx.abc123' })
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: 'src' }] })
    fs.writeFileSync(path.join(h.workDir, 'src/change.txt'), 'x')
    await h.run(gitCommit, { path: 'src', message: 'change' })
    await server.commit(repo, 'kargo/promotion/dev.01hx.abc123', { 'stale.txt': 'from an earlier attempt' })
    const pushed = await h.run(gitPush, { path: 'src', generateTargetBranch: true })
    expect(pushed.output).toEqual({
      commit: await server.head(repo, 'kargo/promotion/dev.01hx.abc123'),
      branch: 'kargo/promotion/dev.01hx.abc123',
    })
    expect(await server.listFiles(repo, 'kargo/promotion/dev.01hx.abc123')).toContain('change.txt')
    expect(await server.listFiles(repo, 'kargo/promotion/dev.01hx.abc123')).not.toContain('stale.txt')
  })

  it('creates a target branch that does not exist yet, sending only new objects', async () => {
    const h = harness()
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: 'src' }] })
    fs.writeFileSync(path.join(h.workDir, 'src/README.md'), '# changed\n')
    await h.run(gitCommit, { path: 'src', message: 'feature' })
    const pushed = await h.run(gitPush, { path: 'src', targetBranch: 'feature/x' })
    expect(pushed.output).toEqual({ commit: await server.head(repo, 'feature/x'), branch: 'feature/x' })
    expect(await server.readFile(repo, 'feature/x', 'README.md')).toBe('# changed\n')
    expect(await server.head(repo, 'main')).not.toBe(await server.head(repo, 'feature/x'))
    expect(await server.git(repo, ['fsck', '--no-progress'])).toBe('')
  })

  it('pushes from a subdirectory of the working tree to the current branch', async () => {
    const h = harness()
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: 'src' }] })
    fs.writeFileSync(path.join(h.workDir, 'src/kustomize/base/extra.yaml'), 'x: 1\n')
    await h.run(gitCommit, { path: 'src/kustomize', message: 'extra' })
    const pushed = await h.run(gitPush, { path: 'src/kustomize' })
    expect(pushed.output).toEqual({ commit: await server.head(repo, 'main'), branch: 'main' })
    expect(await server.listFiles(repo, 'main')).toContain('kustomize/base/extra.yaml')
  })

  it('force-pushes over remote history', async () => {
    const h = harness()
    await renderDev(h, repoURL)
    await server.commit(repo, 'stage/dev', { 'theirs.txt': 'x' })
    const pushed = await h.run(gitPush, { path: './out', targetBranch: 'stage/dev', force: true })
    expect(pushed.output).toMatchObject({ commit: await server.head(repo, 'stage/dev') })
    expect(await server.listFiles(repo, 'stage/dev')).toEqual(['manifests.yaml'])
  })

  it('pushes a tag, and refuses to move an existing one', async () => {
    const h = harness()
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: 'src' }] })
    const dir = path.join(h.workDir, 'src')
    await git.tag({ fs, dir, ref: 'v1.0.0' })
    const head = await server.head(repo, 'main')
    expect(await h.run(gitPush, { path: 'src', tag: 'v1.0.0' })).toEqual({
      status: 'Succeeded',
      output: { commit: head, branch: 'main' },
    })
    expect((await server.git(repo, ['rev-parse', 'v1.0.0'])).trim()).toBe(head)
    // Same tag, same commit: fine. Same tag, other commit: refused.
    await h.run(gitPush, { path: 'src', tag: 'v1.0.0' })
    await server.commit(repo, 'main', { 'x.txt': 'x' })
    await server.git(repo, ['tag', '-f', 'v1.0.0', 'main'])
    await expect(h.run(gitPush, { path: 'src', tag: 'v1.0.0' })).rejects.toThrow(TerminalError)
    await expect(h.run(gitPush, { path: 'src', tag: 'nope' })).rejects.toThrow(/tag "nope" does not exist/)
  })

  it.each([
    {
      name: 'a path escaping the workspace',
      config: { path: '../..', targetBranch: 'x' },
      error: /escapes the promotion workspace/,
    },
    {
      name: 'a directory that is not a working tree',
      config: { path: '.', targetBranch: 'x' },
      error: /not inside a git working tree/,
    },
  ])('fails terminally on $name', async ({ config, error }) => {
    const h = harness()
    const result = h.run(gitPush, config)
    await expect(result).rejects.toBeInstanceOf(TerminalError)
    await expect(result).rejects.toThrow(error)
  })

  it.each([
    { name: 'targetBranch and tag', config: { path: 'p', targetBranch: 'a', tag: 'v1' }, ok: false },
    {
      name: 'generateTargetBranch and targetBranch',
      config: { path: 'p', targetBranch: 'a', generateTargetBranch: true },
      ok: false,
    },
    { name: 'tag and force', config: { path: 'p', tag: 'v1', force: true }, ok: false },
    { name: 'the legacy branch field', config: { path: 'p', branch: 'stage/dev' }, ok: true },
    { name: 'an empty targetBranch', config: { path: 'p', targetBranch: '' }, ok: true },
  ])('config with $name is valid: $ok', ({ config, ok }) => {
    expect(GitPushConfigSchema.safeParse(config).success).toBe(ok)
  })

  it('maps the legacy branch field to targetBranch and applies defaults', () => {
    expect(GitPushConfigSchema.parse({ path: 'p', branch: 'stage/dev' })).toEqual({
      path: 'p',
      targetBranch: 'stage/dev',
      generateTargetBranch: false,
      tag: undefined,
      force: false,
      maxAttempts: 10,
      provider: undefined,
    })
  })
})

describe('git-push with credentials', () => {
  const password = 'push-token-123'
  let server: GitServer
  let repoURL: string
  beforeAll(async () => {
    server = await startGitServer({ auth: { username: 'kargo', password } })
    repoURL = await server.createRepo('private', { 'a.txt': 'a\n' })
  })
  afterAll(() => server.close())

  it.each([
    { name: 'valid credentials push', pushCreds: { username: 'kargo', password }, ok: true },
    {
      name: 'revoked credentials fail terminally',
      pushCreds: { username: 'kargo', password: 'revoked-token' },
      ok: false,
    },
  ])('$name', async ({ pushCreds, ok }) => {
    const h = harness({ creds: { username: 'kargo', password } })
    await h.run(gitClone, { repoURL, checkout: [{ branch: 'main', path: 'src' }] })
    fs.writeFileSync(path.join(h.workDir, 'src/b.txt'), 'b\n')
    await h.run(gitCommit, { path: 'src', message: 'b' })
    const result = gitPush.run(
      { ...makePushCtx(h.workDir), credentials: async () => pushCreds },
      gitPush.config.parse({ path: 'src' }),
    )
    if (ok) {
      await expect(result).resolves.toMatchObject({ status: 'Succeeded' })
      expect(await server.listFiles('private', 'main')).toEqual(['a.txt', 'b.txt'])
    } else {
      const error: unknown = await result.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TerminalError)
      expect(String(error)).toMatch(/authentication failed/)
      expect(JSON.stringify(error)).not.toContain('revoked-token')
    }
  })
})

function makePushCtx(workDir: string): StepContext {
  return {
    project: 'p',
    stage: 's',
    promotion: 'p1',
    workDir,
    alias: 'push',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
  }
}

describe('commitURL', () => {
  it.each([
    {
      url: 'https://github.com/akuity/kargo.git',
      provider: undefined,
      expected: 'https://github.com/akuity/kargo/commit/abc',
    },
    {
      url: 'https://GitHub.com/Akuity/Kargo/',
      provider: undefined,
      expected: 'https://github.com/akuity/kargo/commit/abc',
    },
    {
      url: 'https://gitlab.com/group/sub/repo.git',
      provider: undefined,
      expected: 'https://gitlab.com/group/sub/repo/-/commit/abc',
    },
    {
      url: 'https://gitea.example.com/o/r',
      provider: undefined,
      expected: 'https://gitea.example.com/o/r/commit/abc',
    },
    {
      url: 'https://bitbucket.org/o/r.git',
      provider: undefined,
      expected: 'https://bitbucket.org/o/r/commits/abc',
    },
    {
      url: 'https://dev.azure.com/org/proj/_git/repo',
      provider: undefined,
      expected: 'https://dev.azure.com/org/proj/_git/repo/commit/abc',
    },
    {
      url: 'https://git.example.com/o/r.git',
      provider: 'gitea' as const,
      expected: 'https://git.example.com/o/r/commit/abc',
    },
    { url: 'http://127.0.0.1:8080/app.git', provider: undefined, expected: undefined },
  ])('$url → $expected', ({ url, provider, expected }) => {
    expect(commitURL(url, 'abc', provider)).toBe(expected)
  })
})
