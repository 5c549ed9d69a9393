import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../lib/local/ports.js'

const repo = path.resolve(__dirname, '../..')
const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-cli-'))
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-data-'))
const ADMIN_TOKEN = 'tb_quick-start-admin'
const env = {
  ...process.env,
  TUGBOAT_ADMIN_TOKEN: ADMIN_TOKEN,
  TUGBOAT_CONFIG: path.join(configDir, 'config.json'),
  TUGBOAT_SERVER: '',
  TUGBOAT_TOKEN: '',
}
delete (env as Record<string, string | undefined>).TUGBOAT_SERVER
delete (env as Record<string, string | undefined>).TUGBOAT_TOKEN

/** Runs `npm start -- …` the way a user does, in its own process group (Ctrl-C reaches every child). */
function npmStart(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: repo,
    env: { ...env, ...extraEnv },
    detached: true,
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitFor = async (text: string, ms = 90_000) => {
    const deadline = Date.now() + ms
    while (!output.includes(text)) {
      if (Date.now() > deadline) throw new Error(`did not see "${text}" in:\n${output}`)
      if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before "${text}":\n${output}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  return { child, output: () => output, exited, waitFor }
}

/** Runs a command to completion without blocking this process (the servers under test answer meanwhile). */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repo, env: options.env ?? env })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, out, err }))
  })
}

const tugboat = (...args: string[]) => run(path.join(repo, 'bin/tugboat.mjs'), args)

const gitEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Quick Start',
  GIT_AUTHOR_EMAIL: 'quick-start@example.com',
  GIT_COMMITTER_NAME: 'Quick Start',
  GIT_COMMITTER_EMAIL: 'quick-start@example.com',
}
async function git(cwd: string, ...args: string[]): Promise<string> {
  const result = await run('git', args, { cwd, env: gitEnv })
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.err}`)
  return result.out
}

/** Runs `npm start -- …`, which must exit 1 with a one-line explanation; returns that line. */
async function failsInOneLine(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<string | undefined> {
  const start = npmStart(args, extraEnv)
  expect(await start.exited).toBe(1)
  const lines = start.output().trim().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0]
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

/** Polls `probe` until it returns something, or fails with `what` after `ms`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('the README quick start: npm start, then the CLI', () => {
  let port: number
  let running: ReturnType<typeof npmStart>
  let dynamoPort: number
  let demoURL: string
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-demo-clone-'))
  const clone = path.join(work, 'app')

  const api = async (url: string): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${port}${url}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`)
    return res.json()
  }
  const demoFreight = async (): Promise<any[]> =>
    (await api('/v1beta1/projects/demo/freight')).groups[''].items
  const freightOf = async (commit: string) =>
    (await demoFreight()).find((f) => f.commits?.some((c: any) => c.id === commit))
  const currentFreight = async (stage: string): Promise<string | undefined> =>
    (await api(`/v1beta1/projects/demo/stages/${stage}`)).status?.freightHistory?.[0]?.items?.[
      'Warehouse/app'
    ]?.name
  const promotionsTo = async (stage: string): Promise<any[]> =>
    (await api(`/v1beta1/projects/demo/promotions?stage=${stage}`)).items
  /** The Freight reaches the Stage: its Promotion succeeded and the Stage's current Freight is it. */
  const reaches = (stage: string, freight: string) =>
    eventually(
      `${freight.slice(0, 7)} in ${stage}`,
      async () => ((await currentFreight(stage)) === freight ? true : undefined),
      30_000,
    )

  /** `npm start` on the test's data dir and port. */
  // Fast timers, as the local runtime allows: the demo Warehouse still asks for its 10s interval.
  const startOnData = () =>
    npmStart([
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--discover-every',
      '1',
      '--reconcile-every',
      '1',
    ])
  /** The manifests the Stage's branch holds now, fetched into the clone. */
  const renderedIn = async (stage: string): Promise<string> => {
    await git(clone, 'fetch', '--quiet', 'origin', `stage/${stage}`)
    return git(clone, 'show', 'FETCH_HEAD:manifests.yaml')
  }

  beforeAll(async () => {
    port = await freePort()
    running = startOnData()
    await running.waitFor('Press Ctrl-C to stop.')
    dynamoPort = Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(running.output())![1])
    demoURL = /git clone (http:\/\/\S+)/.exec(running.output())![1]!
  }, 120_000)

  afterAll(async () => {
    try {
      process.kill(-running.child.pid!, 'SIGKILL')
    } catch {
      // already gone: the Ctrl-C test stopped it
    }
    await running.exited
    for (const dir of [work, dataDir]) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('prints the API URL, the admin token and the demo, and writes the CLI config', () => {
    const output = running.output()
    expect(output).toContain(`http://127.0.0.1:${port}`)
    expect(output).toContain(ADMIN_TOKEN)
    expect(demoURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/demo\/app\.git$/)
    expect(output).toContain('npx tugboat promote -p demo --warehouse app --stage prod --wait')
    expect(JSON.parse(fs.readFileSync(env.TUGBOAT_CONFIG, 'utf8'))).toEqual({
      server: `http://127.0.0.1:${port}`,
      token: ADMIN_TOKEN,
    })
  })

  it('runs the demo pipeline offline: Freight from the demo repo flows to test, then uat', async () => {
    const seeded = (await git(repo, 'ls-remote', demoURL, 'refs/heads/main')).split('\t')[0]!
    const first = await eventually('Freight of the seeded commit', () => freightOf(seeded))
    await reaches('test', first.metadata.name)
    const [toTest] = await promotionsTo('test')
    expect(toTest.status.phase).toBe('Succeeded')
    expect(toTest.spec.freight).toBe(first.metadata.name)

    await git(work, 'clone', '--quiet', demoURL, clone)
    const rendered = await renderedIn('test')
    expect(rendered).toContain('kind: Deployment')
    expect(rendered).toContain('namespace: demo-test')
    expect(rendered).toContain('VERSION: v1')

    // Verified in test (no Argo CD, no verification: healthy means verified), so uat auto-promotes.
    await reaches('uat', first.metadata.name)
    expect((await promotionsTo('uat'))[0].status.phase).toBe('Succeeded')
    expect((await promotionsTo('prod')).length).toBe(0)

    const stages = await tugboat('get', 'stages', '-p', 'demo')
    expect(stages.code).toBe(0)
    expect(stages.out).toMatch(/^NAME\s+CURRENT FREIGHT\s+HEALTH\s+PHASE\s+SOURCES\s+AGE/)
    expect(stages.out).toMatch(new RegExp(`test\\s+${first.metadata.name.slice(0, 7)}\\s.*app ← direct`))
    expect(stages.out).toMatch(new RegExp(`uat\\s+${first.metadata.name.slice(0, 7)}\\s.*app ← stage/test`))
    expect(stages.out).toMatch(/prod\s+NotApplicable.*app ← stage\/uat/)
  })

  it('turns a pushed commit into new Freight that reaches test, and promotes to prod by hand', async () => {
    fs.writeFileSync(path.join(clone, 'base/version.env'), 'VERSION=v2\n')
    await git(clone, 'commit', '--quiet', '-am', 'Release v2')
    await git(clone, 'push', '--quiet', 'origin', 'HEAD:main')
    const pushed = (await git(clone, 'rev-parse', 'HEAD')).trim()
    // The Warehouse's own 10s interval finds it: no refresh.
    const second = await eventually('Freight of the pushed commit', () => freightOf(pushed), 30_000)
    await reaches('test', second.metadata.name)
    expect(await renderedIn('test')).toContain('VERSION: v2')
    await reaches('uat', second.metadata.name)

    const promoted = await tugboat('promote', '-p', 'demo', '--warehouse', 'app', '--stage', 'prod', '--wait')
    expect(promoted.err).toBe('')
    expect(promoted.out).toContain('Succeeded')
    expect(promoted.code).toBe(0)
    expect(await currentFreight('prod')).toBe(second.metadata.name)
    expect(await renderedIn('prod')).toContain('namespace: demo-prod')
  })

  it('applies the seed 004 manifests and lists the Stages with their sources', async () => {
    const applied = await tugboat('apply', '-f', 'examples/silly-demo/', '-p', 'silly-demo')
    expect(applied.err).toBe('')
    expect(applied.out).toContain('warehouse.kargo.akuity.io/silly-demo created')
    expect(applied.code).toBe(0)
    const stages = await tugboat('get', 'stages', '-p', 'silly-demo')
    expect(stages.code).toBe(0)
    expect(stages.out).toMatch(/^NAME\s+CURRENT FREIGHT\s+HEALTH\s+PHASE\s+SOURCES\s+AGE/)
    expect(stages.out).toMatch(/dev .*silly-demo ← direct/)
    expect(stages.out).toMatch(/pre-prod .*silly-demo ← stage\/dev/)
    expect(stages.out).toMatch(/prod .*silly-demo ← stage\/pre-prod/)
    const yaml = await tugboat('get', 'stage', 'dev', '-p', 'silly-demo', '-o', 'yaml')
    expect(yaml.out).toContain('kind: Stage')
  })

  it('shows the API error and exits non-zero on bad input', async () => {
    const bad = path.join(configDir, 'bad.yaml')
    fs.writeFileSync(
      bad,
      fs
        .readFileSync(path.join(repo, 'examples/silly-demo/warehouse.yaml'), 'utf8')
        .replace('discoveryLimit', 'discoverLimit'),
    )
    const result = await tugboat('apply', '-f', bad, '-p', 'silly-demo')
    expect(result.code).toBe(1)
    expect(result.err).toContain('spec.subscriptions[0].image.discoverLimit: unknown field')
    expect((await tugboat('get', 'nonsense')).code).toBe(2)
  })

  it('explains a port clash in one line', async () => {
    const line = await failsInOneLine(['--in-memory', '--port', String(port)])
    expect(line).toContain(`port ${port} is already in use`)
  })

  it('stops every child process on Ctrl-C', async () => {
    expect(await listening(dynamoPort)).toBe(true)
    process.kill(-running.child.pid!, 'SIGINT')
    await running.exited
    await new Promise((r) => setTimeout(r, 500))
    expect(await listening(dynamoPort)).toBe(false)
    expect(await listening(port)).toBe(false)
    expect(await listening(Number(new URL(demoURL).port))).toBe(false)
  })

  it('restarts cleanly on the same data: same demo URL, nothing re-seeded or duplicated', async () => {
    const head = await git(repo, '--git-dir', path.join(dataDir, 'git/demo/app.git'), 'rev-parse', 'main')
    const again = startOnData()
    try {
      await again.waitFor('Press Ctrl-C to stop.')
      expect(again.output()).toContain(`git clone ${demoURL} `)
      expect(again.output()).not.toMatch(/not started|error|fail/i)
      // The pushed commit is still main's head: the repository was not seeded again.
      expect((await git(repo, 'ls-remote', demoURL, 'refs/heads/main')).split('\t')[0]).toBe(head.trim())
      // Let the start-up refresh and a few reconciles run, then nothing new may have appeared.
      await new Promise((r) => setTimeout(r, 3000))
      expect(await demoFreight()).toHaveLength(2)
      expect(await promotionsTo('test')).toHaveLength(2)
      expect(await promotionsTo('prod')).toHaveLength(1)
      expect((await api('/v1beta1/projects/demo/stages')).items).toHaveLength(3)
      expect(again.output()).not.toMatch(/auto-promoting/)
    } finally {
      process.kill(-again.child.pid!, 'SIGINT')
      await again.exited
    }
  })
})

describe('npm start without Java', () => {
  it('explains it in one line', async () => {
    const line = await failsInOneLine(['--in-memory', '--port', String(await freePort())], {
      TUGBOAT_JAVA: '/nonexistent/java',
    })
    expect(line).toMatch(/Java 17\+ is required/)
  })
})
