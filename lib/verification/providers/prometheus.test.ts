import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { startFakePrometheus, type FakePrometheus } from '../../../test/fakes/metrics/prometheus.js'
import {
  checkPrometheusMetric,
  formatSampleValue,
  parsePrometheusResponse,
  prometheusQueryURL,
  queryPrometheus,
} from './prometheus.js'

let prom: FakePrometheus

beforeEach(async () => {
  prom = await startFakePrometheus()
})
afterEach(async () => {
  await prom.close()
})

const QUERY = 'sum(rate(http_requests_total{code!~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'

describe('queryPrometheus against a fake Prometheus', () => {
  it.each([
    [{ vector: [0.97] }, [0.97], '[0.97]'],
    [{ vector: [0.97, { metric: { pod: 'b' }, value: 0.5 }] }, [0.97, 0.5], '[0.97,0.5]'],
    [{ vector: [] }, [], '[]'],
    [{ vector: [NaN, Infinity, -Infinity] }, [NaN, Infinity, -Infinity], '[NaN,+Inf,-Inf]'],
    [{ vector: ['1e21', '0.0000001'] }, [1e21, 1e-7], '[1000000000000000000000,0.0000001]'],
    [{ scalar: 0.99 }, 0.99, '0.99'],
    [{ scalar: 'NaN' }, NaN, 'NaN'],
    [{ matrix: [{ values: [1, 2] }, { values: [3] }] }, [1, 2, 3], '[1,2,3]'],
  ])('%j → %j (%s)', async (result, value, display) => {
    prom.setResult(QUERY, result)
    const outcome = await queryPrometheus({ address: prom.url, query: QUERY })
    expect(outcome).toEqual({ ok: true, value, display })
    expect(prom.queries()).toEqual([QUERY])
    expect(prom.requests[0]?.method).toBe('GET')
  })

  it.each([
    [
      { error: '1:5: parse error: unexpected identifier', errorType: 'bad_data' as const },
      'bad_data: 1:5: parse error: unexpected identifier',
    ],
    [
      { error: 'query processing would load too many samples', errorType: 'execution' as const },
      'execution: query processing would load too many samples',
    ],
    [
      { error: 'query timed out in expression evaluation', errorType: 'timeout' as const },
      'server_error: server error: 503',
    ], // the Go client reads error bodies of 400 and 422 only
    [{ httpStatus: 500, text: 'oops' }, 'server_error: server error: 500'],
    [{ httpStatus: 404, text: 'oops' }, 'client_error: client error: 404'],
    [
      { httpStatus: 200, text: 'not json' },
      'bad_response: the response is not a Prometheus API answer (HTTP 200)',
    ],
    [{ string: 'hello' }, 'unexpected value type "string"'],
  ])('%j is an error measurement: %s', async (result, message) => {
    prom.setResult(QUERY, result)
    expect(await queryPrometheus({ address: prom.url, query: QUERY })).toEqual({ ok: false, message })
  })

  it('keeps warnings, sends the headers and honours a path in the address', async () => {
    prom.setResult('up', { vector: [1], warnings: ['PromQL info: metric might not be a counter'] })
    const outcome = await queryPrometheus({
      address: `${prom.url}/`,
      query: 'up',
      headers: [{ key: 'X-Scope-OrgID', value: 'tenant_a' }],
    })
    expect(outcome).toEqual({
      ok: true,
      value: [1],
      display: '[1]',
      metadata: { warnings: '"PromQL info: metric might not be a counter"' },
    })
    expect(prom.requests[0]?.headers['x-scope-orgid']).toBe('tenant_a')
    expect(prometheusQueryURL('http://mimir:8080/prometheus/', 'up{a="b c"}')).toBe(
      'http://mimir:8080/prometheus/api/v1/query?query=up%7Ba%3D%22b+c%22%7D',
    )
  })

  it('reports a Prometheus that is down', async () => {
    await prom.close()
    const outcome = await queryPrometheus({ address: prom.url, query: 'up' })
    expect(outcome).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query: .*ECONNREFUSED/),
    })
  })
})

describe('parsePrometheusResponse', () => {
  it('flags a 400 that claims success and malformed samples', () => {
    expect(
      parsePrometheusResponse(400, '{"status":"success","data":{"resultType":"vector","result":[]}}'),
    ).toEqual({
      ok: false,
      message: 'bad_response: inconsistent body for response code',
    })
    expect(
      parsePrometheusResponse(
        200,
        '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}',
      ),
    ).toEqual({
      ok: false,
      message: 'bad_response: invalid sample value "x"',
    })
  })
})

describe('checkPrometheusMetric', () => {
  it.each([['prometheus:9090'], ['not a url'], ['file:///etc/passwd']])('refuses address %j', (address) => {
    expect(() => checkPrometheusMetric({ address, query: 'up' })).toThrow(ValidationError)
  })
})

describe('formatSampleValue (Go FormatFloat f, -1)', () => {
  it.each([
    [0.97, '0.97'],
    [1, '1'],
    [-0, '-0'],
    [123456789.125, '123456789.125'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [-2.5e-10, '-0.00000000025'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%d → %s', (value, text) => {
    expect(formatSampleValue(value)).toBe(text)
  })
})
