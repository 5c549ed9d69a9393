import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { startGitServer, type GitServer } from '../../test/support/git-server.js'
import { gitClone } from './git-clone.js'
import { gitCommit } from './git-commit.js'
import { gitPush } from './git-push.js'
import { GitTagConfigSchema, cleanupTagMessage, gitTag, isValidTagName } from './git-tag.js'
import type { Step, StepContext, StepResult } from './types.js'

const exec = promisify(execFile)
const startedAt = new Date('2025-03-01T12:00:00Z')

async function cli(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir(), ...env },
  })
  return stdout.trim()
}

let server: GitServer
let workDir: string
let repoURL: string
let counter = 0

beforeAll(async () => {
  server = await startGitServer()
})
afterAll(() => server.close())
beforeEach(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'git-tag-'))
  repoURL = await server.createRepo(`app-${++counter}`, { 'README.md': '# app\n' })
})

async function run<C>(step: Step<C>, config: unknown): Promise<StepResult> {
  const ctx: StepContext = {
    project: 'demo',
    stage: 'prod',
    promotion: 'prod.01hx.abc',
    workDir,
    alias: step.kind,
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
    startedAt,
  }
  return step.run(ctx, step.config.parse(config))
}

async function clone(): Promise<string> {
  await run(gitClone, {
    repoURL,
    author: { name: 'Release Bot', email: 'release@example.com' },
    checkout: [{ branch: 'main', path: 'src' }],
  })
  return path.join(workDir, 'src')
}

describe('git-tag', () => {
  it('writes the same annotated tag object as `git tag -a -m` would', async () => {
    const dir = await clone()
    const head = await cli(dir, ['rev-parse', 'HEAD'])
    const message = 'Release 1.0.0  \n# a comment git strips\n\n\nPromoted by Kargo\n\n'
    const result = await run(gitTag, { path: 'src', tag: 'v1.0.0', message })
    expect(result).toEqual({ status: 'Succeeded', output: { commit: head, tag: 'v1.0.0' } })

    const ours = await cli(dir, ['rev-parse', 'refs/tags/v1.0.0'])
    expect(await cli(dir, ['cat-file', '-t', ours])).toBe('tag')
    await cli(dir, ['tag', '-a', 'v1.0.0-cli', '-m', message], {
      GIT_COMMITTER_DATE: `${startedAt.getTime() / 1000} +0000`,
    })
    const theirs = await cli(dir, ['cat-file', '-p', 'refs/tags/v1.0.0-cli'])
    expect(await cli(dir, ['cat-file', '-p', ours])).toBe(theirs.replace('tag v1.0.0-cli', 'tag v1.0.0'))
    expect(
      await cli(dir, ['for-each-ref', '--format=%(taggername) %(taggeremail)', 'refs/tags/v1.0.0']),
    ).toBe('Release Bot <release@example.com>')
    await cli(dir, ['fsck', '--no-dangling'])
  })

  it('is idempotent for the same tag, refuses a different one unless force', async () => {
    await clone()
    await run(gitTag, { path: 'src', tag: 'v1', message: 'one' })
    expect((await run(gitTag, { path: 'src', tag: 'v1', message: 'one' })).status).toBe('Succeeded')
    const clash = run(gitTag, { path: 'src', tag: 'v1', message: 'another message' })
    await expect(clash).rejects.toThrow(new TerminalError('tag "v1" already exists in src'))

    fs.writeFileSync(path.join(workDir, 'src/CHANGELOG.md'), '1.0.1\n')
    const commit = await run(gitCommit, { path: 'src', message: 'changelog' })
    const moved = await run(gitTag, { path: 'src', tag: 'v1', message: 'moved', force: true })
    expect(moved.output).toEqual({ commit: commit.output?.commit, tag: 'v1' })
    expect(await cli(path.join(workDir, 'src'), ['rev-parse', 'v1^{commit}'])).toBe(commit.output?.commit)
  })

  it('pushes with git-push `tag`', async () => {
    await clone()
    await run(gitTag, { path: 'src', tag: 'release/2025-03-01', message: 'March release' })
    await run(gitPush, { path: 'src', tag: 'release/2025-03-01' })
    const name = `app-${counter}`
    expect(await server.git(name, ['cat-file', '-t', 'release/2025-03-01'])).toBe('tag\n')
    expect(await server.git(name, ['tag', '-l', '--format=%(contents)', 'release/2025-03-01'])).toBe(
      'March release\n\n',
    )
  })

  it.each(['-v1', 'v1..2', 'v1.lock', 'a b', 'x~1', 'v1.', '@', 'a/', 'a//b', 'x:y'])(
    'refuses the tag name %j',
    async (tag) => {
      expect(isValidTagName(tag)).toBe(false)
      await clone()
      await expect(run(gitTag, { path: 'src', tag, message: 'm' })).rejects.toThrow('is not a valid tag name')
    },
  )

  it('needs a working tree inside the workspace', async () => {
    await expect(run(gitTag, { path: '../elsewhere', tag: 'v1', message: 'm' })).rejects.toThrow(
      'escapes the promotion workspace',
    )
    fs.mkdirSync(path.join(workDir, 'plain'))
    await expect(run(gitTag, { path: 'plain', tag: 'v1', message: 'm' })).rejects.toThrow(
      'is not inside a git working tree',
    )
  })

  it('validates config and cleans messages like git', () => {
    expect(() => GitTagConfigSchema.parse({ path: 'src', tag: 'v1' })).toThrow()
    expect(cleanupTagMessage('  \n#c\nline  \n\n\nnext\n')).toBe('line\n\nnext\n')
  })
})
