import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeArgoCD, type FakeArgoCD } from '../fakes/argocd/server.js'
import { startGitServer, type GitServer } from '../support/git-server.js'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { startTugboat } from '../support/tugboat.js'
import { kargoDemoRepo, seedManifests, sillyDemoApps } from './fixtures.js'

const ARGOCD_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0dWdib2F0In0.c2lnbmF0dXJl'
const repo = path.resolve(__dirname, '../..')

describe('a worker killed mid-promotion', () => {
  let registry: Registry
  let git: GitServer
  let argocd: FakeArgoCD
  let tugboat: Awaited<ReturnType<typeof startTugboat>>
  const workers: ChildProcess[] = []
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tb-kill-')), 'worker.log')

  function startWorker(): ChildProcess {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repo, 'test/support/worker-process.ts')],
      {
        cwd: repo,
        env: { ...process.env, TUGBOAT_LOG_FILE: logFile, TUGBOAT_LEASE_SECONDS: '3' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
    workers.push(child)
    return child
  }
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '')
  async function until(what: string, test: () => boolean | Promise<boolean>, ms = 90_000) {
    const deadline = Date.now() + ms
    while (!(await test())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; worker log:\n${log()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  beforeAll(async () => {
    registry = await startRegistry()
    await pushImage(registry, 'vfarcic/silly-demo', '1.4.299')
    git = await startGitServer({ auth: { username: 'your-github-user', password: 'your-github-pat' } })
    const gitURL = await git.createRepo('kargo-demo', kargoDemoRepo(registry.host))
    argocd = await startFakeArgoCD({ token: ARGOCD_TOKEN, apps: sillyDemoApps(gitURL) })
    // No in-process worker, and a short visibility timeout so a killed worker's message comes back quickly.
    tugboat = await startTugboat(
      { ARGOCD_SERVER: argocd.url, ARGOCD_AUTH_TOKEN: ARGOCD_TOKEN },
      { worker: false, visibilityTimeoutSeconds: 5 },
    )
    const applied = await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true&project=silly-demo',
      seedManifests(registry.host, gitURL),
      'application/yaml',
    )
    expect(applied.status).toBe(200)
  }, 120_000)

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL')
    await tugboat?.stop()
    await Promise.all([argocd?.close(), git?.close(), registry?.close()])
  })

  it('finishes exactly once when the message comes back: one commit, Stage released', async () => {
    const first = startWorker()
    await tugboat.api('POST', '/v1beta1/projects/silly-demo/warehouses/silly-demo/refresh')
    // Kill it hard right after git-commit, before the push is recorded.
    await until('the commit step', () => /commit: committed [0-9a-f]{7}/.test(log()))
    first.kill('SIGKILL')
    await new Promise((resolve) => first.once('exit', resolve))
    const promotions = async () =>
      (await tugboat.api<any>('GET', '/v1beta1/projects/silly-demo/promotions?stage=dev')).body.items as any[]
    const [interrupted] = await promotions()
    expect(interrupted.status.phase).toBe('Running')

    startWorker()
    await until('the promotion to finish', async () => (await promotions())[0]?.status?.phase === 'Succeeded')
    const [done] = await promotions()
    expect(await promotions()).toHaveLength(1)
    // When the kill landed after the push, the replayed git-commit finds nothing new and is Skipped (still
    // outputting the pushed commit); every other step succeeds.
    const statuses = done.status.stepExecutionMetadata.map((s: any) => s.status)
    expect(statuses.filter((_: string, i: number) => i !== 4)).toEqual(Array(6).fill('Succeeded'))
    expect(['Succeeded', 'Skipped']).toContain(statuses[4])
    // The branch holds git-clone's "Initial commit" (made when it created the branch, as Kargo does) and ours, once.
    const history = await git.log('kargo-demo', 'stage/dev')
    expect(history.map((c) => c.message.trim())).toEqual([
      expect.stringContaining('1.4.299'),
      'Initial commit',
    ])
    expect(done.status.state.commit.commit).toBe(history[0]!.sha)
    const stage = (await tugboat.api<any>('GET', '/v1beta1/projects/silly-demo/stages/dev')).body
    expect(stage.status.currentPromotion).toBeUndefined()
    expect(stage.status.lastPromotion.name).toBe(done.metadata.name)
  }, 150_000)

  it('does not push a second commit when killed after the push landed', async () => {
    await tugboat.reconcile()
    const freight = (await tugboat.api<any>('GET', '/v1beta1/projects/silly-demo/freight')).body.groups['']
      .items[0]
    expect(freight.status.verifiedIn).toHaveProperty('dev')
    fs.writeFileSync(logFile, '')
    const worker = startWorker()
    const created = await tugboat.api<any>(
      'POST',
      '/v1beta1/projects/silly-demo/stages/pre-prod/promotions',
      { freight: freight.metadata.name },
    )
    expect(created.status).toBe(201)
    await until('the push', () => /pushed [0-9a-f]{7} to stage\/pre-prod/.test(log()))
    worker.kill('SIGKILL')
    await new Promise((resolve) => worker.once('exit', resolve))
    startWorker()
    const get = async () =>
      (await tugboat.api<any>('GET', `/v1beta1/projects/silly-demo/promotions/${created.body.metadata.name}`))
        .body
    await until('pre-prod to finish', async () => (await get()).status.phase === 'Succeeded')
    const history = await git.log('kargo-demo', 'stage/pre-prod')
    expect(history.filter((c) => c.message.includes('1.4.299'))).toHaveLength(1)
    expect((await get()).status.state['step-5'].commit).toBe(history[0]!.sha)
  }, 150_000)
})
