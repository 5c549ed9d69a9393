import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../lib/local/ports.js'

const repo = path.resolve(__dirname, '../..')
const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-cli-'))
const env = {
  ...process.env,
  TUGBOAT_ADMIN_TOKEN: 'tb_quick-start-admin',
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

function tugboat(...args: string[]) {
  const result = spawnSync(path.join(repo, 'bin/tugboat.mjs'), args, { cwd: repo, env, encoding: 'utf8' })
  return { code: result.status, out: result.stdout, err: result.stderr }
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

describe('the README quick start: npm start, then the CLI', () => {
  let port: number
  let running: ReturnType<typeof npmStart>
  let dynamoPort: number

  beforeAll(async () => {
    port = await freePort()
    running = npmStart(['--in-memory', '--port', String(port)])
    await running.waitFor('Press Ctrl-C to stop.')
    dynamoPort = Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(running.output())![1])
  }, 120_000)

  afterAll(async () => {
    try {
      process.kill(-running.child.pid!, 'SIGKILL')
    } catch {
      // already gone: the Ctrl-C test stopped it
    }
  })

  it('prints the API URL and the admin token, and writes the CLI config', () => {
    expect(running.output()).toContain(`http://127.0.0.1:${port}`)
    expect(running.output()).toContain('tb_quick-start-admin')
    expect(JSON.parse(fs.readFileSync(env.TUGBOAT_CONFIG, 'utf8'))).toEqual({
      server: `http://127.0.0.1:${port}`,
      token: 'tb_quick-start-admin',
    })
  })

  it('applies the seed 004 manifests and lists the Stages with their sources', () => {
    const applied = tugboat('apply', '-f', 'examples/silly-demo/', '-p', 'silly-demo')
    expect(applied.err).toBe('')
    expect(applied.out).toContain('warehouse.kargo.akuity.io/silly-demo created')
    expect(applied.code).toBe(0)
    const stages = tugboat('get', 'stages', '-p', 'silly-demo')
    expect(stages.code).toBe(0)
    expect(stages.out).toMatch(/^NAME\s+CURRENT FREIGHT\s+HEALTH\s+PHASE\s+SOURCES\s+AGE/)
    expect(stages.out).toMatch(/dev .*silly-demo ← direct/)
    expect(stages.out).toMatch(/pre-prod .*silly-demo ← stage\/dev/)
    expect(stages.out).toMatch(/prod .*silly-demo ← stage\/pre-prod/)
    const yaml = tugboat('get', 'stage', 'dev', '-p', 'silly-demo', '-o', 'yaml')
    expect(yaml.out).toContain('kind: Stage')
  })

  it('shows the API error and exits non-zero on bad input', () => {
    const bad = path.join(configDir, 'bad.yaml')
    fs.writeFileSync(
      bad,
      fs
        .readFileSync(path.join(repo, 'examples/silly-demo/warehouse.yaml'), 'utf8')
        .replace('discoveryLimit', 'discoverLimit'),
    )
    const result = tugboat('apply', '-f', bad, '-p', 'silly-demo')
    expect(result.code).toBe(1)
    expect(result.err).toContain('spec.subscriptions[0].image.discoverLimit: unknown field')
    expect(tugboat('get', 'nonsense').code).toBe(2)
  })

  it('explains a port clash in one line', async () => {
    const second = npmStart(['--in-memory', '--port', String(port)])
    expect(await second.exited).toBe(1)
    const lines = second.output().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`port ${port} is already in use`)
  })

  it('stops every child process on Ctrl-C', async () => {
    expect(await listening(dynamoPort)).toBe(true)
    process.kill(-running.child.pid!, 'SIGINT')
    await running.exited
    await new Promise((r) => setTimeout(r, 500))
    expect(await listening(dynamoPort)).toBe(false)
    expect(await listening(port)).toBe(false)
  })
})

describe('npm start without Java', () => {
  it('explains it in one line', async () => {
    const run = npmStart(['--in-memory', '--port', String(await freePort())], {
      TUGBOAT_JAVA: '/nonexistent/java',
    })
    expect(await run.exited).toBe(1)
    const lines = run.output().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/Java 17\+ is required/)
  })
})
