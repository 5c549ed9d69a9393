import type { z } from 'zod'
import { ConflictError, TerminalError, TugboatError, UpstreamError, innermostMessage } from '../errors.js'
import { redact } from '../git/redact.js'
import { insecureFetch } from '../verification/http.js'
import type { GitProviderOptions } from './types.js'

/** The part of `fetch` the clients use; `globalThis.fetch` fits. */
export type Fetcher = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<Response>

export interface RestClientOptions {
  /** `GitHub`, `GitLab` or `Gitea`: named in every error message. */
  label: string
  /** API root without a trailing `/`. */
  baseURL: string
  /** Sent with every request (auth, Accept). */
  headers: Record<string, string>
  /** The token, scrubbed from every message. */
  secrets: string[]
  fetch?: Fetcher
  insecureSkipTLSVerify?: boolean
  timeoutMs?: number
  signal?: AbortSignal
}

/** One API answer, whatever its status. `body` is the parsed JSON (or the raw text when it is not JSON). */
export interface ApiResponse {
  status: number
  headers: Headers
  body: unknown
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>
  body?: unknown
}

/** A small JSON-over-HTTPS client bound to one provider's API root. */
export interface RestClient {
  readonly baseURL: string
  /** Sends one request; only network failures and timeouts throw (an UpstreamError). `pathOrURL` may be absolute. */
  send(method: string, pathOrURL: string, opts?: RequestOptions): Promise<ApiResponse>
  /** Sends one request, throws {@link RestClient.failure} unless the status is 2xx, and parses the body. */
  request<T>(
    schema: z.ZodType<T>,
    method: string,
    path: string,
    action: string,
    opts?: RequestOptions,
  ): Promise<T>
  /** Parses a 2xx body with `schema`; an UpstreamError (naming the action) when it does not fit. */
  parse<T>(schema: z.ZodType<T>, res: ApiResponse, action: string): T
  /** The Tugboat error for a non-2xx answer. */
  failure(res: ApiResponse, action: string): TugboatError
}

const DEFAULT_TIMEOUT_MS = 30_000

/** How one provider's API is reached, before the common provider options are applied. */
export interface ProviderAPI {
  /** `GitHub`, `GitLab` or `Gitea`. */
  label: string
  /** The API root derived from the repoURL; `apiBaseURL` in the options overrides it. */
  defaultBaseURL: string
  /** Sent with every request (Accept, API version). */
  headers: Record<string, string>
  /** The provider's way of sending the token, e.g. `{ Authorization: 'Bearer …' }`; only used with a token. */
  authHeaders(token: string): Record<string, string>
}

/** A {@link RestClient} for one provider from the common provider options (`token` is scrubbed from messages). */
export function providerRestClient(api: ProviderAPI, opts: GitProviderOptions): RestClient {
  return createRestClient({
    label: api.label,
    baseURL: (opts.apiBaseURL ?? api.defaultBaseURL).replace(/\/+$/, ''),
    headers: { 'User-Agent': 'tugboat', ...api.headers, ...(opts.token ? api.authHeaders(opts.token) : {}) },
    secrets: opts.token ? [opts.token] : [],
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
    ...(opts.requestTimeoutMs ? { timeoutMs: opts.requestTimeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
}

/** Builds a {@link RestClient}. */
export function createRestClient(opts: RestClientOptions): RestClient {
  const doFetch: Fetcher = opts.insecureSkipTLSVerify
    ? insecureFetch
    : (opts.fetch ?? ((url, init) => globalThis.fetch(url, init)))
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const scrub = (text: string) => redact(text, opts.secrets)

  const client: RestClient = {
    baseURL: opts.baseURL,
    async send(method, pathOrURL, reqOpts = {}) {
      const url = new URL(/^https?:\/\//.test(pathOrURL) ? pathOrURL : `${opts.baseURL}${pathOrURL}`)
      for (const [key, value] of Object.entries(reqOpts.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value))
      }
      const headers: Record<string, string> = { ...opts.headers }
      let body: string | undefined
      if (reqOpts.body !== undefined) {
        headers['Content-Type'] = 'application/json'
        body = JSON.stringify(reqOpts.body)
      }
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
      const where = `${opts.label} API ${method} ${url.origin}${url.pathname}`
      let response: Response
      let text: string
      try {
        response = await doFetch(url.toString(), {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal,
        })
        text = await response.text()
      } catch (error) {
        if (timeout.aborted) throw new UpstreamError(`${where}: no answer within ${timeoutMs / 1000}s`)
        throw new UpstreamError(`${where}: ${scrub(innermostMessage(error))}`)
      }
      return { status: response.status, headers: response.headers, body: parseBody(text) }
    },
    async request(schema, method, path, action, reqOpts) {
      const res = await client.send(method, path, reqOpts)
      if (res.status < 200 || res.status > 299) throw client.failure(res, action)
      return client.parse(schema, res, action)
    },
    parse(schema, res, action) {
      const parsed = schema.safeParse(res.body)
      if (parsed.success) return parsed.data
      const issue = parsed.error.issues[0]
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
      throw new UpstreamError(
        `${opts.label}: ${action}: unexpected response (${issue?.message ?? 'invalid'}${where})`,
        { status: res.status },
      )
    },
    failure(res, action) {
      const detail = scrub(errorDetail(res.body))
      const suffix = detail ? `: ${detail}` : ''
      const data = { status: res.status }
      const prefix = `${opts.label}: ${action}`
      if (res.status === 401) {
        return new TerminalError(
          `${prefix}: authentication failed (HTTP 401); check the project's git credentials for this repository ` +
            `(their password is used as the API token)`,
          { data },
        )
      }
      if (res.status === 429 || res.status >= 500 || (res.status === 403 && isRateLimited(res, detail))) {
        return new UpstreamError(`${prefix}: HTTP ${res.status}${suffix}`, { status: res.status })
      }
      if (res.status === 403)
        return new TerminalError(`${prefix}: permission denied (HTTP 403)${suffix}`, { data })
      if (res.status === 404) {
        return new TerminalError(`${prefix}: not found (HTTP 404)${suffix}`, { data })
      }
      if (res.status === 409) return new ConflictError(`${prefix}: conflict (HTTP 409)${suffix}`, { data })
      return new TerminalError(`${prefix}: refused (HTTP ${res.status})${suffix}`, { data })
    },
  }
  return client
}

/** The error text of a provider's error body: GitHub `{message, errors}`, GitLab `{message|error}`, Gitea `{message}`. */
export function errorDetail(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 300)
  if (typeof body !== 'object' || body === null) return ''
  const parts: string[] = []
  const message: unknown = Reflect.get(body, 'message') ?? Reflect.get(body, 'error')
  if (typeof message === 'string') parts.push(message)
  else if (Array.isArray(message)) parts.push(message.map(String).join('; '))
  else if (typeof message === 'object' && message !== null) {
    for (const [field, value] of Object.entries(message)) {
      parts.push(`${field} ${Array.isArray(value) ? value.join(', ') : String(value)}`)
    }
  }
  const errors: unknown = Reflect.get(body, 'errors')
  if (Array.isArray(errors)) {
    for (const e of errors) {
      if (typeof e === 'string') parts.push(e)
      else if (typeof e === 'object' && e !== null) {
        const text: unknown = Reflect.get(e, 'message')
        const field: unknown = Reflect.get(e, 'field')
        const code: unknown = Reflect.get(e, 'code')
        if (typeof text === 'string') parts.push(text)
        else if (typeof field === 'string')
          parts.push(`${field} ${typeof code === 'string' ? code : 'invalid'}`)
      }
    }
  }
  return parts.join('; ')
}

function isRateLimited(res: ApiResponse, detail: string): boolean {
  return (
    res.headers.get('x-ratelimit-remaining') === '0' ||
    res.headers.has('retry-after') ||
    /rate limit/i.test(detail)
  )
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    const value: unknown = JSON.parse(text)
    return value
  } catch {
    return text
  }
}

/** The `rel="next"` target of a Link header (GitHub and Gitea paginate with it). */
export function nextLink(headers: Headers): string | undefined {
  const link = headers.get('link')
  if (!link) return undefined
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part)
    if (match?.[1]) return match[1]
  }
  return undefined
}

/** Most pages a list follows (100 items each): enough for any real repository's open pull requests. */
export const MAX_PAGES = 50

/**
 * Every item of a GET list that paginates with Link headers (GitHub, Gitea), up to {@link MAX_PAGES} pages. `query`
 * goes with the first request only: the next links carry it on.
 */
export async function listAllPages<T>(
  api: RestClient,
  schema: z.ZodType<T[]>,
  path: string,
  query: RequestOptions['query'],
  action: string,
): Promise<T[]> {
  const items: T[] = []
  let next: string | undefined = path
  for (let n = 0; next && n < MAX_PAGES; n++) {
    const res = await api.send('GET', next, n === 0 && query ? { query } : {})
    if (res.status !== 200) throw api.failure(res, action)
    const page = api.parse(schema, res, action)
    items.push(...page)
    next = page.length === 0 ? undefined : nextLink(res.headers)
  }
  return items
}
