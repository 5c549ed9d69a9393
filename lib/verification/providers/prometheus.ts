/**
 * Argo Rollouts' `prometheus` metric provider: an instant query, `GET <address>/api/v1/query?query=…`, read the
 * way Prometheus' Go client (`client_golang`) reads it and turned into a value the way Argo does:
 *
 * | `data.resultType` | `result` in conditions                       | recorded value   |
 * |---|---|---|
 * | `vector`          | the sample values, as numbers: `[0.97, 0.5]` | `[0.97,0.5]`     |
 * | `matrix`          | every value of every series, flattened       | `[1,2,3]`        |
 * | `scalar`          | the number                                   | `0.97`           |
 * | `string`          | — an error measurement (`unexpected value type "string"`) |    |
 *
 * Numbers are printed like Go's `strconv.FormatFloat(v, 'f', -1, 64)` (`NaN`, `+Inf`, no exponent). An answer with
 * `status: "error"` is an error measurement carrying Prometheus' `errorType: error`; so is a status outside 2xx
 * (400 and 422 carry Prometheus' own error body). `timeout` (seconds, default 30) limits the request; `headers` are
 * set on it; `insecure: true` skips TLS verification. Warnings are kept in the measurement's metadata.
 */
import { z } from 'zod'
import { ValidationError, messageOf } from '../../errors.js'
import { goJsonUnmarshal } from '../../expressions/go-json.js'
import { parseGoFloat } from '../../expressions/go-strconv.js'
import type { PrometheusMetric } from '../../model/resources.js'
import { sendRequest, type HttpDeps } from '../http.js'
import type { ProviderOutcome } from './types.js'

/** Argo's default Prometheus timeout. */
export const DEFAULT_PROMETHEUS_TIMEOUT_SECONDS = 30

const SampleValueText = z.string()
const SamplePair = z.tuple([z.number(), SampleValueText])

const ApiResponseSchema = z.object({
  status: z.string().optional(),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).nullish(),
})

const QueryDataSchema = z.object({ resultType: z.string(), result: z.unknown() })
const VectorSchema = z.array(
  z.object({
    metric: z.record(z.string(), z.string()).optional(),
    value: SamplePair.optional(),
    histogram: z.unknown().optional(),
  }),
)
const MatrixSchema = z.array(
  z.object({
    metric: z.record(z.string(), z.string()).optional(),
    values: z.array(SamplePair).nullish(),
    histograms: z.unknown().optional(),
  }),
)

/** The query URL: `<address>/api/v1/query?query=…` (a path in `address` is kept, as the Go client joins paths). */
export function prometheusQueryURL(address: string, query: string): string {
  const url = new URL(address)
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`
  url.searchParams.set('query', query)
  return url.toString()
}

/** Checks the address (an http(s) URL with a host, as Argo's `IsUrl`) and the headers. Throws a `ValidationError`. */
export function checkPrometheusMetric(metric: PrometheusMetric, path = 'provider.prometheus'): void {
  let url: URL
  try {
    url = new URL(metric.address)
  } catch {
    throw new ValidationError(`${path}.address: prometheus address is not in URL format`, {
      path: `${path}.address`,
    })
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.host === '') {
    throw new ValidationError(`${path}.address: must be an http or https URL with a host`, {
      path: `${path}.address`,
    })
  }
  try {
    requestHeaders(metric)
  } catch (error) {
    throw new ValidationError(`${path}.headers: ${messageOf(error)}`, { path: `${path}.headers` })
  }
}

function requestHeaders(metric: PrometheusMetric): Record<string, string> {
  const headers = new Headers({ accept: 'application/json' })
  for (const header of metric.headers ?? []) headers.set(header.key, header.value)
  return Object.fromEntries(headers.entries())
}

/** Runs one instant query. Never throws: a failure is `{ ok: false, message }`. */
export async function queryPrometheus(
  metric: PrometheusMetric,
  deps: HttpDeps = {},
): Promise<ProviderOutcome> {
  try {
    checkPrometheusMetric(metric)
  } catch (error) {
    return { ok: false, message: messageOf(error) }
  }
  let response: { status: number; body: string }
  try {
    response = await sendRequest(deps, {
      method: 'GET',
      url: prometheusQueryURL(metric.address, metric.query),
      headers: requestHeaders(metric),
      insecure: metric.insecure ?? false,
      timeoutMs: (metric.timeout ?? DEFAULT_PROMETHEUS_TIMEOUT_SECONDS) * 1000,
    })
  } catch (error) {
    return { ok: false, message: messageOf(error) }
  }
  return parsePrometheusResponse(response.status, response.body)
}

function clientErrorFor(status: number): string {
  switch (Math.floor(status / 100)) {
    case 4:
      return `client_error: client error: ${status}`
    case 5:
      return `server_error: server error: ${status}`
    default:
      return `bad_response: bad response code ${status}`
  }
}

function sampleNumber(text: string): number {
  const value = parseGoFloat(text)
  if (value === undefined)
    throw new Error(`bad_response: invalid sample value ${JSON.stringify(text.slice(0, 40))}`)
  return value
}

/** Reads a `/api/v1/query` answer (HTTP status and body) into a measured value. */
export function parsePrometheusResponse(status: number, body: string): ProviderOutcome {
  const apiError = status === 400 || status === 422
  if (Math.floor(status / 100) !== 2 && !apiError) return { ok: false, message: clientErrorFor(status) }
  const json = goJsonUnmarshal(body)
  const envelope = json === undefined ? undefined : ApiResponseSchema.safeParse(json.value)
  if (envelope === undefined || !envelope.success) {
    return {
      ok: false,
      message: `bad_response: the response is not a Prometheus API answer (HTTP ${status})`,
    }
  }
  const answer = envelope.data
  if (answer.status === 'error') {
    return { ok: false, message: `${answer.errorType ?? ''}: ${answer.error ?? ''}` }
  }
  if (apiError) return { ok: false, message: 'bad_response: inconsistent body for response code' }
  const data = QueryDataSchema.safeParse(answer.data)
  if (!data.success)
    return { ok: false, message: 'bad_response: data.resultType and data.result are required' }
  const metadata = answer.warnings?.length
    ? { warnings: answer.warnings.map((w) => JSON.stringify(w)).join(', ') }
    : undefined
  const withMetadata = (outcome: { value: unknown; display: string }): ProviderOutcome => ({
    ok: true,
    ...outcome,
    ...(metadata ? { metadata } : {}),
  })
  try {
    switch (data.data.resultType) {
      case 'scalar': {
        const scalar = SamplePair.safeParse(data.data.result)
        if (!scalar.success)
          return { ok: false, message: 'bad_response: a scalar result must be [time, "value"]' }
        const value = sampleNumber(scalar.data[1])
        return withMetadata({ value, display: formatSampleValue(value) })
      }
      case 'vector': {
        const vector = VectorSchema.safeParse(data.data.result)
        if (!vector.success)
          return { ok: false, message: 'bad_response: a vector result must be a list of samples' }
        // A native-histogram sample has no float value; the Go client leaves it 0, and so does Argo.
        const values = vector.data.map((sample) => (sample.value ? sampleNumber(sample.value[1]) : 0))
        return withMetadata({ value: values, display: formatSampleList(values) })
      }
      case 'matrix': {
        const matrix = MatrixSchema.safeParse(data.data.result)
        if (!matrix.success)
          return { ok: false, message: 'bad_response: a matrix result must be a list of series' }
        const values = matrix.data.flatMap((series) =>
          (series.values ?? []).map((pair) => sampleNumber(pair[1])),
        )
        return withMetadata({ value: values, display: formatSampleList(values) })
      }
      default:
        return { ok: false, message: `unexpected value type ${JSON.stringify(data.data.resultType)}` }
    }
  } catch (error) {
    return { ok: false, message: messageOf(error) }
  }
}

function formatSampleList(values: readonly number[]): string {
  return `[${values.map(formatSampleValue).join(',')}]`
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`, which is how Prometheus' `SampleValue` prints. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  if (value === 0) return Object.is(value, -0) ? '-0' : '0'
  const sign = value < 0 ? '-' : ''
  // Shortest round-trip digits and the decimal exponent, from JS's own shortest formatting.
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e')
  const digits = mantissa.replace('.', '')
  const exponent = Number(exponentText)
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}`
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`
}
