import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { evaluateTemplate } from '../expressions/index.js'
import {
  AnalysisTemplateManifestSchema,
  StageManifestSchema,
  type AnalysisTemplateManifest,
} from '../model/resources.js'
import { startFakePrometheus, type FakePrometheus } from '../../test/fakes/metrics/prometheus.js'
import { startFakeWebMetric, type FakeWebMetric } from '../../test/fakes/metrics/web.js'
import { advanceRun, isCompleted, startRun } from './run.js'

/** The examples of docs/verification.md must work as written. */
const markdown = readFileSync(new URL('../../docs/verification.md', import.meta.url), 'utf8')
const manifests = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) =>
  parseAllDocuments(m[1] ?? '').map((d): unknown => d.toJS()),
)
const templates: AnalysisTemplateManifest[] = manifests
  .filter((m) => AnalysisTemplateManifestSchema.safeParse(m).success)
  .map((m) => AnalysisTemplateManifestSchema.parse(m))
const stage = StageManifestSchema.parse(manifests.find((m) => StageManifestSchema.safeParse(m).success))

let web: FakeWebMetric
let prom: FakePrometheus
beforeEach(async () => {
  web = await startFakeWebMetric()
  prom = await startFakePrometheus()
})
afterEach(async () => {
  await web.close()
  await prom.close()
})

describe('docs/verification.md', () => {
  it('has a Stage and the two templates it names, which parse', () => {
    expect(templates.map((t) => t.metadata.name)).toEqual(['checkout-health', 'checkout-success-rate'])
    expect(stage.spec.verification?.analysisTemplates?.map((r) => r.name)).toEqual([
      'checkout-health',
      'checkout-success-rate',
    ])
  })

  it('runs the Quick start verification to Successful', async () => {
    const env = { ctx: { project: 'demo', stage: stage.metadata.name } }
    const args = (stage.spec.verification?.args ?? []).map((arg) => {
      const value = evaluateTemplate(arg.value, env)
      if (typeof value !== 'string') throw new Error(`arg ${arg.name} is not a string`)
      // Point the URLs at the local fakes.
      return { name: arg.name, value: arg.name === 'base-url' ? web.url : value }
    })
    args.push({ name: 'prometheus-url', value: prom.url })
    web.respond('/healthz', { json: { data: { status: 'ok', checks: 12 } } })
    const query = [
      'sum(rate(http_requests_total{service="checkout",env="prod",code!~"5.."}[5m]))',
      '/',
      'sum(rate(http_requests_total{service="checkout",env="prod"}[5m]))',
      '',
    ].join('\n')
    prom.setResult(query, { vector: [0.99] })

    const t0 = Date.parse('2025-01-01T00:00:00Z')
    let now = t0
    let state = startRun(templates, args, new Date(t0))
    for (let i = 0; i < 20 && !isCompleted(state.status.phase); i++) {
      now = Math.max(now, Date.parse(state.status.nextCheckAt ?? new Date(now).toISOString()))
      state = (await advanceRun(state, { now: () => new Date(now) })).state
    }
    expect(state.status.phase).toBe('Successful')
    expect(
      state.status.metricResults.map((r) => [r.name, r.phase, r.count, r.measurements.at(-1)?.value]),
    ).toEqual([
      ['health', 'Successful', 3, '{"checks":12,"status":"ok"}'],
      ['success-rate', 'Successful', 5, '[0.99]'],
    ])
    expect(web.requests[0]?.headers.accept).toBe('application/json')
    expect(now - t0).toBe(5 * 60_000) // 1m initial delay + 4 intervals of 1m
  })
})
