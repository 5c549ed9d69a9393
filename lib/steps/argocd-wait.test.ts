import { afterEach, describe, expect, it } from 'vitest'
import { manualClock, type ManualClock } from '../../test/fakes/argocd/clock.js'
import { drive as driveWith, stepContext } from '../../test/fakes/argocd/harness.js'
import { startFakeArgoCD, type FakeAppSeed, type FakeArgoCD } from '../../test/fakes/argocd/server.js'
import { ArgoCDClient } from '../argocd/client.js'
import type { Step, StepContext } from './types.js'
import { TerminalError } from '../errors.js'
import { ArgoCDWaitConfigSchema, argocdWaitStep, type ArgoCDWaitConfig } from './argocd-wait.js'

const TOKEN = 'aaa.bbb.ccc'
const GITOPS = 'https://github.com/example/gitops.git'
const SHA = 'f'.repeat(40)

let fake: FakeArgoCD | undefined
let clock: ManualClock

/** The engine's loop, on the fake's clock: deterministic whatever the machine's load. */
function drive<C>(step: Step<C>, ctx: StepContext, config: C, options: Parameters<typeof driveWith>[3] = {}) {
  return driveWith(step, ctx, config, { clock, ...options })
}

afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function setup(apps: FakeAppSeed[], timeoutMs?: number) {
  clock = manualClock()
  const server = await startFakeArgoCD({
    token: TOKEN,
    clock: clock.now,
    timing: { startDelayMs: 5, syncDurationMs: 50, reconcileDelayMs: 40 },
    apps,
  })
  fake = server
  const client = new ArgoCDClient({ server: server.url, token: TOKEN })
  const step = argocdWaitStep({
    argocd: async () => client,
    pollIntervalMs: 10,
    now: clock.now,
    ...(timeoutMs ? { timeoutMs } : {}),
  })
  return { fake: server, client, step }
}

const config = (input: unknown): ArgoCDWaitConfig => ArgoCDWaitConfigSchema.parse(input)
const app = (name: string, extra: Partial<FakeAppSeed> = {}): FakeAppSeed => ({
  name,
  source: { repoURL: GITOPS, path: name, targetRevision: 'main' },
  ...extra,
})

describe('argocd-wait', () => {
  it('refuses bad config', () => {
    expect(
      ArgoCDWaitConfigSchema.safeParse({ apps: [{ name: 'a', waitFor: ['health', 'health'] }] }).success,
    ).toBe(false)
    expect(ArgoCDWaitConfigSchema.safeParse({ apps: [{ name: 'a', waitFor: ['ready'] }] }).success).toBe(
      false,
    )
    expect(ArgoCDWaitConfigSchema.safeParse({ apps: [{ selector: {} }] }).success).toBe(false)
  })

  it('succeeds at once for an idle, healthy, synced app, without needing the authorized-stage annotation', async () => {
    const { step } = await setup([app('web', { labels: { tier: 'web' } })])
    const result = await step.run(
      stepContext(),
      config({ apps: [{ selector: { matchLabels: { tier: 'web' } } }] }),
    )
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'all apps are ready',
      output: { apps: [{ name: 'web', namespace: 'argocd' }], healthStatus: { 'argocd/web': 'Healthy' } },
    })
  })

  it('waits through a sync until the app is reconciled, healthy and synced', async () => {
    const { client, step } = await setup([app('web')])
    await client.syncApplication('web')
    const results = await drive(step, stepContext(), config({ apps: [{ name: 'web' }] }))
    expect(results[0]).toMatchObject({ status: 'Running', retryAfterMs: 10 })
    expect(results[0]?.message).toMatch(/operation in progress/)
    expect(results.some((r) => /not trusted yet/.test(r.message ?? ''))).toBe(true)
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
  })

  it('waits for Synced only when `sync` is asked for', async () => {
    const { fake, client, step } = await setup([app('web')])
    await client.patchApplication('web', { patch: { spec: { source: { targetRevision: SHA } } } })
    for (let i = 0; i < 50 && fake.app('web').status.sync.status !== 'OutOfSync'; i++) {
      clock.advance(10)
    }
    const synced = await step.run(stepContext(), config({ apps: [{ name: 'web' }] }))
    expect(synced).toMatchObject({ status: 'Running', message: 'Argo CD app "argocd/web" is OutOfSync' })
    const healthOnly = await step.run(
      stepContext(),
      config({ apps: [{ name: 'web', waitFor: ['health', 'operation'] }] }),
    )
    expect(healthOnly.status).toBe('Succeeded')
  })

  it('fails when health regresses to Degraded while waiting', async () => {
    const { fake, step } = await setup([app('web', { health: 'Progressing' })])
    const results = await drive(step, stepContext(), config({ apps: [{ name: 'web' }] }), {
      between: (call) => {
        if (call === 1) fake.setHealth('web', 'Degraded', { message: 'Back-off restarting failed container' })
      },
    })
    expect(results.at(-1)).toMatchObject({
      status: 'Failed',
      message:
        'Argo CD app "argocd/web" health regressed from Progressing to Degraded: Back-off restarting failed container',
    })
  })

  it('waits for Degraded when asked to', async () => {
    const { step } = await setup([app('web', { health: 'Degraded' })])
    const result = await step.run(
      stepContext(),
      config({ apps: [{ name: 'web', waitFor: ['degraded', 'suspended'] }] }),
    )
    expect(result.status).toBe('Succeeded')
  })

  it('fails on a ComparisonError condition', async () => {
    const { step } = await setup([
      app('web', { conditions: [{ type: 'ComparisonError', message: 'repository not found' }] }),
    ])
    const result = await step.run(stepContext(), config({ apps: [{ name: 'web' }] }))
    expect(result).toMatchObject({
      status: 'Failed',
      message: 'Argo CD app "argocd/web" has a ComparisonError condition: repository not found',
    })
  })

  it('throws a TerminalError for an app it cannot see', async () => {
    const { step } = await setup([app('web')])
    const error = await step.run(stepContext(), config({ apps: [{ name: 'nope' }] })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TerminalError)
    expect((error as Error).message).toBe('app "nope" not found or not permitted (Argo CD answered 403)')
  })

  it('times out', async () => {
    const { fake, step } = await setup([app('web')], 120)
    fake.startOperation('web')
    fake.holdOperation('web')
    const results = await drive(step, stepContext(), config({ apps: [{ name: 'web' }] }))
    expect(results.at(-1)).toMatchObject({
      status: 'Failed',
      message: 'timed out after 120ms: Argo CD app "argocd/web" has an operation in progress',
    })
  })

  it('keeps waiting through Argo CD hiccups', async () => {
    const { fake, step } = await setup([app('web')])
    fake.failNextRequest({ method: 'GET' }, { status: 503, code: 14, message: 'connection refused' })
    const results = await drive(step, stepContext(), config({ apps: [{ name: 'web' }] }))
    expect(results[0]).toMatchObject({ status: 'Running' })
    expect(results[0]?.message).toMatch(
      /waiting for Argo CD: Argo CD failed to get app "web": connection refused \(HTTP 503\)/,
    )
    expect(results.at(-1)?.status).toBe('Succeeded')
  })
})
