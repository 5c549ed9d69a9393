import { listen, type RecordedRequest } from './server.js'

/*
 * A controllable JSON endpoint for web-metric tests: program what each path answers, request after request.
 * `respond('/health', { json: { ok: true } }, { status: 500 })` answers the first request with the JSON and every
 * later one with a 500 (the last reply of a sequence repeats). Unprogrammed paths answer 404.
 */

/** One reply. `json` is encoded as JSON; `text` is sent as is; `delayMs` holds the reply back. */
export interface WebReply {
  status?: number
  json?: unknown
  text?: string
  headers?: Record<string, string>
  delayMs?: number
}

export interface FakeWebMetric {
  /** `http://127.0.0.1:<port>` (or https with `tls`). */
  url: string
  /** Every request, in arrival order. */
  requests: RecordedRequest[]
  /** Programs the replies of a path (replacing earlier ones). */
  respond(path: string, ...replies: WebReply[]): void
  /** Stops the server: later requests get ECONNREFUSED. */
  close(): Promise<void>
}

export async function startFakeWebMetric(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<FakeWebMetric> {
  const routes = new Map<string, WebReply[]>()
  const requests: RecordedRequest[] = []
  const server = await listen(async (request) => {
    requests.push(request)
    const queue = routes.get(request.path)
    if (queue === undefined || queue.length === 0) {
      return {
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'not found' }),
      }
    }
    const reply = queue.length > 1 ? (queue.shift() ?? {}) : (queue[0] ?? {})
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
    const isJson = reply.text === undefined
    return {
      status: reply.status ?? 200,
      headers: { 'content-type': isJson ? 'application/json' : 'text/plain', ...reply.headers },
      body: isJson ? (reply.json === undefined ? '' : JSON.stringify(reply.json)) : (reply.text ?? ''),
    }
  }, options.tls)
  return {
    url: server.url,
    requests,
    respond(path, ...replies) {
      routes.set(path, [...replies])
    },
    close: () => server.close(),
  }
}
