import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { evaluateTemplate } from '../expressions/index.js'
import { freightFunctions } from '../promotion/expression-env.js'
import { prepareManifests } from '../resources/apply.js'
import { DEMO, DEMO_GIT_URL_PLACEHOLDER, demoManifests, startDemo, type Demo } from './demo.js'
import { startGitServer } from './git-server.js'
import { freePort, portInUse } from './ports.js'

const admin = { name: 'admin', role: 'system-admin' as const }

describe('the npm start demo', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-demo-test-'))
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }))
    return dir
  }
  const started = async (options: Parameters<typeof startDemo>[0]): Promise<Demo> => {
    const demo = await startDemo(options)
    cleanup.push(() => demo.stop())
    return demo
  }

  it('has manifests that validate as one Project, its config, a git Warehouse and three Stages', () => {
    const text = demoManifests('http://127.0.0.1:1234/demo/app.git')
    expect(text).not.toContain(DEMO_GIT_URL_PLACEHOLDER)
    const docs = prepareManifests(text, admin)
    expect(docs.map((d) => `${d.project}/${d.kind}/${d.name}`).sort()).toEqual([
      'demo/Project/demo',
      'demo/ProjectConfig/demo',
      'demo/Stage/prod',
      'demo/Stage/test',
      'demo/Stage/uat',
      'demo/Warehouse/app',
    ])
    const warehouse = docs.find((d) => d.kind === 'Warehouse')!.manifest as any
    expect(warehouse.spec.subscriptions[0].git.repoURL).toBe('http://127.0.0.1:1234/demo/app.git')
  })

  it("clones the Freight's commit (Kargo's `commitFrom(…).ID`), not the branch head", () => {
    const repoURL = 'http://127.0.0.1:1234/demo/app.git'
    const docs = prepareManifests(demoManifests(repoURL), admin)
    const test = docs.find((d) => d.kind === 'Stage' && d.name === 'test')!.manifest as any
    const spec = test.spec.promotionTemplate.spec
    const checkout = spec.steps.find((s: any) => s.uses === 'git-clone').config.checkout
    const freight = { name: 'f1', origin: { kind: 'Warehouse', name: 'app' } }
    const fns = freightFunctions({
      project: 'demo',
      stage: 'test',
      promotion: 'p1',
      freight: { items: { 'Warehouse/app': { ...freight, commits: [{ repoURL, id: 'c0ffee' }] } } },
      targetFreight: freight,
      outputs: {},
      stepStatuses: {},
    })
    const env = { ...fns, vars: { repoURL: spec.vars[0].value }, ctx: { stage: 'test' } }
    expect(evaluateTemplate(checkout[0].commit, env)).toBe('c0ffee')
    expect(evaluateTemplate(checkout[1].branch, env)).toBe('stage/test')
  })

  it('seeds the repository once, keeps its port, and applies on every start', async () => {
    const dataDir = tempDir()
    const applied: string[] = []
    const options = {
      gitRoot: path.join(dataDir, 'git'),
      portFile: path.join(dataDir, 'git-port'),
      preferredPort: await freePort(),
      apply: async (yaml: string) => void applied.push(yaml),
    }
    const first = await started(options)
    expect(first.seeded).toBe(true)
    expect(first.repoURL).toBe(`http://127.0.0.1:${options.preferredPort}/${DEMO.repo}.git`)
    expect(applied[0]).toContain(`repoURL: ${first.repoURL}`)

    const server = await startGitServer({ root: options.gitRoot })
    cleanup.push(() => server.close())
    expect(await server.listFiles(DEMO.repo, 'main')).toContain('base/kustomization.yaml')
    const pushed = await server.commit(DEMO.repo, 'main', { 'base/version.env': 'VERSION=v2\n' })
    await first.stop()

    // Next time the preferred port is taken: the remembered one still wins.
    const second = await started({ ...options, preferredPort: await freePort() })
    expect(second.seeded).toBe(false)
    expect(second.repoURL).toBe(first.repoURL)
    expect(await server.head(DEMO.repo, 'main')).toBe(pushed)
    expect(applied).toHaveLength(2)
    expect(applied[1]).toBe(applied[0])
  })

  it('keeps an in-memory demo in a temp dir it removes, and frees the port when apply fails', async () => {
    const port = await freePort()
    const failing = startDemo({
      preferredPort: port,
      apply: async () => {
        throw new Error('apply refused')
      },
    })
    await expect(failing).rejects.toThrow('apply refused')
    expect(await portInUse(port)).toBe(false)

    const demo = await startDemo({ preferredPort: port, apply: async () => undefined })
    expect(demo.repoURL).toBe(`http://127.0.0.1:${port}/${DEMO.repo}.git`)
    expect(fs.existsSync(path.join(demo.gitRoot, `${DEMO.repo}.git`))).toBe(true)
    await demo.stop()
    expect(await portInUse(port)).toBe(false)
    expect(fs.existsSync(demo.gitRoot)).toBe(false)
  })
})
