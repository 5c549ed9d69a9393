import { afterEach, describe, expect, it } from 'vitest'
import { manualClock, type ManualClock } from '../../test/fakes/argocd/clock.js'
import { drive as driveWith, stepContext } from '../../test/fakes/argocd/harness.js'
import {
  startFakeArgoCD,
  type FakeAppSeed,
  type FakeArgoCD,
  type FakeArgoCDOptions,
} from '../../test/fakes/argocd/server.js'
import { ArgoCDClient } from '../argocd/client.js'
import type { Step, StepContext } from './types.js'
import { appHealthForStage } from '../argocd/health.js'
import { TerminalError } from '../errors.js'
import {
  ArgoCDUpdateConfigSchema,
  ArgoCDUpdateOutputSchema,
  argocdUpdateStep,
  type ArgoCDUpdateConfig,
} from './argocd-update.js'

const TOKEN = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJwcm9qOmthcmdvLWRlbW86dHVnYm9hdCJ9.c2ln'
const GITOPS = 'https://github.com/example/gitops.git'
const CHARTS = 'https://charts.example.com'
const SHA1 = '1'.repeat(40)
const SHA2 = '2'.repeat(40)
const AUTHORIZED = { 'kargo.akuity.io/authorized-stage': 'kargo-demo:test' }

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

async function setup(
  apps: FakeAppSeed[],
  options: Partial<FakeArgoCDOptions> = {},
  deps: { timeoutMs?: number } = {},
) {
  clock = manualClock()
  const server = await startFakeArgoCD({
    token: TOKEN,
    clock: clock.now,
    subject: 'proj:kargo-demo:tugboat',
    timing: { startDelayMs: 5, syncDurationMs: 50, reconcileDelayMs: 30, refreshDelayMs: 10 },
    apps,
    ...options,
  })
  fake = server
  const client = new ArgoCDClient({ server: server.url, token: TOKEN })
  const projects: string[] = []
  const step = argocdUpdateStep({
    argocd: async (project) => {
      projects.push(project)
      return client
    },
    pollIntervalMs: 10,
    now: clock.now,
    ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
  })
  return { fake: server, client, step, projects }
}

function config(input: unknown): ArgoCDUpdateConfig {
  return ArgoCDUpdateConfigSchema.parse(input)
}

const mutations = (server: FakeArgoCD) => server.requests.filter((r) => r.method !== 'GET')

describe('argocd-update config', () => {
  it.each([
    [
      { apps: [{ name: 'a', selector: { matchLabels: { a: 'b' } } }] },
      'name and selector are mutually exclusive',
    ],
    [{ apps: [{ namespace: 'x' }] }, 'one of name or selector is required'],
    [
      { apps: [{ name: 'a', sources: [{ repoURL: GITOPS, updateTargetRevision: true }] }] },
      'updateTargetRevision needs desiredRevision',
    ],
    [
      {
        apps: [
          { name: 'a', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, desiredCommitFromStep: 'c' }] },
        ],
      },
      'mutually exclusive',
    ],
    [
      {
        apps: [
          {
            name: 'a',
            sources: [{ repoURL: GITOPS, kustomize: { images: [{ repoURL: 'x', tag: 't', digest: 'd' }] } }],
          },
        ],
      },
      'tag and digest',
    ],
    [{ apps: [{ name: 'a', extra: true }] }, 'Unrecognized key'],
    [{ apps: [] }, 'Too small'],
  ])('refuses %j', (input, message) => {
    const parsed = ArgoCDUpdateConfigSchema.safeParse(input)
    expect(parsed.success).toBe(false)
    expect(JSON.stringify(parsed.error?.issues)).toContain(message)
  })
})

describe('argocd-update', () => {
  it('updates and syncs a single-source app, then reports what to health-check', async () => {
    const { fake, client, step, projects } = await setup([
      {
        name: 'kargo-demo-test',
        annotations: AUTHORIZED,
        source: {
          repoURL: GITOPS,
          path: 'stages/test',
          targetRevision: 'stage/test',
          kustomize: { namePrefix: 'test-' },
        },
      },
    ])
    const ctx = stepContext()
    const results = await drive(
      step,
      ctx,
      config({
        apps: [
          {
            name: 'kargo-demo-test',
            sources: [
              {
                repoURL: GITOPS,
                desiredRevision: SHA1,
                updateTargetRevision: true,
                kustomize: { images: [{ repoURL: 'ghcr.io/example/app', tag: 'v1.2.3' }] },
              },
            ],
          },
        ],
      }),
    )
    const last = results.at(-1)!
    expect(last.status, last.message).toBe('Succeeded')
    expect(results[0]).toMatchObject({ status: 'Running', retryAfterMs: 10 })
    expect(projects.every((p) => p === 'kargo-demo')).toBe(true)

    const app = fake.app('kargo-demo-test')
    expect(app.spec.source).toMatchObject({
      targetRevision: SHA1,
      kustomize: { namePrefix: 'test-', images: ['ghcr.io/example/app:v1.2.3'] },
    })
    expect(app.status.sync.revision).toBe(SHA1)
    expect(app.status.history?.at(-1)).toMatchObject({
      revision: SHA1,
      initiatedBy: { username: 'proj:kargo-demo:tugboat' },
    })

    const syncs = fake.requests.filter((r) => r.path.endsWith('/sync'))
    expect(syncs).toHaveLength(1)
    expect(syncs[0]?.body).toEqual({
      name: 'kargo-demo-test',
      appNamespace: 'argocd',
      project: 'default',
      revision: SHA1,
      infos: [
        { name: 'Reason', value: 'Promotion triggered a sync of this Application resource.' },
        { name: 'kargo.akuity.io/promotion', value: ctx.promotion },
      ],
    })
    const patches = fake.requests.filter((r) => r.method === 'PATCH')
    expect(patches).toHaveLength(1)

    const output = ArgoCDUpdateOutputSchema.parse(last.output)
    expect(output.apps).toEqual([
      {
        name: 'kargo-demo-test',
        namespace: 'argocd',
        desiredRevisions: [SHA1],
        operationFinishedAt: fake.app('kargo-demo-test').status.operationState?.finishedAt,
      },
    ])
    expect(output.healthChecks).toEqual(output.apps)
    // What the engine does with the output: a Stage health check.
    const check = output.apps[0]!
    let health = appHealthForStage(
      await client.getApplication(check.name),
      { revisions: check.desiredRevisions },
      check.operationFinishedAt,
    )
    for (let i = 0; i < 50 && health !== 'Healthy'; i++) {
      clock.advance(10)
      health = appHealthForStage(
        await client.getApplication(check.name),
        { revisions: check.desiredRevisions },
        check.operationFinishedAt,
      )
    }
    expect(health).toBe('Healthy')
  })

  it('updates a multi-source app with revisions + sourcePositions', async () => {
    const { fake, step } = await setup([
      {
        name: 'multi',
        annotations: { 'kargo.akuity.io/authorized-stage': 'other:prod, kargo-demo:test' },
        sources: [
          {
            repoURL: CHARTS,
            chart: 'app',
            targetRevision: '1.0.0',
            helm: { parameters: [{ name: 'replicas', value: '2' }] },
          },
          { repoURL: GITOPS, targetRevision: 'main', ref: 'values' },
          { repoURL: 'https://github.com/example/extra.git', path: 'x', targetRevision: 'main' },
        ],
      },
    ])
    const results = await drive(
      step,
      stepContext(),
      config({
        apps: [
          {
            name: 'multi',
            sources: [
              {
                repoURL: CHARTS,
                chart: 'app',
                desiredRevision: '1.1.0',
                updateTargetRevision: true,
                helm: { images: [{ key: 'image.tag', value: 'v2' }] },
              },
              { repoURL: GITOPS, desiredRevision: SHA2 },
            ],
          },
        ],
      }),
    )
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
    const app = fake.app('multi')
    expect(app.spec.sources?.[0]).toMatchObject({
      targetRevision: '1.1.0',
      helm: {
        parameters: [
          { name: 'replicas', value: '2' },
          { name: 'image.tag', value: 'v2' },
        ],
      },
    })
    expect(app.spec.sources?.[1]?.targetRevision).toBe('main')
    expect(app.status.sync.revisions).toEqual(['1.1.0', SHA2, 'main'])
    const sync = fake.requests.find((r) => r.path.endsWith('/sync'))
    expect(sync?.body).toMatchObject({ revisions: ['1.1.0', SHA2], sourcePositions: [1, 2] })
    expect(ArgoCDUpdateOutputSchema.parse(results.at(-1)?.output).apps[0]?.desiredRevisions).toEqual([
      '1.1.0',
      SHA2,
      '',
    ])
  })

  it.each([
    [
      'no annotation',
      undefined,
      'it has no "kargo.akuity.io/authorized-stage" annotation (add "kargo-demo:test" to allow it)',
    ],
    [
      'another stage',
      { 'kargo.akuity.io/authorized-stage': 'kargo-demo:prod' },
      'its "kargo.akuity.io/authorized-stage" annotation is "kargo-demo:prod"',
    ],
    ['a glob', { 'kargo.akuity.io/authorized-stage': 'kargo-demo:*' }, 'glob expressions are not supported'],
  ])('refuses an app with %s and changes nothing', async (_name, annotations, message) => {
    const { fake, step } = await setup([
      {
        name: 'app',
        ...(annotations ? { annotations } : {}),
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    const before = JSON.stringify(fake.app('app').spec)
    const error = await step
      .run(
        stepContext(),
        config({
          apps: [
            {
              name: 'app',
              sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }],
            },
          ],
        }),
      )
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TerminalError)
    expect((error as Error).message).toContain('Argo CD app "argocd/app" ')
    expect((error as Error).message).toContain(message)
    expect(mutations(fake)).toEqual([])
    expect(JSON.stringify(fake.app('app').spec)).toBe(before)
  })

  it('checks every app before changing any', async () => {
    const { fake, step } = await setup([
      { name: 'ok', annotations: AUTHORIZED, source: { repoURL: GITOPS, path: '.', targetRevision: 'main' } },
      {
        name: 'no-match',
        annotations: AUTHORIZED,
        source: { repoURL: 'https://github.com/example/else', path: '.', targetRevision: 'main' },
      },
    ])
    const error = await step
      .run(
        stepContext(),
        config({
          apps: [
            { name: 'ok', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
            { name: 'no-match', sources: [{ repoURL: GITOPS, desiredRevision: SHA1 }] },
          ],
        }),
      )
      .catch((e: unknown) => e)
    expect((error as Error).message).toBe(
      `no source of Argo CD app "argocd/no-match" matches repoURL "${GITOPS}"`,
    )
    expect(mutations(fake)).toEqual([])
  })

  it('explains a refused token (401) and an invisible app (403) as terminal errors', async () => {
    const { fake } = await setup([
      {
        name: 'app',
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    const badClient = new ArgoCDClient({ server: fake.url, token: 'x.y.z' })
    const bad = argocdUpdateStep({ argocd: async () => badClient })
    const unauthenticated = await bad
      .run(stepContext(), config({ apps: [{ name: 'app' }] }))
      .catch((e: unknown) => e)
    expect(unauthenticated).toBeInstanceOf(TerminalError)
    expect((unauthenticated as Error).message).toBe(
      'Argo CD rejected the token (401): no session information',
    )
    expect(JSON.stringify(unauthenticated)).not.toContain(TOKEN)

    const good = argocdUpdateStep({
      argocd: async () => new ArgoCDClient({ server: fake.url, token: TOKEN }),
    })
    const forbidden = await good
      .run(stepContext(), config({ apps: [{ name: 'missing' }] }))
      .catch((e: unknown) => e)
    expect(forbidden).toBeInstanceOf(TerminalError)
    expect((forbidden as Error).message).toBe(
      'app "missing" not found or not permitted (Argo CD answered 403)',
    )
    expect(mutations(fake)).toEqual([])
  })

  it('waits for an operation someone else runs, then syncs (Running, then success)', async () => {
    const { fake, step } = await setup([
      {
        name: 'app',
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    fake.startOperation('app', { automated: false, username: 'alice', revision: 'main' })
    fake.holdOperation('app')
    const ctx = stepContext()
    const cfg = config({
      apps: [
        { name: 'app', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
      ],
    })
    const results = await drive(step, ctx, cfg, {
      between: (call) => {
        if (call === 3) fake.holdOperation('app', false)
      },
    })
    expect(results[0]).toMatchObject({ status: 'Running' })
    expect(results[0]?.message).toMatch(
      /waiting for an operation started by "alice" of Argo CD app "argocd\/app" to finish before syncing/,
    )
    expect(
      mutations(fake)
        .slice(0, 1)
        .map((r) => r.method),
    ).toEqual(['PATCH'])
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
    expect(fake.app('app').status.sync.revision).toBe(SHA1)
  })

  it('retries later on "another operation is already in progress" and adopts an auto-sync to the desired revision', async () => {
    const { fake, step } = await setup(
      [
        {
          name: 'auto',
          automated: true,
          annotations: AUTHORIZED,
          source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
        },
      ],
      { autoSyncOnSpecChange: true },
    )
    const results = await drive(
      step,
      stepContext(),
      config({
        apps: [
          { name: 'auto', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
        ],
      }),
    )
    expect(results[0]).toMatchObject({ status: 'Running', retryAfterMs: 10 })
    expect(results[0]?.message).toMatch(/another operation is already in progress/)
    expect(results[1]?.message).toMatch(
      /waiting for an automated sync of Argo CD app "argocd\/auto" on the desired revision/,
    )
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
    const syncs = fake.requests.filter((r) => r.path.endsWith('/sync'))
    expect(syncs.map((r) => r.status)).toEqual([400])
    expect(fake.app('auto').status.operationState?.operation.initiatedBy).toEqual({ automated: true })
  })

  it('never sends an explicit revision to an auto-sync app, and gives up with a hint when it cannot reach it', async () => {
    const { fake, step } = await setup([
      {
        name: 'auto',
        automated: true,
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    const results = await drive(
      step,
      stepContext(),
      config({ apps: [{ name: 'auto', sources: [{ repoURL: GITOPS, desiredRevision: SHA1 }] }] }),
    )
    const syncs = fake.requests.filter((r) => r.path.endsWith('/sync'))
    expect(syncs.map((r) => [r.status, (r.body as { revision?: string }).revision])).toEqual([
      [200, undefined],
      [200, undefined],
      [200, undefined],
    ])
    expect(results.at(-1)).toEqual({
      status: 'Failed',
      message:
        `Argo CD app "argocd/auto" was synced 3 times but Argo CD reports revision(s) ["main"] instead of ` +
        `["${SHA1}"] (auto-sync apps sync their targetRevision only: set updateTargetRevision: true)`,
    })
  })

  it('is re-entrant: repeated calls while its sync runs never sync again, even without state', async () => {
    const { fake, step } = await setup([
      {
        name: 'app',
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    fake.holdOperation('app')
    const ctx = stepContext()
    const cfg = config({
      apps: [
        { name: 'app', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
      ],
    })
    const first = await step.run(ctx, cfg)
    expect(first.status).toBe('Running')
    const again = await step.run({ ...ctx, state: first.state }, cfg)
    const lostState = await step.run(ctx, cfg)
    expect([again.status, lostState.status]).toEqual(['Running', 'Running'])
    expect(again.message).toMatch(/waiting for the sync of Argo CD app "argocd\/app"/)
    expect(fake.requests.filter((r) => r.path.endsWith('/sync'))).toHaveLength(1)
    fake.holdOperation('app', false)
    const results = await drive(step, { ...ctx, ...(again.state ? { state: again.state } : {}) }, cfg)
    expect(results.at(-1)?.status).toBe('Succeeded')
    expect(fake.requests.filter((r) => r.path.endsWith('/sync'))).toHaveLength(1)
  })

  it("fails with Argo CD's message when the sync fails", async () => {
    const { fake, step } = await setup([
      {
        name: 'app',
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    fake.failNextSync('app', 'one or more synchronization tasks are not valid')
    const results = await drive(
      step,
      stepContext(),
      config({
        apps: [
          { name: 'app', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
        ],
      }),
    )
    expect(results.at(-1)).toEqual({
      status: 'Failed',
      message: 'the sync of Argo CD app "argocd/app" failed: one or more synchronization tasks are not valid',
    })
  })

  it('succeeds on a Degraded app, whose Stage health is then Unhealthy', async () => {
    const { fake, client, step } = await setup([
      {
        name: 'app',
        annotations: AUTHORIZED,
        health: 'Degraded',
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    const results = await drive(
      step,
      stepContext(),
      config({
        apps: [
          { name: 'app', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
        ],
      }),
    )
    expect(results.at(-1)?.status).toBe('Succeeded')
    const check = ArgoCDUpdateOutputSchema.parse(results.at(-1)?.output).apps[0]!
    clock.advance(80)
    expect(fake.app('app').status.health.status).toBe('Degraded')
    expect(
      appHealthForStage(
        await client.getApplication('app'),
        { revisions: check.desiredRevisions },
        check.operationFinishedAt,
      ),
    ).toBe('Unhealthy')
  })

  it('times out while the operation never finishes', async () => {
    const { fake, step } = await setup(
      [
        {
          name: 'app',
          annotations: AUTHORIZED,
          source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
        },
      ],
      {},
      { timeoutMs: 150 },
    )
    fake.holdOperation('app')
    const results = await drive(
      step,
      stepContext(),
      config({
        apps: [
          { name: 'app', sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }] },
        ],
      }),
    )
    expect(results.length).toBeGreaterThan(2)
    expect(results.at(-1)?.status).toBe('Failed')
    expect(results.at(-1)?.message).toBe(
      'timed out after 150ms: waiting for the sync of Argo CD app "argocd/app" (Running)',
    )
    expect(fake.requests.filter((r) => r.path.endsWith('/sync'))).toHaveLength(1)
  })

  it('like Kargo, applies overrides to a cosmetically different repoURL but takes no revision from it (and says so)', async () => {
    const { fake, step } = await setup([
      {
        name: 'app',
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: '.', targetRevision: 'main' },
      },
    ])
    const ctx = stepContext()
    const results = await drive(
      step,
      ctx,
      config({
        apps: [
          {
            name: 'app',
            sources: [
              {
                repoURL: 'https://github.com/Example/gitops',
                desiredRevision: SHA1,
                updateTargetRevision: true,
                kustomize: { images: [{ repoURL: 'ghcr.io/example/app', digest: 'sha256:abc' }] },
              },
            ],
          },
        ],
      }),
    )
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
    expect(fake.app('app').spec.source).toMatchObject({
      targetRevision: 'main',
      kustomize: { images: ['ghcr.io/example/app@sha256:abc'] },
    })
    expect(ArgoCDUpdateOutputSchema.parse(results.at(-1)?.output).apps[0]?.desiredRevisions).toEqual([''])
    expect(ctx.logs).toContain(
      `apps[0].sources[0]: desiredRevision is ignored for Argo CD app "argocd/app": its repoURL must equal the source's exactly ("${GITOPS}")`,
    )
  })

  it('reads the desired commit from an earlier step (legacy desiredCommitFromStep)', async () => {
    const { fake, step } = await setup([
      {
        name: 'silly-demo-dev',
        annotations: { 'kargo.akuity.io/authorized-stage': 'kargo-demo:dev' },
        source: { repoURL: GITOPS, path: '.', targetRevision: 'stage/dev' },
      },
    ])
    const cfg = config({
      apps: [{ name: 'silly-demo-dev', sources: [{ repoURL: GITOPS, desiredCommitFromStep: 'commit' }] }],
    })
    const missing = await step.run(stepContext({ stage: 'dev' }), cfg).catch((e: unknown) => e)
    expect((missing as Error).message).toBe(
      'apps[0].sources[0].desiredCommitFromStep: step "commit" has no "commit" output',
    )
    const results = await drive(
      step,
      stepContext({ stage: 'dev', outputs: { commit: { commit: SHA2 } } }),
      cfg,
    )
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
    // targetRevision stays on the branch; the sync is pinned to the commit.
    expect(fake.app('silly-demo-dev').spec.source?.targetRevision).toBe('stage/dev')
    expect(fake.app('silly-demo-dev').status.sync.revision).toBe(SHA2)
    expect(fake.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('updates the authorized apps a selector finds and skips the others', async () => {
    const { fake, step } = await setup([
      {
        name: 'a',
        labels: { env: 'test' },
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: 'a', targetRevision: 'main' },
      },
      { name: 'b', labels: { env: 'test' }, source: { repoURL: GITOPS, path: 'b', targetRevision: 'main' } },
      {
        name: 'c',
        labels: { env: 'prod' },
        annotations: AUTHORIZED,
        source: { repoURL: GITOPS, path: 'c', targetRevision: 'main' },
      },
    ])
    const ctx = stepContext()
    const results = await drive(
      step,
      ctx,
      config({
        apps: [
          {
            selector: { matchLabels: { env: 'test' } },
            sources: [{ repoURL: GITOPS, desiredRevision: SHA1, updateTargetRevision: true }],
          },
        ],
      }),
    )
    expect(results.at(-1)?.status, results.at(-1)?.message).toBe('Succeeded')
    expect(ArgoCDUpdateOutputSchema.parse(results.at(-1)?.output).apps.map((a) => a.name)).toEqual(['a'])
    expect(fake.app('b').spec.source?.targetRevision).toBe('main')
    expect(fake.app('c').spec.source?.targetRevision).toBe('main')
    expect(ctx.logs.some((l) => l.startsWith('skipping Argo CD app "argocd/b"'))).toBe(true)
  })
})
