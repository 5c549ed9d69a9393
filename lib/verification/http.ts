/**
 * Outbound HTTP for the metric providers: an injectable fetch, an insecure (TLS-unverified) fetch built on
 * node:https (Node's fetch cannot skip verification without undici's dispatcher), bounded response bodies, and
 * error messages that name the endpoint without its query string or credentials.
 */
import http from 'node:http'
import https from 'node:https'
import { innermostMessage } from '../errors.js'

/** The part of `fetch` the providers use. `globalThis.fetch` fits. */
export type FetchLike = (
  url: string,
  init: {
    method: string
    headers: Record<string, string>
    body?: string
    signal?: AbortSignal
    redirect?: 'follow'
  },
) => Promise<Response>

/** How the providers reach the network. */
export interface HttpDeps {
  /** Used for every request without `insecure: true`; default `globalThis.fetch`. */
  fetch?: FetchLike
  /** Used for `insecure: true`; default {@link insecureFetch} (node:https with `rejectUnauthorized: false`). */
  insecureFetch?: FetchLike
}

/** Largest response body a provider reads. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024

/** A failed request, with a message safe to record in a measurement. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RequestError'
  }
}

/** `GET https://host:port/path`: the method and the URL without userinfo, query or fragment. */
export function describeRequest(method: string, url: string): string {
  try {
    const parsed = new URL(url)
    return `${method} ${parsed.origin}${parsed.pathname}`
  } catch {
    return `${method} (invalid URL)`
  }
}

/**
 * Sends one request with a time limit covering the whole exchange (headers and body, like Go's `Client.Timeout`)
 * and returns the status and the body text (at most {@link MAX_RESPONSE_BYTES}). Throws a `RequestError`.
 */
export async function sendRequest(
  deps: HttpDeps,
  request: {
    method: string
    url: string
    headers: Record<string, string>
    body?: string
    insecure?: boolean
    timeoutMs: number
  },
): Promise<{ status: number; body: string }> {
  const doFetch = request.insecure ? (deps.insecureFetch ?? insecureFetch) : (deps.fetch ?? globalThis.fetch)
  const where = describeRequest(request.method, request.url)
  const signal = AbortSignal.timeout(request.timeoutMs)
  try {
    const response = await doFetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
      redirect: 'follow',
    })
    const body = await readBounded(response, MAX_RESPONSE_BYTES)
    return { status: response.status, body }
  } catch (error) {
    if (error instanceof RequestError) throw new RequestError(`${where}: ${error.message}`)
    if (signal.aborted)
      throw new RequestError(`${where}: no complete response within ${request.timeoutMs / 1000}s (timeout)`)
    throw new RequestError(`${where}: ${innermostMessage(error)}`)
  }
}

async function readBounded(response: Response, limit: number): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? NaN)
  if (Number.isFinite(length) && length > limit) {
    await response.body?.cancel().catch(() => undefined)
    throw new RequestError(`response body is larger than ${limit} bytes`)
  }
  if (response.body === null) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => undefined)
      throw new RequestError(`response body is larger than ${limit} bytes`)
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

const insecureAgent = new https.Agent({ keepAlive: false, rejectUnauthorized: false })
const MAX_REDIRECTS = 10
const SENSITIVE_HEADERS = new Set([
  'authorization',
  'www-authenticate',
  'cookie',
  'cookie2',
  'proxy-authorization',
])
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

/**
 * A fetch for `insecure: true`: node:http(s) without certificate verification. Follows up to 10 redirects like Go's
 * client (301/302/303 turn a POST/PUT into a GET without body; 307/308 keep both; credentials are dropped when the
 * host changes).
 */
export const insecureFetch: FetchLike = async (url, init) => {
  let current = new URL(url)
  let method = init.method
  let body = init.body
  let headers = { ...init.headers }
  for (let redirects = 0; ; redirects++) {
    const response = await nodeRequest(current, method, headers, body, init.signal)
    const location = response.headers.location
    if ([301, 302, 303, 307, 308].includes(response.statusCode ?? 0) && location !== undefined) {
      response.resume()
      if (redirects >= MAX_REDIRECTS) throw new RequestError(`stopped after ${MAX_REDIRECTS} redirects`)
      const next = new URL(location, current)
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        throw new RequestError('redirect to an unsupported scheme')
      if (
        response.statusCode !== 307 &&
        response.statusCode !== 308 &&
        method !== 'GET' &&
        method !== 'HEAD'
      ) {
        method = 'GET'
        body = undefined
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'content-type'),
        )
      }
      if (next.host !== current.host) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !SENSITIVE_HEADERS.has(k.toLowerCase())),
        )
      }
      current = next
      continue
    }
    const status = response.statusCode ?? 500
    const responseHeaders = new Headers()
    for (const [key, value] of Object.entries(response.headers)) {
      if (value === undefined) continue
      for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(key, v)
    }
    if (NULL_BODY_STATUS.has(status) || status < 200 || status > 599) {
      response.resume()
      return new Response(null, {
        status: status < 200 || status > 599 ? 502 : status,
        headers: responseHeaders,
      })
    }
    const bytes = await collect(response, MAX_RESPONSE_BYTES)
    responseHeaders.delete('content-length')
    return new Response(bytes, { status, headers: responseHeaders })
  }
}

function nodeRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<http.IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new RequestError(`unsupported URL scheme ${url.protocol}`))
  const send = url.protocol === 'https:' ? https.request : http.request
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        headers:
          body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(url.protocol === 'https:' ? { agent: insecureAgent } : {}),
        ...(signal ? { signal } : {}),
      },
      resolve,
    )
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

function collect(response: http.IncomingMessage, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    response.on('data', (chunk: Buffer) => {
      total += chunk.byteLength
      if (total > limit) {
        response.destroy()
        reject(new RequestError(`response body is larger than ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    })
    response.on('end', () => {
      const bytes = new Uint8Array(total)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.byteLength
      }
      resolve(bytes)
    })
    response.on('error', reject)
    response.on('aborted', () =>
      reject(new RequestError('the connection closed before the response was complete')),
    )
  })
}
