import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGitServer, type CommitOptions, type GitFiles, type GitServer } from './git-server.js'

const exec = promisify(execFile)

async function cli(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  })
  return stdout
}

describe('startGitServer', () => {
  let server: GitServer
  let tmp: string
  beforeAll(async () => {
    server = await startGitServer()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'git-server-test-'))
  })
  afterAll(async () => {
    await server.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  })

  it('serves a repository created from files to the git CLI, and logs the requests', async () => {
    const url = await server.createRepo('app', {
      'README.md': 'hello\n',
      'k8s/app.yaml': 'kind: ConfigMap\n',
    })
    expect(url).toBe(`${server.url}/app.git`)
    server.requests.length = 0
    await cli(['clone', '--quiet', url, path.join(tmp, 'app')])
    expect(fs.readFileSync(path.join(tmp, 'app', 'k8s', 'app.yaml'), 'utf8')).toBe('kind: ConfigMap\n')
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      path: '/app.git/info/refs',
      query: 'service=git-upload-pack',
    })
    expect(server.count('/git-upload-pack', 'POST')).toBeGreaterThanOrEqual(1)
  })

  it('accepts pushes (http.receivepack is on)', async () => {
    const dir = path.join(tmp, 'app')
    fs.writeFileSync(path.join(dir, 'new.txt'), 'new\n')
    await cli(['add', '.'], dir)
    await cli(
      ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'add new'],
      dir,
    )
    await cli(['push', '--quiet', 'origin', 'HEAD:main'], dir)
    expect(await server.readFile('app', 'main', 'new.txt')).toBe('new\n')
    expect((await server.log('app', 'main'))[0]?.message).toBe('add new')
  })

  it.each<{ name: string; files: GitFiles; opts: CommitOptions; expected: string[] }>([
    {
      name: 'adds and changes files on top of the branch',
      files: { 'a.txt': 'A' },
      opts: {},
      expected: ['README.md', 'a.txt', 'k8s/app.yaml', 'new.txt'],
    },
    {
      name: 'deletes a file given as null',
      files: { 'new.txt': null },
      opts: {},
      expected: ['README.md', 'a.txt', 'k8s/app.yaml'],
    },
    {
      name: 'replaces the whole tree',
      files: { 'only.txt': 'x' },
      opts: { replace: true },
      expected: ['only.txt'],
    },
  ])('commit() $name', async ({ files, opts, expected }) => {
    const before = await server.head('app', 'main')
    const sha = await server.commit('app', 'main', files, { message: 'server side', ...opts })
    expect(await server.head('app', 'main')).toBe(sha)
    expect(await server.listFiles('app', 'main')).toEqual(expected)
    expect((await server.log('app', 'main'))[0]).toEqual({ sha, message: 'server side', parents: [before] })
  })

  it('commit() creates a missing branch as an orphan', async () => {
    const sha = await server.commit('app', 'stage/dev', { 'manifests.yaml': 'x: 1\n' })
    expect(await server.listFiles('app', 'stage/dev')).toEqual(['manifests.yaml'])
    expect((await server.log('app', 'stage/dev'))[0]?.parents).toEqual([])
    expect(await server.head('app', 'stage/dev')).toBe(sha)
    expect(await server.head('app', 'missing')).toBeUndefined()
    expect(await server.readFile('app', 'stage/dev', 'nope')).toBeUndefined()
  })

  it('runs beforeRequest before serving each request', async () => {
    const seen: string[] = []
    server.beforeRequest = (r) => {
      seen.push(`${r.method} ${r.path}`)
    }
    await cli(['ls-remote', server.repoURL('app')])
    server.beforeRequest = undefined
    expect(seen[0]).toBe('GET /app.git/info/refs')
  })
})

describe('startGitServer with basic auth', () => {
  let server: GitServer
  beforeAll(async () => {
    server = await startGitServer({ auth: { username: 'kargo', password: 's3cret-token' } })
    await server.createRepo('private', { 'a.txt': 'a' })
  })
  afterAll(() => server.close())

  it.each([
    { name: 'no credentials', header: undefined, status: 401 },
    { name: 'wrong password', header: `Basic ${Buffer.from('kargo:wrong').toString('base64')}`, status: 401 },
    {
      name: 'right credentials',
      header: `Basic ${Buffer.from('kargo:s3cret-token').toString('base64')}`,
      status: 200,
    },
  ])('$name → HTTP $status', async ({ header, status }) => {
    const res = await fetch(`${server.url}/private.git/info/refs?service=git-upload-pack`, {
      headers: header ? { authorization: header } : {},
    })
    expect(res.status).toBe(status)
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Basic /)
    await res.arrayBuffer()
  })
})
