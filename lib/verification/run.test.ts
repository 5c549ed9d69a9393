import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { AnalysisTemplateManifestSchema, type AnalysisTemplateManifest } from '../model/resources.js'
import {
  startFakePrometheus,
  type FakePrometheus,
  type PromResult,
} from '../../test/fakes/metrics/prometheus.js'
import { startFakeWebMetric, type FakeWebMetric, type WebReply } from '../../test/fakes/metrics/web.js'
import type { VerificationArgument } from './args.js'
import { abortRun, advanceRun, isCompleted, startRun, type AdvanceResult } from './run.js'
import { AnalysisRunStateSchema, type AnalysisRunState } from './schema.js'

const T0 = Date.parse('2025-06-01T12:00:00.000Z')
const SEC = 1000
const MIN = 60 * SEC

let prom: FakePrometheus
let web: FakeWebMetric
let clock: number

beforeEach(async () => {
  prom = await startFakePrometheus()
  web = await startFakeWebMetric()
  clock = T0
})
afterEach(async () => {
  await prom.close()
  await web.close()
})

const deps = () => ({ now: () => new Date(clock) })
const at = (ms: number) => new Date(T0 + ms).toISOString()

function template(spec: Record<string, unknown>, name = 'verify'): AnalysisTemplateManifest {
  return AnalysisTemplateManifestSchema.parse({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name, namespace: 'demo' },
    spec,
  })
}

function promMetric(extra: Record<string, unknown> = {}, query = 'success_rate'): Record<string, unknown> {
  return {
    name: 'success-rate',
    successCondition: 'result[0] >= 0.95',
    provider: { prometheus: { address: prom.url, query } },
    ...extra,
  }
}

function webMetric(extra: Record<string, unknown> = {}, path = '/status'): Record<string, unknown> {
  return {
    name: 'status',
    successCondition: 'result == "ok"',
    provider: { web: { url: `${web.url}${path}`, jsonPath: '{$.status}' } },
    ...extra,
  }
}

/** What a serverless caller does between invocations: store the state as JSON and parse it back. */
function roundTrip(state: AnalysisRunState): AnalysisRunState {
  return AnalysisRunStateSchema.parse(JSON.parse(JSON.stringify(state)))
}

async function advanceAt(state: AnalysisRunState, ms: number): Promise<AdvanceResult> {
  clock = T0 + ms
  const result = await advanceRun(roundTrip(state), deps())
  return { ...result, state: roundTrip(result.state) }
}

/** Calls advanceRun whenever it asks to be called, until the run completes (or `limit` calls). */
async function runToCompletion(
  state: AnalysisRunState,
  limit = 50,
): Promise<{ result: AdvanceResult; calls: number[] }> {
  let result: AdvanceResult = {
    state,
    phase: state.status.phase,
    ...(state.status.nextCheckAt ? { nextCheckAt: state.status.nextCheckAt } : {}),
  }
  const calls: number[] = []
  for (let i = 0; i < limit && !isCompleted(result.phase); i++) {
    const next = result.nextCheckAt ? Date.parse(result.nextCheckAt) - T0 : clock - T0
    calls.push(next)
    result = await advanceAt(result.state, next)
  }
  return { result, calls }
}

describe('startRun', () => {
  it('resolves args into the metrics and schedules the first measurement', () => {
    const state = startRun(
      template({
        args: [{ name: 'service' }, { name: 'threshold', value: '0.9' }],
        metrics: [
          promMetric(
            { successCondition: 'result[0] >= {{ args.threshold }}', initialDelay: '30s' },
            'rate{svc="{{args.service}}"}',
          ),
        ],
      }),
      [{ name: 'service', value: 'checkout' }],
      new Date(T0),
    )
    expect(state.status).toMatchObject({ phase: 'Pending', startedAt: at(0), nextCheckAt: at(30 * SEC) })
    expect(state.spec.metrics[0]).toMatchObject({
      name: 'success-rate',
      successCondition: 'result[0] >= 0.9',
      effectiveCount: 1,
      indefinite: false,
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
      measurementRetention: 10,
      initialDelayMs: 30_000,
      provider: { prometheus: { query: 'rate{svc="checkout"}' } },
    })
    expect(state.status.metricResults[0]).toMatchObject({
      name: 'success-rate',
      phase: 'Pending',
      nextMeasurementAt: at(30 * SEC),
      metadata: { ResolvedPrometheusQuery: 'rate{svc="checkout"}' },
    })
    expect(AnalysisRunStateSchema.parse(JSON.parse(JSON.stringify(state)))).toEqual(state)
  })

  const refusals: Array<[string, Record<string, unknown>, VerificationArgument[] | undefined, RegExp]> = [
    [
      'valueFrom',
      {
        args: [{ name: 'token', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
        metrics: [{ name: 'm', provider: { web: { url: 'http://x' } } }],
      },
      undefined,
      /valueFrom is not supported by Tugboat/,
    ],
    [
      'a missing arg',
      {
        args: [{ name: 'service' }],
        metrics: [{ name: 'm', provider: { web: { url: 'http://x/{{args.service}}' } } }],
      },
      [],
      /argument "service" has no value/,
    ],
    [
      'an undeclared placeholder',
      { metrics: [{ name: 'm', provider: { web: { url: 'http://x/{{args.service}}' } } }] },
      [{ name: 'service', value: 'x' }],
      /failed to resolve \{\{args\.service\}\}/,
    ],
    [
      'count > 1 without interval',
      { metrics: [{ name: 'm', count: 3, provider: { web: { url: 'http://x' } } }] },
      undefined,
      /interval: must be specified when count > 1/,
    ],
    [
      'a count that is not an integer',
      { metrics: [{ name: 'm', count: 'three', interval: '1m', provider: { web: { url: 'http://x' } } }] },
      undefined,
      /count: "three" is not an integer/,
    ],
    [
      'a count above the cap',
      { metrics: [{ name: 'm', count: 5000, interval: '1m', provider: { web: { url: 'http://x' } } }] },
      undefined,
      /count: must be at most 1000/,
    ],
    [
      'count < failureLimit',
      {
        metrics: [
          { name: 'm', count: 2, interval: '1m', failureLimit: 3, provider: { web: { url: 'http://x' } } },
        ],
      },
      undefined,
      /count \(2\) must be >= failureLimit \(3\)/,
    ],
    [
      'failureLimit -1',
      { metrics: [{ name: 'm', failureLimit: -1, provider: { web: { url: 'http://x' } } }] },
      undefined,
      /failureLimit: must be >= 0/,
    ],
    [
      'a bad interval',
      { metrics: [{ name: 'm', interval: '5 minutes', provider: { web: { url: 'http://x' } } }] },
      undefined,
      /interval: invalid duration/,
    ],
    [
      'a body on a GET',
      { metrics: [{ name: 'm', provider: { web: { url: 'http://x', body: 'b' } } }] },
      undefined,
      /POST or PUT/,
    ],
    [
      'an unsupported jsonPath',
      { metrics: [{ name: 'm', provider: { web: { url: 'http://x', jsonPath: '{$..ok}' } } }] },
      undefined,
      /recursive descent/,
    ],
    [
      'a prometheus address without scheme',
      { metrics: [{ name: 'm', provider: { prometheus: { address: 'prometheus:9090', query: 'up' } } }] },
      undefined,
      /address/,
    ],
    [
      'a dryRun rule matching nothing',
      { dryRun: [{ metricName: 'nope' }], metrics: [{ name: 'm', provider: { web: { url: 'http://x' } } }] },
      undefined,
      /dryRun\[0\]: rule didn't match/,
    ],
    [
      'an arg that breaks the metric',
      {
        args: [{ name: 'n', value: 'x' }],
        metrics: [{ name: 'm', count: '{{args.n}}', interval: '1m', provider: { web: { url: 'http://x' } } }],
      },
      undefined,
      /count: "x" is not an integer/,
    ],
  ]
  it.each(refusals)('refuses %s', (_what, spec, args, message) => {
    expect(() => startRun(template(spec), args, new Date(T0))).toThrow(ValidationError)
    expect(() => startRun(template(spec), args, new Date(T0))).toThrow(message)
  })

  it('flattens several templates and refuses duplicate metric names', () => {
    const a = template({ metrics: [{ name: 'm', provider: { web: { url: 'http://a' } } }] }, 'a')
    const b = template({ metrics: [{ name: 'n', provider: { web: { url: 'http://b' } } }] }, 'b')
    expect(startRun([a, b], [], new Date(T0)).spec.metrics.map((m) => m.name)).toEqual(['m', 'n'])
    expect(() => startRun([a, a], [], new Date(T0))).toThrow(/duplicate metric name: "m"/)
    expect(() => startRun([], [], new Date(T0))).toThrow(/at least one AnalysisTemplate/)
  })
})

describe('advanceRun: one measurement', () => {
  const promCases: Array<[string, PromResult, string, string, string | undefined]> = [
    // [what, Prometheus answers, measurement phase, run phase, measured value]
    ['a healthy vector', { vector: [0.97] }, 'Successful', 'Successful', '[0.97]'],
    ['an unhealthy vector', { vector: [0.5] }, 'Failed', 'Failed', '[0.5]'],
    ['the first of several series', { vector: [0.99, 0.1] }, 'Successful', 'Successful', '[0.99,0.1]'],
    ['exactly the threshold', { vector: [0.95] }, 'Successful', 'Successful', '[0.95]'],
    ['NaN', { vector: [NaN] }, 'Failed', 'Failed', '[NaN]'],
    ['+Inf', { vector: [Infinity] }, 'Successful', 'Successful', '[+Inf]'],
    ['an empty vector', { vector: [] }, 'Error', 'Running', '[]'],
    ['a Prometheus error', { error: 'parse error', errorType: 'bad_data' }, 'Error', 'Running', undefined],
  ]
  it.each(promCases)(
    'prometheus result[0] >= 0.95 with %s',
    async (_what, answer, measurementPhase, runPhase, value) => {
      prom.setResult('success_rate', answer)
      const state = startRun(template({ metrics: [promMetric()] }), [], new Date(T0))
      const result = await advanceAt(state, 0)
      const metric = result.state.status.metricResults[0]
      expect(result.phase).toBe(runPhase)
      expect(metric?.measurements).toHaveLength(1)
      expect(metric?.measurements[0]).toMatchObject({
        phase: measurementPhase,
        startedAt: at(0),
        finishedAt: at(0),
      })
      expect(metric?.measurements[0]?.value).toBe(value)
      if (runPhase === 'Running') {
        // An error is retried 10 s later, whatever the interval.
        expect(result.nextCheckAt).toBe(at(10 * SEC))
        expect(metric).toMatchObject({ phase: 'Running', error: 1, consecutiveError: 1, count: 0 })
      } else {
        expect(result.nextCheckAt).toBeUndefined()
        expect(result.state.status.completedAt).toBe(at(0))
      }
    },
  )

  it('records why a condition could not be evaluated', async () => {
    prom.setResult('success_rate', { vector: [] })
    const { state } = await advanceAt(startRun(template({ metrics: [promMetric()] }), [], new Date(T0)), 0)
    expect(state.status.metricResults[0]?.measurements[0]?.message).toBe(
      'could not evaluate successCondition "result[0] >= 0.95": metric result is nil or empty: no data returned from the metric provider',
    )
  })

  const webCases: Array<[string, WebReply, string, string]> = [
    ['status ok', { json: { status: 'ok' } }, 'Successful', '"ok"'],
    ['status degraded', { json: { status: 'degraded' } }, 'Failed', '"degraded"'],
  ]
  it.each(webCases)('web jsonPath result == "ok" with %s', async (_what, reply, phase, value) => {
    web.respond('/status', reply)
    const { state, phase: runPhase } = await advanceAt(
      startRun(template({ metrics: [webMetric()] }), [], new Date(T0)),
      0,
    )
    expect(runPhase).toBe(phase)
    expect(state.status.metricResults[0]?.measurements[0]).toMatchObject({ phase, value })
  })

  it('makes a web answer without the jsonPath an error measurement', async () => {
    web.respond('/status', { json: { other: 1 } })
    const { state } = await advanceAt(startRun(template({ metrics: [webMetric()] }), [], new Date(T0)), 0)
    expect(state.status.metricResults[0]?.measurements[0]).toMatchObject({
      phase: 'Error',
      message: 'Could not find JSONPath in body: status is not found',
    })
  })

  it('without conditions, any measured value is Successful', async () => {
    prom.setResult('success_rate', { vector: [0.1] })
    const { phase } = await advanceAt(
      startRun(template({ metrics: [promMetric({ successCondition: undefined })] }), [], new Date(T0)),
      0,
    )
    expect(phase).toBe('Successful')
  })

  it('reports a failed metric in the run message, as Argo does', async () => {
    prom.setResult('success_rate', { vector: [0.5] })
    const { state } = await advanceAt(startRun(template({ metrics: [promMetric()] }), [], new Date(T0)), 0)
    expect(state.status).toMatchObject({
      phase: 'Failed',
      message: 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)',
      runSummary: { count: 1, successful: 0, failed: 1, inconclusive: 0, error: 0 },
    })
    expect(state.status.metricResults[0]).toMatchObject({ phase: 'Failed', count: 1, failed: 1 })
  })
})

describe('advanceRun: count and interval', () => {
  it('measures count times, interval apart, and only when due', async () => {
    web.respond(
      '/status',
      { json: { status: 'ok' } },
      { json: { status: 'down' } },
      { json: { status: 'ok' } },
    )
    let { state, phase, nextCheckAt } = await advanceAt(
      startRun(
        template({ metrics: [webMetric({ count: 3, interval: '1m', failureLimit: 1 })] }),
        [],
        new Date(T0),
      ),
      0,
    )
    expect([phase, nextCheckAt, web.requests.length]).toEqual(['Running', at(MIN), 1])

    ;({ state, phase, nextCheckAt } = await advanceAt(state, 30 * SEC)) // not due yet: nothing happens
    expect([phase, nextCheckAt, web.requests.length]).toEqual(['Running', at(MIN), 1])

    ;({ state, phase, nextCheckAt } = await advanceAt(state, MIN)) // Failed, but failed (1) <= failureLimit (1)
    expect([phase, nextCheckAt, web.requests.length]).toEqual(['Running', at(2 * MIN), 2])
    expect(state.status.metricResults[0]).toMatchObject({
      phase: 'Running',
      count: 2,
      successful: 1,
      failed: 1,
    })

    ;({ state, phase, nextCheckAt } = await advanceAt(state, 5 * MIN)) // late: one measurement, not three
    expect([phase, nextCheckAt, web.requests.length]).toEqual(['Successful', undefined, 3])
    expect(state.status.metricResults[0]).toMatchObject({
      phase: 'Successful',
      count: 3,
      successful: 2,
      failed: 1,
    })
    expect(state.status.metricResults[0]?.measurements.map((m) => [m.phase, m.finishedAt])).toEqual([
      ['Successful', at(0)],
      ['Failed', at(MIN)],
      ['Successful', at(5 * MIN)],
    ])
    expect(state.status.completedAt).toBe(at(5 * MIN))

    const again = await advanceAt(state, 10 * MIN) // complete: unchanged, no request
    expect(again.state).toEqual(state)
    expect(web.requests).toHaveLength(3)
  })

  it('accepts count and limits as strings (from args)', async () => {
    web.respond('/status', { json: { status: 'ok' } })
    const state = startRun(
      template({
        args: [{ name: 'count', value: '2' }],
        metrics: [
          webMetric({
            count: '{{args.count}}',
            interval: '10s',
            failureLimit: '0',
            consecutiveErrorLimit: '2',
          }),
        ],
      }),
      [],
      new Date(T0),
    )
    expect(state.spec.metrics[0]).toMatchObject({
      effectiveCount: 2,
      intervalMs: 10_000,
      consecutiveErrorLimit: 2,
    })
    const { result, calls } = await runToCompletion(state)
    expect(result.phase).toBe('Successful')
    expect(calls).toEqual([0, 10 * SEC])
  })

  it('waits for initialDelay before the first measurement', async () => {
    prom.setResult('success_rate', { vector: [0.99] })
    const state = startRun(template({ metrics: [promMetric({ initialDelay: '5m' })] }), [], new Date(T0))
    const early = await advanceAt(state, 0)
    expect([early.phase, early.nextCheckAt, prom.requests.length]).toEqual(['Running', at(5 * MIN), 0])
    expect(early.state.status.metricResults[0]?.phase).toBe('Pending')
    const { result, calls } = await runToCompletion(early.state)
    expect(result.phase).toBe('Successful')
    expect(calls).toEqual([5 * MIN])
  })

  const failureLimitCases: Array<[number, number[], string, number]> = [
    // [failureLimit, values measured, final phase, measurements taken]
    [0, [0.99, 0.5], 'Failed', 2],
    [1, [0.99, 0.5, 0.99, 0.99], 'Successful', 4],
    [1, [0.5, 0.99, 0.5], 'Failed', 3],
    [2, [0.5, 0.5, 0.99, 0.99], 'Successful', 4],
  ]
  it.each(failureLimitCases)(
    'failureLimit %d with %j → %s after %d measurements',
    async (failureLimit, values, phase, taken) => {
      prom.setResult('success_rate', ...values.map((v) => ({ vector: [v] })))
      const state = startRun(
        template({ metrics: [promMetric({ count: 4, interval: '30s', failureLimit })] }),
        [],
        new Date(T0),
      )
      const { result, calls } = await runToCompletion(state)
      expect(result.phase).toBe(phase)
      expect(prom.requests).toHaveLength(taken)
      expect(calls).toEqual(Array.from({ length: taken }, (_, i) => i * 30 * SEC))
      if (phase === 'Failed') {
        expect(result.state.status.message).toBe(
          `Metric "success-rate" assessed Failed due to failed (${failureLimit + 1}) > failureLimit (${failureLimit})`,
        )
      }
    },
  )

  it('stops a metric with an interval and no count at maxMeasurements', async () => {
    prom.setResult('success_rate', { vector: [0.99] })
    const state = startRun(template({ metrics: [promMetric({ interval: '1s' })] }), [], new Date(T0), {
      maxMeasurements: 3,
    })
    expect(state.spec.metrics[0]).toMatchObject({ indefinite: true, effectiveCount: 3 })
    const { result, calls } = await runToCompletion(state)
    expect(result.phase).toBe('Successful')
    expect(calls).toEqual([0, SEC, 2 * SEC])
    expect(result.state.status.metricResults[0]?.message).toMatch(/stopped after 3 measurements/)
  })

  it('keeps the last 10 measurements, or what measurementRetention says', async () => {
    prom.setResult('success_rate', { vector: [0.99] })
    prom.setResult('other', { vector: [0.99] })
    const state = startRun(
      template({
        measurementRetention: [{ metricName: '^other$', limit: 2 }],
        metrics: [
          promMetric({ count: 12, interval: '1s' }),
          promMetric({ name: 'other', count: 12, interval: '1s' }, 'other'),
        ],
      }),
      [],
      new Date(T0),
    )
    const { result } = await runToCompletion(state)
    const [first, second] = result.state.status.metricResults
    expect(first?.measurements).toHaveLength(10)
    expect(first?.measurements.at(-1)?.finishedAt).toBe(at(11 * SEC))
    expect(first?.count).toBe(12)
    expect(second?.measurements).toHaveLength(2)
  })
})

describe('advanceRun: inconclusive', () => {
  const cases: Array<[number, number[], string]> = [
    [0, [0.7], 'Inconclusive'],
    [1, [0.7, 0.95], 'Successful'],
    [1, [0.7, 0.7], 'Inconclusive'],
    [1, [0.7, 0.2], 'Failed'],
  ]
  it.each(cases)('inconclusiveLimit %d with %j → %s', async (inconclusiveLimit, values, phase) => {
    prom.setResult('success_rate', ...values.map((v) => ({ vector: [v] })))
    const state = startRun(
      template({
        metrics: [
          promMetric({
            successCondition: 'result[0] >= 0.9',
            failureCondition: 'result[0] < 0.5',
            count: 2,
            interval: '1m',
            inconclusiveLimit,
          }),
        ],
      }),
      [],
      new Date(T0),
    )
    const { result } = await runToCompletion(state)
    expect(result.phase).toBe(phase)
    if (phase === 'Inconclusive') {
      expect(result.state.status.message).toBe(
        `Metric "success-rate" assessed Inconclusive due to inconclusive (${inconclusiveLimit + 1}) > inconclusiveLimit (${inconclusiveLimit})`,
      )
    }
  })
})

describe('advanceRun: errors', () => {
  it('retries every 10 s and errors the run after consecutiveErrorLimit (4) + 1 errors', async () => {
    web.respond('/status', { status: 500, json: { error: 'boom' } })
    const state = startRun(template({ metrics: [webMetric({ count: 3, interval: '5m' })] }), [], new Date(T0))
    const { result, calls } = await runToCompletion(state)
    expect(result.phase).toBe('Error')
    expect(calls).toEqual([0, 10 * SEC, 20 * SEC, 30 * SEC, 40 * SEC])
    expect(result.state.status.message).toBe(
      'Metric "status" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: received non 2xx response code: 500"',
    )
    expect(result.state.status.metricResults[0]).toMatchObject({
      phase: 'Error',
      error: 5,
      consecutiveError: 5,
      count: 0,
    })
  })

  it('forgives errors once a measurement succeeds', async () => {
    web.respond('/status', { status: 500, text: '' }, { status: 503, text: '' }, { json: { status: 'ok' } })
    const state = startRun(template({ metrics: [webMetric({ consecutiveErrorLimit: 2 })] }), [], new Date(T0))
    const { result, calls } = await runToCompletion(state)
    expect(result.phase).toBe('Successful')
    expect(calls).toEqual([0, 10 * SEC, 20 * SEC])
    expect(result.state.status.metricResults[0]).toMatchObject({
      error: 2,
      consecutiveError: 0,
      successful: 1,
    })
  })

  it('counts a server that is down as errors', async () => {
    await web.close()
    const state = startRun(template({ metrics: [webMetric({ consecutiveErrorLimit: 1 })] }), [], new Date(T0))
    const { result, calls } = await runToCompletion(state)
    expect(result.phase).toBe('Error')
    expect(calls).toEqual([0, 10 * SEC])
    expect(result.state.status.metricResults[0]?.measurements[0]?.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/status: .*ECONNREFUSED/,
    )
  })

  it('with consecutiveErrorLimit 0 the first error ends the run', async () => {
    prom.setResult('success_rate', { httpStatus: 502, text: 'bad gateway' })
    const { phase, state } = await advanceAt(
      startRun(template({ metrics: [promMetric({ consecutiveErrorLimit: 0 })] }), [], new Date(T0)),
      0,
    )
    expect(phase).toBe('Error')
    expect(state.status.metricResults[0]?.message).toBe('server_error: server error: 502')
  })
})

describe('advanceRun: several metrics', () => {
  it('stops the other metrics when one fails, and takes the worst phase', async () => {
    web.respond('/status', { json: { status: 'ok' } })
    prom.setResult('success_rate', { vector: [0.99] }, { vector: [0.1] })
    const state = startRun(
      template({
        metrics: [webMetric({ count: 5, interval: '1m' }), promMetric({ count: 5, interval: '30s' })],
      }),
      [],
      new Date(T0),
    )
    let result = await advanceAt(state, 0)
    expect([result.phase, result.nextCheckAt]).toEqual(['Running', at(30 * SEC)])
    result = await advanceAt(result.state, 30 * SEC)
    expect(result.phase).toBe('Failed')
    expect(result.nextCheckAt).toBeUndefined()
    expect(result.state.status.metricResults.map((r) => [r.name, r.phase, r.count])).toEqual([
      ['status', 'Successful', 1], // terminated, as Argo assesses a running metric of a terminating run
      ['success-rate', 'Failed', 2],
    ])
    expect(result.state.status.runSummary).toEqual({
      count: 2,
      successful: 1,
      failed: 1,
      inconclusive: 0,
      error: 0,
    })
    expect(web.requests).toHaveLength(1)
  })

  it('ignores a dry-run metric for the run phase', async () => {
    web.respond('/status', { json: { status: 'down' } })
    prom.setResult('success_rate', { vector: [0.99] })
    const state = startRun(
      template({ dryRun: [{ metricName: 'stat.*' }], metrics: [webMetric(), promMetric()] }),
      [],
      new Date(T0),
    )
    const { phase, state: after } = await advanceAt(state, 0)
    expect(phase).toBe('Successful')
    expect(after.status.metricResults[0]).toMatchObject({
      name: 'status',
      dryRun: true,
      phase: 'Failed',
      message: 'Metric assessed Failed due to failed (1) > failureLimit (0)',
    })
    expect(after.status.dryRunSummary).toEqual({
      count: 1,
      successful: 0,
      failed: 1,
      inconclusive: 0,
      error: 0,
    })
    expect(after.status.runSummary).toEqual({ count: 1, successful: 1, failed: 0, inconclusive: 0, error: 0 })
  })

  it('measures due metrics in parallel', async () => {
    web.respond('/status', { json: { status: 'ok' }, delayMs: 300 })
    web.respond('/other', { json: { status: 'ok' }, delayMs: 300 })
    const state = startRun(
      template({ metrics: [webMetric(), webMetric({ name: 'other' }, '/other')] }),
      [],
      new Date(T0),
    )
    const started = Date.now()
    const { phase } = await advanceAt(state, 0)
    expect(phase).toBe('Successful')
    expect(Date.now() - started).toBeLessThan(590) // one after the other would take 600 ms
  })
})

describe('args substitution end to end', () => {
  it('substitutes url, headers, body, query and conditions', async () => {
    web.respond('/api/checkout/health', { json: { data: { ok: 'yes' } } })
    prom.setResult('sum(rate(http_requests_total{service="checkout",code!~"5.."}[5m]))', { vector: [0.98] })
    const t = template({
      args: [
        { name: 'service' },
        { name: 'base-url' },
        { name: 'token' },
        { name: 'expected', value: 'no' },
        { name: 'threshold', value: '0.95' },
        { name: 'prometheus' },
      ],
      metrics: [
        {
          name: 'health',
          successCondition: 'result == "{{args.expected}}"',
          provider: {
            web: {
              method: 'POST',
              url: '{{args.base-url}}/api/{{args.service}}/health',
              headers: [{ key: 'Authorization', value: 'Bearer {{ args.token }}' }],
              jsonBody: { service: '{{args.service}}', nested: { list: ['{{args.service}}'] } },
              jsonPath: '{$.data.ok}',
            },
          },
        },
        {
          name: 'rate',
          successCondition: 'result[0] >= {{args.threshold}}',
          provider: {
            prometheus: {
              address: '{{args.prometheus}}',
              query: 'sum(rate(http_requests_total{service="{{args.service}}",code!~"5.."}[5m]))',
            },
          },
        },
      ],
    })
    const stageArgs = [
      { name: 'service', value: 'checkout' },
      { name: 'base-url', value: web.url },
      { name: 'token', value: 's3cr3t' },
      { name: 'expected', value: 'yes' },
      { name: 'prometheus', value: prom.url },
    ]
    const { phase, state } = await advanceAt(startRun(t, stageArgs, new Date(T0)), 0)
    expect(phase).toBe('Successful')
    expect(web.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/checkout/health',
      body: '{"service":"checkout","nested":{"list":["checkout"]}}',
    })
    expect(web.requests[0]?.headers.authorization).toBe('Bearer s3cr3t')
    expect(state.status.metricResults.map((r) => r.measurements[0]?.value)).toEqual(['"yes"', '[0.98]'])
    // The token lives in spec (the resolved metrics), never in status.
    expect(JSON.stringify(state.status)).not.toContain('s3cr3t')
  })
})

describe('abortRun', () => {
  it('ends a running run as Aborted and takes no more measurements', async () => {
    prom.setResult('success_rate', { vector: [0.99] })
    const started = await advanceAt(
      startRun(
        template({
          metrics: [promMetric({ interval: '1m' }), promMetric({ name: 'later', initialDelay: '1h' })],
        }),
        [],
        new Date(T0),
      ),
      0,
    )
    expect(started.phase).toBe('Running')
    const aborted = abortRun(started.state, {
      now: new Date(T0 + 90 * SEC),
      message: 'Verification aborted by user',
    })
    expect(aborted.status).toMatchObject({
      phase: 'Aborted',
      message: 'Verification aborted by user',
      completedAt: at(90 * SEC),
    })
    expect(aborted.status.nextCheckAt).toBeUndefined()
    expect(aborted.status.metricResults.map((r) => [r.name, r.phase, r.nextMeasurementAt])).toEqual([
      ['success-rate', 'Successful', undefined],
      ['later', 'Successful', undefined],
    ])
    expect(aborted.status.metricResults[1]?.message).toMatch(/before this metric took a measurement/)
    const after = await advanceAt(aborted, 10 * MIN)
    expect(after.phase).toBe('Aborted')
    expect(prom.requests).toHaveLength(1)
    expect(started.state.status.phase).toBe('Running') // the input is not modified
  })

  it('leaves a completed run alone', async () => {
    prom.setResult('success_rate', { vector: [0.5] })
    const { state } = await advanceAt(startRun(template({ metrics: [promMetric()] }), [], new Date(T0)), 0)
    expect(abortRun(state)).toEqual(state)
  })

  it('can abort a run that never measured', () => {
    const state = startRun(template({ metrics: [promMetric()] }), [], new Date(T0))
    const aborted = abortRun(state, { now: new Date(T0) })
    expect(aborted.status).toMatchObject({ phase: 'Aborted', message: 'Run Terminated', completedAt: at(0) })
  })
})

describe('AnalysisRunStateSchema', () => {
  it('refuses a state that is not one', () => {
    expect(AnalysisRunStateSchema.safeParse({ version: 2 }).success).toBe(false)
    const state = startRun(template({ metrics: [promMetric()] }), [], new Date(T0))
    expect(
      AnalysisRunStateSchema.safeParse({ ...state, status: { ...state.status, phase: 'Done' } }).success,
    ).toBe(false)
  })
})
