import os from 'node:os'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { Actor } from '../../lib/auth/actor.js'
import { promoteToStage } from '../../lib/promotion/create.js'
import { workPromotion, type WorkerDeps } from '../../lib/promotion/worker.js'
import { applyManifests } from '../../lib/resources/apply.js'
import { parseManifests } from '../../lib/model/manifests.js'
import { createFreight } from '../../lib/store/freight.js'
import { requirePromotion } from '../../lib/store/promotions.js'
import { sealer } from '../../lib/store/sealing.js'
import { requireStage } from '../../lib/store/stages.js'
import type { Step } from '../../lib/steps/types.js'
import { freshDb } from '../support/stack.js'

const admin: Actor = { name: 'tester', role: 'system-admin' }
const seal = sealer(Buffer.alloc(32, 7).toString('base64'))

/** Test-defined steps that record what they were given. */
function recordingSteps() {
  const calls: Array<{ kind: string; state?: unknown; config: unknown; outputs: unknown }> = []
  const waiter: Step<{ times: number }> = {
    kind: 'argocd-wait',
    config: z.object({ times: z.coerce.number() }),
    async run(ctx, config) {
      calls.push({ kind: 'argocd-wait', state: ctx.state, config, outputs: ctx.outputs })
      const seen = Number(ctx.state?.seen ?? 0) + 1
      if (seen < config.times) return { status: 'Running', retryAfterMs: 10, state: { seen } }
      return { status: 'Succeeded', output: { seen } }
    },
  }
  const echo: Step<Record<string, unknown>> = {
    kind: 'git-clear',
    config: z.record(z.string(), z.unknown()),
    async run(ctx, config) {
      calls.push({ kind: 'git-clear', config, outputs: ctx.outputs })
      if (config.fail) return { status: 'Failed', message: String(config.fail) }
      return { status: 'Succeeded', output: { echoed: config } }
    },
  }
  return {
    calls,
    steps: new Map<string, Step<unknown>>([
      [waiter.kind, waiter as Step<unknown>],
      [echo.kind, echo as Step<unknown>],
    ]),
  }
}

async function setup(steps: string) {
  const db = await freshDb()
  const manifests = `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata: {name: demo}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: demo}
spec:
  subscriptions: [{image: {repoURL: example.com/app}}]
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: test, namespace: demo}
spec:
  requestedFreight: [{origin: {kind: Warehouse, name: app}, sources: {direct: true}}]
  vars:
  - {name: greeting, value: hello}
  promotionTemplate:
    spec:
      vars:
      - {name: target, value: "stage/\${{ ctx.stage }}"}
      steps:
${steps}
`
  // Parsed without step-config checks: these tests use their own steps under built-in names.
  await applyManifests({ db, sealer: seal }, parseManifests(manifests), 'upsert')
  const { freight } = await createFreight(db, {
    project: 'demo',
    name: 'f'.repeat(40),
    alias: 'test-freight',
    origin: { kind: 'Warehouse', name: 'app' },
    images: [{ repoURL: 'example.com/app', tag: '1.0.0', digest: 'sha256:abc' }],
    discoveredAt: new Date(),
  })
  const queued: string[] = []
  const promotion = await promoteToStage(
    { db, enqueuePromotion: async (m) => void queued.push(m.promotion) },
    {
      project: 'demo',
      stage: 'test',
      selector: { freight: freight.metadata.name },
      actor: admin,
      manual: true,
    },
  )
  return { db, promotion, queued }
}

function deps(db: WorkerDeps['db'], steps: WorkerDeps['steps'], holder = 'w1'): WorkerDeps {
  return { db, sealer: seal, steps, holder, workRoot: fs.mkdtempSync(path.join(os.tmpdir(), 'tb-worker-')) }
}

describe('the promotion worker', () => {
  it('runs steps with vars and outputs, hands a waiting step its state back, and completes the Stage', async () => {
    const { db, promotion, queued } = await setup(`      - uses: git-clear
        as: first
        config: {path: "\${{ vars.target }}", who: "\${{ vars.greeting }}", n: "\${{ 41 + 1 }}"}
      - uses: argocd-wait
        as: wait
        config: {times: 3}
      - uses: git-clear
        config: {previous: "\${{ outputs.first.echoed.path }}", seen: "\${{ outputs.wait.seen }}"}`)
    expect(queued).toEqual([promotion.metadata.name])
    const { calls, steps } = recordingSteps()
    const worker = deps(db, steps)
    const results = []
    for (let i = 0; i < 5; i++) {
      const result = await workPromotion(
        { ...worker, holder: `delivery-${i}` },
        'demo',
        promotion.metadata.name,
      )
      results.push(result.done)
      if (result.done) break
    }
    expect(results).toEqual([false, false, true])
    expect(calls.map((c) => c.kind)).toEqual([
      'git-clear',
      'argocd-wait',
      'argocd-wait',
      'argocd-wait',
      'git-clear',
    ])
    expect(calls[0]!.config).toEqual({ path: 'stage/test', who: 'hello', n: 42 })
    expect(calls.filter((c) => c.kind === 'argocd-wait').map((c) => c.state)).toEqual([
      undefined,
      { seen: 1 },
      { seen: 2 },
    ])
    expect(calls[4]!.config).toEqual({ previous: 'stage/test', seen: 3 })
    const done = await requirePromotion(db, 'demo', promotion.metadata.name)
    expect(done.status.phase).toBe('Succeeded')
    expect(done.status.lease).toBeUndefined()
    expect(done.status.stepExecutionMetadata!.map((s) => [s.alias, s.status])).toEqual([
      ['first', 'Succeeded'],
      ['wait', 'Succeeded'],
      ['step-2', 'Succeeded'],
    ])
    const stage = await requireStage(db, 'demo', 'test')
    expect(stage.status.currentPromotion).toBeUndefined()
    expect(stage.status.lastPromotion?.name).toBe(promotion.metadata.name)
    expect(stage.status.freightHistory?.[0]?.items['Warehouse/app']?.name).toBe('f'.repeat(40))
  })

  it('acknowledges a duplicate delivery of a finished Promotion without running a step', async () => {
    const { db, promotion } = await setup(`      - uses: git-clear
        config: {a: 1}`)
    const { calls, steps } = recordingSteps()
    expect(await workPromotion(deps(db, steps), 'demo', promotion.metadata.name)).toEqual({ done: true })
    expect(await workPromotion(deps(db, steps, 'w2'), 'demo', promotion.metadata.name)).toEqual({
      done: true,
    })
    expect(calls).toHaveLength(1)
  })

  it('keeps a second delivery off a Promotion another worker holds', async () => {
    const { db, promotion } = await setup(`      - uses: argocd-wait
        config: {times: 2}`)
    const { calls, steps } = recordingSteps()
    const { updateResource } = await import('../../lib/store/resources.js')
    await updateResource(db, { project: 'demo', kind: 'Promotion', name: promotion.metadata.name }, (r) => ({
      ...r,
      status: {
        ...r.status,
        lease: { holder: 'someone-else', until: new Date(Date.now() + 60_000).toISOString() },
      },
    }))
    const result = await workPromotion(deps(db, steps), 'demo', promotion.metadata.name)
    expect(result).toMatchObject({ done: false, reason: 'leased by someone-else' })
    expect(calls).toHaveLength(0)
  })

  it('fails the Promotion on a failing step, skips the rest, and releases the Stage', async () => {
    const { db, promotion } = await setup(`      - uses: git-clear
        config: {fail: "no luck"}
      - uses: git-clear
        config: {never: true}`)
    const { calls, steps } = recordingSteps()
    expect(await workPromotion(deps(db, steps), 'demo', promotion.metadata.name)).toEqual({ done: true })
    const done = await requirePromotion(db, 'demo', promotion.metadata.name)
    expect(done.status.phase).toBe('Failed')
    expect(done.status.message).toContain('no luck')
    expect(calls).toHaveLength(1)
    const stage = await requireStage(db, 'demo', 'test')
    expect(stage.status.currentPromotion).toBeUndefined()
    expect(stage.status.lastPromotion?.status?.phase).toBe('Failed')
  })

  it('never overlaps Promotions to one Stage: they run one at a time in creation order, whatever the delivery order', async () => {
    const { db, promotion: first } = await setup(`      - uses: argocd-wait
        config: {times: 2}`)
    const second = await promoteToStage(
      { db, enqueuePromotion: async () => {} },
      { project: 'demo', stage: 'test', selector: { freight: 'f'.repeat(40) }, actor: admin, manual: true },
    )
    const { steps } = recordingSteps()
    // The later one is delivered first: it must wait for the earlier one.
    expect(await workPromotion(deps(db, steps, 'w-second'), 'demo', second.metadata.name)).toMatchObject({
      done: false,
      reason: expect.stringContaining(first.metadata.name),
    })
    const pending = new Set([first.metadata.name, second.metadata.name])
    for (let round = 0; pending.size > 0 && round < 20; round++) {
      await Promise.all(
        [...pending].map(async (name, i) => {
          const result = await workPromotion(deps(db, steps, `w-${round}-${i}`), 'demo', name)
          if (result.done) pending.delete(name)
        }),
      )
    }
    const [a, b] = await Promise.all([
      requirePromotion(db, 'demo', first.metadata.name),
      requirePromotion(db, 'demo', second.metadata.name),
    ])
    expect([a.status.phase, b.status.phase]).toEqual(['Succeeded', 'Succeeded'])
    expect(Date.parse(b.status.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.status.finishedAt!))
  })

  it('honours continueOnError and if: success() / failure()', async () => {
    const { db, promotion } = await setup(`      - uses: git-clear
        as: doomed
        continueOnError: true
        config: {fail: "expected"}
      - uses: git-clear
        as: plain
        config: {skipped: "no if, and an earlier step failed"}
      - uses: git-clear
        as: after-failure
        if: \${{ failure() }}
        config: {saw: "\${{ status('doomed') }}"}
      - uses: git-clear
        as: only-on-success
        if: \${{ success() }}
        config: {never: true}`)
    const { calls, steps } = recordingSteps()
    expect(await workPromotion(deps(db, steps), 'demo', promotion.metadata.name)).toEqual({ done: true })
    const done = await requirePromotion(db, 'demo', promotion.metadata.name)
    expect(done.status.stepExecutionMetadata!.map((s) => [s.alias, s.status])).toEqual([
      ['doomed', 'Failed'],
      ['plain', 'Skipped'],
      ['after-failure', 'Succeeded'],
      ['only-on-success', 'Skipped'],
    ])
    expect(calls.map((c) => c.config)).toEqual([{ fail: 'expected' }, { saw: 'Failed' }])
  })

  it("expands a PromotionTask into task::step aliases, with the caller's vars and task.outputs", async () => {
    const { db } = await setup(`      - uses: git-clear
        config: {x: 1}`)
    const { applyManifests } = await import('../../lib/resources/apply.js')
    await applyManifests(
      { db, sealer: seal },
      parseManifests(`apiVersion: kargo.akuity.io/v1alpha1
kind: PromotionTask
metadata: {name: checks, namespace: demo}
spec:
  vars:
  - {name: level, value: lenient}
  steps:
  - uses: git-clear
    as: first
    config: {level: "\${{ vars.level }}"}
  - uses: git-clear
    as: second
    config: {first: "\${{ task.outputs.first.echoed.level }}"}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: tasked, namespace: demo}
spec:
  requestedFreight: [{origin: {kind: Warehouse, name: app}, sources: {direct: true}}]
  promotionTemplate:
    spec:
      steps:
      - as: lint
        task: {name: checks}
        vars:
        - {name: level, value: strict}
`),
      'upsert',
    )
    const promotion = await promoteToStage(
      { db, enqueuePromotion: async () => {} },
      { project: 'demo', stage: 'tasked', selector: { freight: 'f'.repeat(40) }, actor: admin, manual: true },
    )
    expect(promotion.spec.steps.map((s) => s.as)).toEqual(['lint::first', 'lint::second'])
    const { calls, steps } = recordingSteps()
    expect(await workPromotion(deps(db, steps), 'demo', promotion.metadata.name)).toEqual({ done: true })
    expect(calls.map((c) => c.config)).toEqual([{ level: 'strict' }, { first: 'strict' }])
  })

  it('aborts a Pending Promotion at once and a Running one at its next step', async () => {
    const { db, promotion } = await setup(`      - uses: argocd-wait
        config: {times: 2}
      - uses: git-clear
        config: {never: true}`)
    const { calls, steps } = recordingSteps()
    expect((await workPromotion(deps(db, steps), 'demo', promotion.metadata.name)).done).toBe(false)
    const { updateResource } = await import('../../lib/store/resources.js')
    await updateResource(db, { project: 'demo', kind: 'Promotion', name: promotion.metadata.name }, (r) => ({
      ...r,
      status: { ...r.status, abortRequested: true },
    }))
    expect(await workPromotion(deps(db, steps, 'w2'), 'demo', promotion.metadata.name)).toEqual({
      done: true,
    })
    const done = await requirePromotion(db, 'demo', promotion.metadata.name)
    expect(done.status.phase).toBe('Aborted')
    expect(calls.map((c) => c.kind)).toEqual(['argocd-wait'])
    expect((await requireStage(db, 'demo', 'test')).status.currentPromotion).toBeUndefined()
  })
})
