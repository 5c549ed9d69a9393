import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import { gitClone, GitCloneConfigSchema } from './git-clone.js'
import type { RepoCredentials, StepContext } from './types.js'

const exec = promisify(execFile)

/** Runs the git CLI in `dir` (to check that what we wrote is a normal repository). */
async function cli(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  })
  return stdout
}

function makeCtx(workDir: string, creds?: RepoCredentials): StepContext {
  return {
    project: 'demo',
    stage: 'dev',
    promotion: 'dev.01hx.abc',
    workDir,
    alias: 'clone',
    freight: { items: {} },
    outputs: {},
    credentials: async () => creds,
    log: () => {},
  }
}

async function clone(ctx: StepContext, config: unknown) {
  return gitClone.run(ctx, gitClone.config.parse(config))
}

const files = {
  'README.md': '# app\n',
  'kustomize/base/kustomization.yaml': 'resources:\n- deployment.yaml\n',
  'kustomize/base/deployment.yaml': 'kind: Deployment\n',
  'kustomize/overlays/dev/kustomization.yaml': 'resources:\n- ../../base\n',
  'docs/guide.md': 'guide\n',
  'bin/run.sh': { content: '#!/bin/sh\necho hi\n', executable: true },
}

describe('git-clone', () => {
  let server: GitServer
  let url: string
  let workDir: string
  let first: string
  let second: string
  beforeAll(async () => {
    server = await startGitServer()
    url = await server.createRepo('app', files)
    first = (await server.head('app', 'main')) ?? ''
    second = await server.commit('app', 'main', { 'CHANGELOG.md': 'v2\n' })
    await server.git('app', ['tag', 'v1.0.0', first])
    await server.git('app', [
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@e',
      'tag',
      '-a',
      '-m',
      'release',
      'v2.0.0',
      second,
    ])
  })
  afterAll(() => server.close())
  beforeEach(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-clone-'))
  })

  it.each([
    {
      name: 'a branch',
      checkout: { branch: 'main', path: './src' },
      commit: () => second,
      has: 'CHANGELOG.md',
      branch: 'main',
    },
    {
      name: 'the default branch',
      checkout: { path: 'src' },
      commit: () => second,
      has: 'CHANGELOG.md',
      branch: 'main',
    },
    {
      name: 'a lightweight tag',
      checkout: { tag: 'v1.0.0', path: 'src' },
      commit: () => first,
      lacks: 'CHANGELOG.md',
    },
    {
      name: 'an annotated tag',
      checkout: { tag: 'v2.0.0', path: 'src' },
      commit: () => second,
      has: 'CHANGELOG.md',
    },
    {
      name: 'a commit that is not a tip',
      checkout: { commit: '', path: 'src' },
      commit: () => first,
      lacks: 'CHANGELOG.md',
    },
  ])('checks out $name as a clean working tree', async ({ checkout, commit, has, lacks, branch }) => {
    const config = {
      repoURL: url,
      checkout: [{ ...checkout, ...(checkout.commit === '' ? { commit: first } : {}) }],
    }
    server.requests.length = 0
    const result = await clone(makeCtx(workDir), config)
    const key = checkout.path
    expect(result).toEqual({ status: 'Succeeded', output: { commits: { [key]: commit() } } })
    const dir = path.join(workDir, checkout.path)
    expect(fs.readFileSync(path.join(dir, 'kustomize/base/deployment.yaml'), 'utf8')).toBe(
      'kind: Deployment\n',
    )
    expect(fs.statSync(path.join(dir, 'bin/run.sh')).mode & 0o111).not.toBe(0)
    if (has) expect(fs.existsSync(path.join(dir, has))).toBe(true)
    if (lacks) expect(fs.existsSync(path.join(dir, lacks))).toBe(false)
    // The git CLI agrees: right HEAD, nothing modified (the index we wrote matches the files).
    expect((await cli(dir, ['rev-parse', 'HEAD'])).trim()).toBe(commit())
    expect(await cli(dir, ['status', '--porcelain'])).toBe('')
    if (branch) expect((await cli(dir, ['symbolic-ref', '--short', 'HEAD'])).trim()).toBe(branch)
    // A shallow clone costs one ref discovery and one pack request.
    if (checkout.commit === undefined) {
      expect(server.count('/info/refs')).toBe(1)
      expect(server.count('/git-upload-pack', 'POST')).toBe(1)
    }
  })

  it('clones several checkouts, keyed by alias or path, each into its own working tree', async () => {
    const result = await clone(makeCtx(workDir), {
      repoURL: url,
      checkout: [
        { branch: 'main', path: './src' },
        { tag: 'v1.0.0', path: './old', as: 'previous' },
      ],
    })
    expect(result.output).toEqual({ commits: { './src': second, previous: first } })
    expect(fs.existsSync(path.join(workDir, 'src/.git'))).toBe(true)
    expect(fs.existsSync(path.join(workDir, 'old/.git'))).toBe(true)
  })

  it('creates a missing branch as an orphan with an empty "Initial commit" and pushes it', async () => {
    const result = await clone(makeCtx(workDir), {
      repoURL: url,
      checkout: [{ branch: 'stage/dev', create: true, path: './out' }],
    })
    const head = await server.head('app', 'stage/dev')
    expect(result.output).toEqual({ commits: { './out': head } })
    expect(await server.listFiles('app', 'stage/dev')).toEqual([])
    expect(await server.log('app', 'stage/dev')).toEqual([
      { sha: head, message: 'Initial commit', parents: [] },
    ])
    expect(fs.readdirSync(path.join(workDir, 'out'))).toEqual(['.git'])
    // A second clone finds the branch and does not create it again.
    const again = await clone(makeCtx(fs.mkdtempSync(path.join(os.tmpdir(), 'git-clone-'))), {
      repoURL: url,
      checkout: [{ branch: 'stage/dev', create: true, path: './out' }],
    })
    expect(again.output).toEqual({ commits: { './out': head } })
  })

  it('fetches an abbreviated commit SHA through a full fetch', async () => {
    server.requests.length = 0
    const result = await clone(makeCtx(workDir), {
      repoURL: url,
      checkout: [{ commit: first.slice(0, 10), path: 'src' }],
    })
    expect(result.output).toEqual({ commits: { src: first } })
    const dir = path.join(workDir, 'src')
    expect(await cli(dir, ['status', '--porcelain'])).toBe('')
    // The whole history came along (no shallow boundary).
    expect(fs.existsSync(path.join(dir, '.git/shallow'))).toBe(false)
    expect(await cli(dir, ['cat-file', '-t', second])).toBe('commit\n')
    expect(server.count('/git-upload-pack', 'POST')).toBe(1)
  })

  it.each([
    {
      name: 'creates the branch',
      checkout: { branch: 'stage/dev', create: true, path: 'out' },
      error: undefined,
    },
    { name: 'fails for the default branch', checkout: { path: 'out' }, error: /is empty/ },
  ])('on an empty repository, $name', async ({ checkout, error }) => {
    const emptyURL = await server.createRepo(`empty-${error ? 'a' : 'b'}`, {}, { empty: true })
    const run = clone(makeCtx(workDir), { repoURL: emptyURL, checkout: [checkout] })
    if (error) {
      await expect(run).rejects.toThrow(error)
    } else {
      await expect(run).resolves.toMatchObject({ status: 'Succeeded' })
      expect(await server.log(`empty-b`, 'stage/dev')).toHaveLength(1)
    }
  })

  it('refuses a checkout path that leads outside the workspace through a symlink', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'))
    fs.symlinkSync(outside, path.join(workDir, 'link'))
    await expect(
      clone(makeCtx(workDir), { repoURL: url, checkout: [{ branch: 'main', path: 'link/src' }] }),
    ).rejects.toThrow(/through a symlink/)
    expect(fs.readdirSync(outside)).toEqual([])
  })

  it('checks out only the sparse cone', async () => {
    await clone(makeCtx(workDir), {
      repoURL: url,
      checkout: [{ branch: 'main', path: 'src', sparse: ['kustomize/base'] }],
    })
    const dir = path.join(workDir, 'src')
    expect(fs.existsSync(path.join(dir, 'README.md'))).toBe(true)
    expect(fs.existsSync(path.join(dir, 'kustomize/base/kustomization.yaml'))).toBe(true)
    expect(fs.existsSync(path.join(dir, 'kustomize/overlays'))).toBe(false)
    expect(fs.existsSync(path.join(dir, 'docs'))).toBe(false)
    expect(await cli(dir, ['status', '--porcelain'])).toBe('')
  })

  it.each([
    {
      name: 'a missing branch without create',
      checkout: { branch: 'nope', path: 'x' },
      error: /remote branch "nope" .* does not exist; set create=true/,
    },
    { name: 'a missing tag', checkout: { tag: 'v9', path: 'x' }, error: /tag "v9" not found/ },
    {
      name: 'a missing commit',
      checkout: { commit: 'f'.repeat(40), path: 'x' },
      error: /commit f+ not found/,
    },
    {
      name: 'a path escaping the workspace',
      checkout: { branch: 'main', path: '../outside' },
      error: /escapes the promotion workspace/,
    },
    { name: 'an absolute path', checkout: { branch: 'main', path: '/tmp/x' }, error: /must be relative/ },
  ])('fails terminally on $name', async ({ checkout, error }) => {
    const run = clone(makeCtx(workDir), { repoURL: url, checkout: [checkout] })
    await expect(run).rejects.toBeInstanceOf(TerminalError)
    await expect(run).rejects.toThrow(error)
  })

  it('refuses a non-empty path that is not an earlier clone, and replaces an earlier clone', async () => {
    fs.mkdirSync(path.join(workDir, 'busy'))
    fs.writeFileSync(path.join(workDir, 'busy', 'file'), 'x')
    await expect(
      clone(makeCtx(workDir), { repoURL: url, checkout: [{ branch: 'main', path: 'busy' }] }),
    ).rejects.toThrow(/already exists and is not empty/)
    const config = { repoURL: url, checkout: [{ branch: 'main', path: 'src' }] }
    await clone(makeCtx(workDir), config)
    const retried = await clone(makeCtx(workDir), config)
    expect(retried.status).toBe('Succeeded')
  })

  it.each([
    {
      name: 'branch and tag together',
      config: { repoURL: 'x', checkout: [{ branch: 'a', tag: 'b', path: 'p' }] },
    },
    { name: 'no checkout', config: { repoURL: 'x', checkout: [] } },
    {
      name: 'a duplicate alias',
      config: {
        repoURL: 'x',
        checkout: [
          { path: 'a', as: 'x' },
          { path: 'b', as: 'x' },
        ],
      },
    },
    { name: 'an unknown field', config: { repoURL: 'x', checkout: [{ path: 'a' }], depth: 1 } },
  ])('rejects a config with $name', ({ config }) => {
    expect(GitCloneConfigSchema.safeParse(config).success).toBe(false)
  })
})

describe('git-clone with credentials', () => {
  const password = 'hunter2-secret-token'
  let server: GitServer
  let url: string
  beforeAll(async () => {
    server = await startGitServer({ auth: { username: 'kargo', password } })
    url = await server.createRepo('private', { 'a.txt': 'a\n' })
  })
  afterAll(() => server.close())

  it.each([
    { name: 'the project credentials', creds: { username: 'kargo', password }, ok: true },
    { name: 'no credentials', creds: undefined, ok: false },
    { name: 'a wrong password', creds: { username: 'kargo', password: 'wrong-password' }, ok: false },
  ])('with $name', async ({ creds, ok }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-clone-auth-'))
    const lookups: string[] = []
    const ctx = {
      ...makeCtx(workDir, creds),
      credentials: async (type: string, repoURL: string) => (lookups.push(`${type} ${repoURL}`), creds),
    }
    server.requests.length = 0
    const run = clone(ctx, { repoURL: url, checkout: [{ branch: 'main', path: 'src' }] })
    if (ok) {
      await expect(run).resolves.toMatchObject({ status: 'Succeeded' })
      expect(lookups).toEqual([`git ${url}`])
      // Credentials are sent up front: no 401 round trip.
      expect(server.requests.every((r) => r.authorized)).toBe(true)
      // and never stored in the clone.
      expect(fs.readFileSync(path.join(workDir, 'src/.git/config'), 'utf8')).not.toContain(password)
    } else {
      const error: unknown = await run.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TerminalError)
      expect(String(error)).toMatch(/authentication failed/)
      expect(JSON.stringify(error)).not.toContain('wrong-password')
    }
  })

  it('redacts credentials embedded in the URL from errors', async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-clone-auth-'))
    const withCreds = url.replace('http://', 'http://kargo:wrong-embedded@')
    const error: unknown = await clone(makeCtx(workDir), {
      repoURL: withCreds,
      checkout: [{ branch: 'main', path: 'src' }],
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TerminalError)
    expect(String(error)).not.toContain('wrong-embedded')
    expect(String(error)).toContain('***@')
  })
})
