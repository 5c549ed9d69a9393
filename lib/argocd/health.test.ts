import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../../test/fakes/argocd/clock.js'
import { startFakeArgoCD, type FakeArgoCD } from '../../test/fakes/argocd/server.js'
import { ArgoCDClient } from './client.js'
import { aggregateStageHealth, appHealthForStage, assessAppHealth, checkArgoCDHealth } from './health.js'
import { ApplicationSchema, type Application } from './schemas.js'

const SHA = 'd'.repeat(40)
const OTHER = 'e'.repeat(40)

function app(
  overrides: {
    status?: Record<string, unknown>
    operation?: Record<string, unknown>
    sources?: boolean
  } = {},
): Application {
  return ApplicationSchema.parse({
    metadata: { name: 'web', namespace: 'argocd' },
    spec: overrides.sources
      ? {
          sources: [
            { repoURL: 'https://c', chart: 'x', targetRevision: '1.0.0' },
            { repoURL: 'https://g', targetRevision: SHA },
          ],
        }
      : { source: { repoURL: 'https://g', targetRevision: SHA } },
    ...(overrides.operation ? { operation: overrides.operation } : {}),
    status: {
      sync: { status: 'Synced', revision: SHA },
      health: { status: 'Healthy' },
      operationState: {
        phase: 'Succeeded',
        startedAt: '2024-01-01T00:00:00Z',
        finishedAt: '2024-01-01T00:01:00Z',
        operation: {},
      },
      reconciledAt: '2024-01-01T00:01:00Z',
      ...overrides.status,
    },
  })
}

describe('appHealthForStage', () => {
  it.each<[string, Application | undefined, string[], string | undefined, string]>([
    ['missing app', undefined, [SHA], undefined, 'Unknown'],
    ['healthy and on the desired revision', app(), [SHA], undefined, 'Healthy'],
    ['reconciled at the same second as finished', app(), [SHA], '2024-01-01T00:01:00Z', 'Healthy'],
    [
      'not reconciled since the operation',
      app({ status: { reconciledAt: '2024-01-01T00:00:30Z' } }),
      [SHA],
      undefined,
      'Unknown',
    ],
    [
      'not reconciled since the step saw the operation finish',
      app(),
      [SHA],
      '2024-01-01T00:02:00Z',
      'Unknown',
    ],
    ['never reconciled', app({ status: { reconciledAt: undefined } }), [], undefined, 'Unknown'],
    ['being synced', app({ operation: { sync: { revision: SHA } } }), [SHA], undefined, 'Unknown'],
    [
      'synced to another revision',
      app({ status: { sync: { status: 'Synced', revision: OTHER } } }),
      [SHA],
      undefined,
      'Unhealthy',
    ],
    [
      'no desired revision, any revision',
      app({ status: { sync: { status: 'Synced', revision: OTHER } } }),
      [],
      undefined,
      'Healthy',
    ],
    [
      'ComparisonError',
      app({ status: { conditions: [{ type: 'ComparisonError', message: 'boom' }] } }),
      [SHA],
      undefined,
      'Unhealthy',
    ],
    ['Progressing', app({ status: { health: { status: 'Progressing' } } }), [SHA], undefined, 'Progressing'],
    [
      'Suspended counts as Progressing',
      app({ status: { health: { status: 'Suspended' } } }),
      [SHA],
      undefined,
      'Progressing',
    ],
    ['Degraded', app({ status: { health: { status: 'Degraded' } } }), [SHA], undefined, 'Unhealthy'],
    ['Missing', app({ status: { health: { status: 'Missing' } } }), [SHA], undefined, 'Unhealthy'],
    [
      'multi-source, one desired revision',
      app({ sources: true, status: { sync: { status: 'Synced', revisions: ['1.0.0', SHA] } } }),
      ['', SHA],
      undefined,
      'Healthy',
    ],
    [
      'multi-source, chart behind',
      app({ sources: true, status: { sync: { status: 'Synced', revisions: ['1.0.0', SHA] } } }),
      ['1.1.0', SHA],
      undefined,
      'Unhealthy',
    ],
  ])('%s', (_name, subject, revisions, finishedAt, expected) => {
    expect(appHealthForStage(subject, { revisions }, finishedAt)).toBe(expected)
  })

  it('explains itself', () => {
    expect(
      assessAppHealth(app({ status: { health: { status: 'Degraded', message: 'crashloop' } } }), {
        revision: SHA,
      }),
    ).toEqual({
      status: 'Unhealthy',
      message: 'Argo CD app "argocd/web" is Degraded: crashloop',
    })
  })
})

describe('aggregateStageHealth', () => {
  it.each([
    [[], 'NotApplicable'],
    [['Healthy', 'Healthy'], 'Healthy'],
    [['Healthy', 'Progressing'], 'Progressing'],
    [['Progressing', 'Unknown'], 'Unknown'],
    [['Unknown', 'Unhealthy', 'Healthy'], 'Unhealthy'],
  ] as const)('%j → %s', (list, expected) => {
    expect(aggregateStageHealth(list)).toBe(expected)
  })
})

describe('checkArgoCDHealth against the fake', () => {
  let fake: FakeArgoCD
  afterEach(async () => {
    await fake.close()
  })

  it('is Unknown until reconciled after the sync, then Unhealthy when Degraded', async () => {
    const token = 'a.b.c'
    const clock = manualClock()
    fake = await startFakeArgoCD({
      token,
      clock: clock.now,
      timing: { startDelayMs: 0, syncDurationMs: 30, reconcileDelayMs: 150 },
      apps: [{ name: 'web', source: { repoURL: 'https://g', path: '.', targetRevision: SHA } }],
    })
    const client = new ArgoCDClient({ server: fake.url, token })
    fake.setHealth('web', 'Degraded')
    await client.syncApplication('web', { revision: SHA })
    const checks = [{ name: 'web', desiredRevisions: [SHA] }, { name: 'gone' }]
    let result = await checkArgoCDHealth(client, checks)
    expect(result.apps[0]?.status).toBe('Unknown')
    expect(result.apps[1]).toMatchObject({
      status: 'Unknown',
      message: 'app "gone" not found or not permitted (Argo CD answered 403)',
    })
    clock.advance(30)
    expect(fake.app('web').status.operationState?.phase).toBe('Succeeded')
    result = await checkArgoCDHealth(client, checks.slice(0, 1))
    expect(result.apps[0]?.message).toMatch(/not reconciled/)
    clock.advance(150)
    result = await checkArgoCDHealth(client, checks.slice(0, 1))
    expect(result).toMatchObject({
      status: 'Unhealthy',
      apps: [{ status: 'Unhealthy', message: 'Argo CD app "argocd/web" is Degraded' }],
    })
  })
})
