import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import { gitClear } from './git-clear.js'
import { gitClone } from './git-clone.js'
import { buildMessage, gitCommit, GitCommitConfigSchema } from './git-commit.js'
import type { StepContext } from './types.js'

const exec = promisify(execFile)
async function cli(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  })
  return stdout
}

function makeCtx(workDir: string, outputs: Record<string, Record<string, unknown>> = {}): StepContext {
  return {
    project: 'demo',
    stage: 'dev',
    promotion: 'dev.01hx.abc',
    workDir,
    alias: 'commit',
    freight: { items: {} },
    outputs,
    credentials: async () => undefined,
    log: () => {},
  }
}

describe('git-clear and git-commit', () => {
  let server: GitServer
  let url: string
  let workDir: string
  let dir: string
  let base: string
  beforeAll(async () => {
    server = await startGitServer()
    url = await server.createRepo('app', {
      'README.md': 'hello\n',
      'k8s/app.yaml': 'kind: ConfigMap\n',
      'k8s/deep/more.yaml': 'kind: Secret\n',
      '.gitignore': '*.tmp\n',
    })
    base = (await server.head('app', 'main')) ?? ''
  })
  afterAll(() => server.close())
  beforeEach(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-commit-'))
    await gitClone.run(
      makeCtx(workDir),
      gitClone.config.parse({ repoURL: url, checkout: [{ branch: 'main', path: 'src' }] }),
    )
    dir = path.join(workDir, 'src')
  })

  async function commit(config: unknown, outputs?: Record<string, Record<string, unknown>>) {
    return gitCommit.run(makeCtx(workDir, outputs), gitCommit.config.parse(config))
  }

  it('git-clear removes everything but .git, and the commit records the deletions', async () => {
    fs.writeFileSync(path.join(dir, 'untracked.txt'), 'x')
    expect(await gitClear.run(makeCtx(workDir), gitClear.config.parse({ path: './src' }))).toEqual({
      status: 'Succeeded',
    })
    expect(fs.readdirSync(dir)).toEqual(['.git'])
    fs.writeFileSync(path.join(dir, 'manifests.yaml'), 'kind: List\n')
    const result = await commit({ path: './src', message: 'render' })
    expect(result.status).toBe('Succeeded')
    expect((await cli(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])).trim()).toBe('manifests.yaml')
    expect(await cli(dir, ['status', '--porcelain'])).toBe('')
  })

  it.each([
    {
      name: 'an added, a changed and a deleted file',
      change: (d: string) => {
        fs.writeFileSync(path.join(d, 'new.yaml'), 'new\n')
        fs.writeFileSync(path.join(d, 'README.md'), 'changed\n')
        fs.rmSync(path.join(d, 'k8s/deep/more.yaml'))
      },
      files: ['.gitignore', 'README.md', 'k8s/app.yaml', 'new.yaml'],
    },
    {
      name: 'an ignored file (left out) next to a new one',
      change: (d: string) => {
        fs.writeFileSync(path.join(d, 'scratch.tmp'), 'x')
        fs.writeFileSync(path.join(d, 'k8s/extra.yaml'), 'x')
      },
      files: ['.gitignore', 'README.md', 'k8s/app.yaml', 'k8s/deep/more.yaml', 'k8s/extra.yaml'],
    },
    {
      name: 'an executable bit and a symlink',
      change: (d: string) => {
        fs.chmodSync(path.join(d, 'README.md'), 0o755)
        fs.symlinkSync('k8s/app.yaml', path.join(d, 'link.yaml'))
      },
      files: ['.gitignore', 'README.md', 'k8s/app.yaml', 'k8s/deep/more.yaml', 'link.yaml'],
    },
  ])('commits $name like `git add -A && git commit`', async ({ change, files }) => {
    change(dir)
    const result = await commit({ path: 'src', message: 'Update things  \n\n\nbody line\n' })
    const head = (await cli(dir, ['rev-parse', 'HEAD'])).trim()
    expect(result).toEqual({ status: 'Succeeded', output: { commit: head } })
    expect((await cli(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])).trim().split('\n')).toEqual(files)
    expect(await cli(dir, ['log', '-1', '--format=%P%n%an <%ae>%n%cn <%ce>%n%B'])).toBe(
      `${base}\nKargo <no-reply@kargo.io>\nKargo <no-reply@kargo.io>\nUpdate things\n\nbody line\n\n`,
    )
    // What we committed is what the git CLI would have: nothing left to stage.
    expect(await cli(dir, ['status', '--porcelain'])).toBe('')
    expect(await cli(dir, ['fsck', '--no-progress'])).toBe('')
  })

  it('is Skipped with the current HEAD when nothing changed', async () => {
    fs.writeFileSync(path.join(dir, 'scratch.tmp'), 'ignored')
    expect(await commit({ path: 'src', message: 'nothing' })).toEqual({
      status: 'Skipped',
      message: 'nothing to commit',
      output: { commit: base },
    })
  })

  it('uses the author given in the config, the clone’s identity as committer', async () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a')
    await commit({ path: 'src', message: 'm', author: { name: 'Jane', email: 'jane@example.com' } })
    expect((await cli(dir, ['log', '-1', '--format=%an <%ae>|%cn <%ce>'])).trim()).toBe(
      'Jane <jane@example.com>|Kargo <no-reply@kargo.io>',
    )
  })

  it('builds the message from messageFromSteps (legacy)', async () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'a')
    const outputs = { 'update-image': { commitMessage: 'Updated ./src to use new image\n\n- nginx:1.27' } }
    await commit({ path: 'src', messageFromSteps: ['update-image'] }, outputs)
    expect(await cli(dir, ['log', '-1', '--format=%B'])).toBe(
      'Updated ./src to use new image\n\n- nginx:1.27\n\n',
    )
  })

  it.each([
    {
      name: 'message wins',
      cfg: { path: 'p', message: 'explicit', messageFromSteps: ['a'] },
      expected: 'explicit',
    },
    { name: 'one step', cfg: { path: 'p', messageFromSteps: ['a', 'missing'] }, expected: 'from a' },
    {
      name: 'no step left a message',
      cfg: { path: 'p', messageFromSteps: ['missing', 'c'] },
      expected: 'Kargo made some changes',
    },
    {
      name: 'several steps',
      cfg: { path: 'p', messageFromSteps: ['a', 'b'] },
      expected: 'Kargo applied multiple changes\n\nIncluding:\n\n  * from a\n  * from b',
    },
  ])('buildMessage: $name', ({ cfg, expected }) => {
    const outputs = { a: { commitMessage: 'from a' }, b: { commitMessage: 'from b' }, c: { other: 1 } }
    expect(buildMessage(GitCommitConfigSchema.parse(cfg), outputs)).toBe(expected)
  })

  it('buildMessage rejects a non-string commitMessage', () => {
    expect(() =>
      buildMessage(GitCommitConfigSchema.parse({ path: 'p', messageFromSteps: ['a'] }), {
        a: { commitMessage: 1 },
      }),
    ).toThrow(TerminalError)
  })

  it.each([
    {
      name: 'a path escaping the workspace',
      step: 'commit',
      config: { path: '../x', message: 'm' },
      error: /escapes the promotion workspace/,
    },
    {
      name: 'a directory that is not a working tree',
      step: 'commit',
      config: { path: '.', message: 'm' },
      error: /not inside a git working tree/,
    },
    {
      name: 'a path escaping the workspace',
      step: 'clear',
      config: { path: '../../' },
      error: /escapes the promotion workspace/,
    },
    {
      name: 'a directory that is not a working tree',
      step: 'clear',
      config: { path: 'nope' },
      error: /not inside a git working tree/,
    },
  ])('$step fails terminally on $name', async ({ step, config, error }) => {
    const result =
      step === 'commit'
        ? gitCommit.run(makeCtx(workDir), gitCommit.config.parse(config))
        : gitClear.run(makeCtx(workDir), gitClear.config.parse(config))
    await expect(result).rejects.toBeInstanceOf(TerminalError)
    await expect(result).rejects.toThrow(error)
  })

  it('rejects a config with neither message nor messageFromSteps', () => {
    expect(GitCommitConfigSchema.safeParse({ path: 'p' }).success).toBe(false)
  })

  it('commits only the named subdirectory when path is inside the working tree (like `git add .` there)', async () => {
    fs.writeFileSync(path.join(dir, 'README.md'), 'changed outside\n')
    fs.writeFileSync(path.join(dir, 'k8s/app.yaml'), 'kind: Changed\n')
    await gitClear.run(makeCtx(workDir), gitClear.config.parse({ path: 'src/k8s/deep' }))
    const result = await commit({ path: 'src/k8s', message: 'scoped' })
    expect(result.status).toBe('Succeeded')
    expect(await cli(dir, ['show', '--name-status', '--format=', 'HEAD'])).toBe(
      'M\tk8s/app.yaml\nD\tk8s/deep/more.yaml\n',
    )
    // The change outside the scope is still there, unstaged.
    expect(await cli(dir, ['status', '--porcelain'])).toBe(' M README.md\n')
  })

  it('keeps files outside a sparse cone in the commit', async () => {
    const sparseURL = await server.createRepo('sparse', {
      'README.md': 'root\n',
      'env/dev/values.yaml': 'dev\n',
      'env/prod/values.yaml': 'prod\n',
      'docs/guide.md': 'guide\n',
    })
    const sparseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-commit-sparse-'))
    await gitClone.run(
      makeCtx(sparseDir),
      gitClone.config.parse({
        repoURL: sparseURL,
        checkout: [{ branch: 'main', path: 'src', sparse: ['env/dev'] }],
      }),
    )
    const d = path.join(sparseDir, 'src')
    expect(fs.existsSync(path.join(d, 'env/prod'))).toBe(false)
    fs.writeFileSync(path.join(d, 'env/dev/values.yaml'), 'dev v2\n')
    await gitCommit.run(makeCtx(sparseDir), gitCommit.config.parse({ path: 'src', message: 'sparse' }))
    expect((await cli(d, ['ls-tree', '-r', '--name-only', 'HEAD'])).trim().split('\n')).toEqual([
      'README.md',
      'docs/guide.md',
      'env/dev/values.yaml',
      'env/prod/values.yaml',
    ])
    expect(await cli(d, ['show', 'HEAD:env/dev/values.yaml'])).toBe('dev v2\n')
    expect(await cli(d, ['status', '--porcelain'])).toBe('')
  })
})
