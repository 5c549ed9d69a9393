import { listen, type RecordedRequest } from './server.js'

/*
 * A fake Prometheus serving the instant-query API, `GET|POST /api/v1/query`, in Prometheus' response format:
 * `{"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<unix time>,"0.97"]}]}}`,
 * sample values as strings (`"NaN"`, `"+Inf"` included), errors as `{"status":"error","errorType":…,"error":…}` with
 * Prometheus' HTTP statuses (bad_data 400, execution 422, timeout 503, internal 500). Program the results of each
 * query (the whole query text) as a sequence; the last one repeats. A query nobody programmed returns an empty
 * vector, as Prometheus does for a series that does not exist.
 */

export type SampleValue = number | string

export interface Sample {
  metric?: Record<string, string>
  value: SampleValue
}

export type PromResult =
  | { vector: Array<SampleValue | Sample>; warnings?: string[] }
  | { scalar: SampleValue; warnings?: string[] }
  | { matrix: Array<{ metric?: Record<string, string>; values: SampleValue[] }>; warnings?: string[] }
  | { string: string }
  | { error: string; errorType?: 'bad_data' | 'execution' | 'timeout' | 'internal' | 'canceled' }
  | { httpStatus: number; text: string }

export interface FakePrometheus {
  url: string
  requests: RecordedRequest[]
  /** The query texts received, in order. */
  queries(): string[]
  setResult(query: string, ...results: PromResult[]): void
  close(): Promise<void>
}

const ERROR_STATUS: Record<string, number> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 499,
  internal: 500,
}

function sampleText(value: SampleValue): string {
  if (typeof value === 'string') return value
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function success(resultType: string, result: unknown, warnings?: string[]) {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      status: 'success',
      data: { resultType, result },
      ...(warnings ? { warnings } : {}),
    }),
  }
}

function render(result: PromResult, at: number) {
  if ('vector' in result) {
    const samples = result.vector.map((s) => (typeof s === 'object' ? s : { value: s }))
    return success(
      'vector',
      samples.map((s) => ({ metric: s.metric ?? {}, value: [at, sampleText(s.value)] })),
      result.warnings,
    )
  }
  if ('scalar' in result) return success('scalar', [at, sampleText(result.scalar)], result.warnings)
  if ('matrix' in result) {
    return success(
      'matrix',
      result.matrix.map((series) => ({
        metric: series.metric ?? {},
        values: series.values.map((v, i) => [at - (series.values.length - 1 - i) * 60, sampleText(v)]),
      })),
      result.warnings,
    )
  }
  if ('string' in result) return success('string', [at, result.string])
  if ('error' in result) {
    const errorType = result.errorType ?? 'bad_data'
    return {
      status: ERROR_STATUS[errorType] ?? 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'error', errorType, error: result.error }),
    }
  }
  return { status: result.httpStatus, headers: { 'content-type': 'text/plain' }, body: result.text }
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const programmed = new Map<string, PromResult[]>()
  const requests: RecordedRequest[] = []
  const server = await listen(async (request) => {
    requests.push(request)
    if (request.path !== '/api/v1/query') return { status: 404, body: '404 page not found\n' }
    if (request.method !== 'GET' && request.method !== 'POST')
      return { status: 405, body: 'method not allowed\n' }
    const params = request.method === 'POST' ? new URLSearchParams(request.body) : request.query
    const query = params.get('query')
    if (query === null || query === '') {
      return render(
        {
          error: 'invalid parameter "query": 1:1: parse error: no expression found in input',
          errorType: 'bad_data',
        },
        0,
      )
    }
    const time = Number(params.get('time') ?? Date.now() / 1000)
    const queue = programmed.get(query)
    const result =
      queue === undefined || queue.length === 0
        ? { vector: [] }
        : queue.length > 1
          ? (queue.shift() ?? { vector: [] })
          : (queue[0] ?? { vector: [] })
    return render(result, time)
  })
  return {
    url: server.url,
    requests,
    queries: () =>
      requests.map((r) => (r.method === 'POST' ? new URLSearchParams(r.body) : r.query).get('query') ?? ''),
    setResult(query, ...results) {
      programmed.set(query, [...results])
    },
    close: () => server.close(),
  }
}
