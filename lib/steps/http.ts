import fs from 'node:fs'
import { parseAllDocuments } from 'yaml'
import { z } from 'zod'
import { TerminalError, TugboatError, UpstreamError, messageOf } from '../errors.js'
import { compileExpression, type CompiledExpression } from '../expressions/index.js'
import { goQuote } from '../expressions/go-strconv.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { guardedFetch, outboundConfigFromEnv, type OutboundRequestInit } from '../net/outbound.js'
import { parseDuration } from '../promotion/durations.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `http`: sends one request and judges the response as Kargo does (http_requester.go). Expressions see
 * `response.status` (number), `response.header(name)` (first value, "" when absent), `response.headers`
 * (canonical name → list of values) and `response.body` (parsed JSON or YAML, or text for text/plain; `{}` when
 * empty or unparseable). Outcome:
 * - `failureExpression` true → Failed (message from `errorExpression` when it yields a string);
 * - else `successExpression` true → Succeeded with `outputs`;
 * - neither expression set → 2xx Succeeded; any other status is retried later (Running), as Kargo's "Failed
 *   without error" is;
 * - otherwise (criteria not met yet) → Running, polled again after `pollInterval` (30 s).
 * A step never sleeps: Running carries `retryAfterMs`. The request goes through `ctx.fetch`, else the outbound guard
 * (lib/net/outbound.ts) configured from the environment. `proxy` is not supported yet.
 */

const NameValueSchema = z.strictObject({ name: z.string().min(1), value: z.string().min(1) })
/** A Go duration such as `30s` or `1m30s`. */
export const GoDurationSchema = z.string().refine(
  (text) => {
    try {
      parseDuration(text)
      return true
    } catch {
      return false
    }
  },
  { message: 'must be a duration such as 30s, 5m or 1h30m' },
)

/** Mirrors `http-config.json`. */
export const HTTPConfigSchema = z
  .strictObject({
    method: z.enum(['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']).optional(),
    url: z.string().min(1),
    headers: z.array(NameValueSchema).optional(),
    queryParams: z.array(NameValueSchema).optional(),
    body: z.string().optional(),
    bodyFromFile: z.string().min(1).optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    proxy: z
      .string()
      .regex(/^https?:\/\/.*$/)
      .optional(),
    timeout: GoDurationSchema.optional(),
    pollInterval: GoDurationSchema.optional(),
    responseContentType: z.enum(['application/json', 'application/yaml', 'text/plain']).optional(),
    outputs: z
      .array(z.strictObject({ name: z.string().min(1), fromExpression: z.string().min(1) }))
      .optional(),
    successExpression: z.string().optional(),
    failureExpression: z.string().optional(),
    errorExpression: z.string().optional(),
  })
  .refine((c) => !(c.body && c.bodyFromFile), {
    message: 'body and bodyFromFile are mutually exclusive',
    path: ['bodyFromFile'],
  })
export type HTTPConfig = z.infer<typeof HTTPConfigSchema>

/** Kargo's limits and defaults. */
export const MAX_RESPONSE_BYTES = 2 << 20
const REQUEST_TIMEOUT_MS = 10_000
const POLL_INTERVAL_MS = 30_000
/** Kargo requeues a step that reported Failed without an error after its default interval (5 minutes). */
const RETRY_NON_2XX_MS = 5 * 60_000

/** The `http` step. Output: one entry per `outputs[]` item (an empty object when there are none). */
export const httpStep: Step<HTTPConfig> = {
  kind: 'http',
  config: HTTPConfigSchema,
  requires: ['http'],
  run: runHTTP,
}

interface Criteria {
  success?: CompiledExpression
  failure?: CompiledExpression
  error?: CompiledExpression
  outputs: Array<{ name: string; expression: CompiledExpression }>
}

async function runHTTP(ctx: StepContext, cfg: HTTPConfig): Promise<StepResult> {
  if (cfg.proxy) throw new TerminalError('http step: proxy is not supported by Tugboat yet')
  const criteria = compileCriteria(cfg)
  const method = cfg.method ?? 'GET'
  const headers = requestHeaders(cfg.headers, 'http step')
  const url = requestURL(cfg.url, cfg.queryParams, 'http step', headers)
  const body = cfg.bodyFromFile
    ? readBodyFile(ctx.workDir, cfg.bodyFromFile)
    : cfg.body
      ? Buffer.from(cfg.body)
      : undefined
  if (body && (method === 'GET' || method === 'HEAD'))
    throw new TerminalError(`http step: a ${method} request cannot carry a body`)
  const timeoutMs = cfg.timeout ? parseDuration(cfg.timeout, 'timeout') : REQUEST_TIMEOUT_MS
  const response = await sendOutbound(ctx, 'http step', url, timeoutMs, {
    method,
    headers,
    ...(body ? { body: new Uint8Array(body) } : {}),
    ...(cfg.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
  })
  let env: { response: HTTPResponseEnv }
  try {
    env = { response: await responseEnv(response, cfg.responseContentType) }
  } catch (error) {
    throw outboundError('http step', 'error reading the HTTP response', error, timeoutMs)
  }
  const status = response.status
  ctx.log(`${method} ${redactQuery(url)} → HTTP ${status}`)

  const success = judge(criteria.success, env, 'success', cfg.successExpression)
  const failure = judge(criteria.failure, env, 'failure', cfg.failureExpression)

  if (failure === true) {
    const detail = errorMessage(criteria.error, env)
    const message = detail
      ? `HTTP (${status}) response met failure criteria: ${goQuote(detail)}`
      : `HTTP (${status}) response met failure criteria`
    return { status: 'Failed', message }
  }
  if (success === true || (success === undefined && failure === undefined && status >= 200 && status < 300)) {
    return { status: 'Succeeded', output: buildOutputs(criteria.outputs, env) }
  }
  if (success === undefined && failure === undefined) {
    return {
      status: 'Running',
      message: `HTTP (${status}) response is not a 2xx; the request will be sent again`,
      retryAfterMs: RETRY_NON_2XX_MS,
    }
  }
  return {
    status: 'Running',
    message: `HTTP (${status}) response did not meet the ${success === false ? 'success' : 'failure'} criteria yet`,
    retryAfterMs: cfg.pollInterval ? parseDuration(cfg.pollInterval, 'pollInterval') : POLL_INTERVAL_MS,
  }
}

function compileCriteria(cfg: HTTPConfig): Criteria {
  const compile = (source: string | undefined, what: string): CompiledExpression | undefined => {
    if (!source) return undefined
    try {
      return compileExpression(source)
    } catch (error) {
      throw new TerminalError(`http step: error compiling ${what} ${goQuote(source)}: ${messageOf(error)}`, {
        cause: error,
      })
    }
  }
  return {
    success: compile(cfg.successExpression, 'success expression'),
    failure: compile(cfg.failureExpression, 'failure expression'),
    error: compile(cfg.errorExpression, 'error expression'),
    outputs: (cfg.outputs ?? []).map((o) => ({
      name: o.name,
      expression: compile(o.fromExpression, `output expression "${o.name}"`)!,
    })),
  }
}

/** Evaluates a success/failure expression: undefined when not configured; a non-boolean is a (retryable) error. */
function judge(
  expression: CompiledExpression | undefined,
  env: Record<string, unknown>,
  what: 'success' | 'failure',
  source: string | undefined,
): boolean | undefined {
  if (!expression) return undefined
  let value: unknown
  try {
    value = expression(env)
  } catch (error) {
    throw new UpstreamError(
      `http step: error evaluating ${what} expression ${goQuote(source ?? '')}: ${messageOf(error)}`,
      {
        cause: error,
      },
    )
  }
  if (typeof value !== 'boolean') {
    throw new UpstreamError(
      `http step: ${what} expression ${goQuote(source ?? '')} did not evaluate to a boolean (got ${goTypeName(value)})`,
    )
  }
  return value
}

/** The message `errorExpression` extracts; "" when unset, failing, or not a string (Kargo's best effort). */
function errorMessage(expression: CompiledExpression | undefined, env: Record<string, unknown>): string {
  if (!expression) return ''
  try {
    const value = expression(env)
    return typeof value === 'string' ? value : ''
  } catch {
    return ''
  }
}

function buildOutputs(outputs: Criteria['outputs'], env: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const { name, expression } of outputs) {
    try {
      result[name] = expression(env)
    } catch (error) {
      throw new UpstreamError(
        `http step: error evaluating output expression "${name}": ${messageOf(error)}`,
        {
          cause: error,
        },
      )
    }
    if (typeof result[name] === 'function')
      throw new TerminalError(`http step: output "${name}" is a function, not a value`)
  }
  return result
}

/** What expressions see as `response`. */
export interface HTTPResponseEnv {
  status: number
  header: (name: unknown) => string
  headers: Record<string, string[]>
  body: unknown
}

/** Builds the `response` object of Kargo's expression env, reading at most 2 MiB of body. */
export async function responseEnv(
  response: Response,
  contentTypeOverride?: string,
): Promise<HTTPResponseEnv> {
  const headers: Record<string, string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[canonicalHeaderName(name)] = [value]
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['Set-Cookie'] = cookies
  const bytes = await readLimited(response, MAX_RESPONSE_BYTES)
  const contentType = contentTypeOverride ?? mediaType(response.headers.get('content-type'))
  return {
    status: response.status,
    header: (name) => (typeof name === 'string' ? (headers[canonicalHeaderName(name)]?.[0] ?? '') : ''),
    headers,
    body: parseBody(bytes, contentType),
  }
}

async function readLimited(response: Response, limit: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? '')
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined)
    throw new UpstreamError(`response body size ${declared} exceeds limit of ${limit} bytes`)
  }
  if (!response.body) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  let size = 0
  const reader = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined)
      throw new UpstreamError(`response body exceeds limit of ${limit} bytes`)
    }
    chunks.push(Buffer.from(value))
  }
  return Buffer.concat(chunks)
}

/** `mime.ParseMediaType(...)`'s media type: lowercased, parameters dropped; "" when absent or malformed. */
function mediaType(header: string | null): string {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  return /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(type) ? type : ''
}

function parseBody(bytes: Buffer, contentType: string): unknown {
  if (bytes.length === 0) return {}
  const text = bytes.toString('utf8')
  const type = contentType.toLowerCase()
  if (type === 'text/plain') return text
  if (type === 'application/yaml' || type === 'text/yaml' || type === 'application/x-yaml') {
    const doc = parseAllDocuments(text, { version: '1.1' })[0]
    if (!doc) return null
    if (doc.errors.length > 0)
      throw new UpstreamError(`failed to parse YAML response: ${doc.errors[0]?.message}`)
    return doc.toJS({ maxAliasCount: 100 })
  }
  // JSON, and the fallback for any other type: parsed when it is valid JSON, else ignored.
  try {
    return JSON.parse(text)
  } catch (error) {
    if (contentType === 'application/json')
      throw new UpstreamError(`failed to parse JSON response: ${messageOf(error)}`, { cause: error })
    return {}
  }
}

/** Go's `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
}

function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '<nil>'
  if (typeof value === 'string') return 'string'
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64'
  if (Array.isArray(value)) return '[]interface {}'
  if (typeof value === 'function') return 'func'
  return 'map[string]interface {}'
}

/**
 * The request URL with `queryParams` added as Go's `url.Values` encodes them (sorted by key). Credentials in the URL
 * (`https://user:pass@host/`) move to a basic Authorization header, as Go's client sends them.
 */
export function requestURL(
  raw: string,
  queryParams: Array<{ name: string; value: string }> | undefined,
  label: string,
  headers: Headers,
): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TerminalError(`${label}: the URL is not valid`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TerminalError(
      `${label}: unsupported protocol scheme ${goQuote(url.protocol.replace(/:$/, ''))}`,
    )
  if (url.username || url.password) {
    if (!headers.has('authorization')) {
      const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      headers.set('authorization', `Basic ${Buffer.from(user).toString('base64')}`)
    }
    url.username = ''
    url.password = ''
  }
  if (!queryParams || queryParams.length === 0) return url.href
  const values = new Map<string, string[]>()
  for (const pair of url.search.replace(/^\?/, '').split('&')) {
    if (pair === '' || pair.includes(';')) continue
    const [key = '', value = ''] = splitOnce(pair, '=')
    const k = safeDecode(key)
    const v = safeDecode(value)
    if (k === undefined || v === undefined) continue
    values.set(k, [...(values.get(k) ?? []), v])
  }
  for (const { name, value } of queryParams) values.set(name, [...(values.get(name) ?? []), value])
  const keys = [...values.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  url.search = keys
    .flatMap((key) => (values.get(key) ?? []).map((v) => `${goQueryEscape(key)}=${goQueryEscape(v)}`))
    .join('&')
  return url.href
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator)
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)]
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

/** Go's `url.QueryEscape`. */
function goQueryEscape(text: string): string {
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte)
    if (/[A-Za-z0-9_.~-]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Request headers from config; a name or value fetch refuses is a config error. */
export function requestHeaders(
  list: Array<{ name: string; value: string }> | undefined,
  label: string,
): Headers {
  const headers = new Headers()
  for (const { name, value } of list ?? []) {
    try {
      headers.append(name, value)
    } catch {
      throw new TerminalError(`${label}: header ${goQuote(name)} has an invalid name or value`)
    }
  }
  return headers
}

function readBodyFile(workDir: string, bodyFromFile: string): Buffer {
  const file = resolveInWorkspaceReal(workDir, bodyFromFile, 'bodyFromFile')
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (error) {
    throw new TerminalError(
      `http step: could not read bodyFromFile ${goQuote(bodyFromFile)}: ${messageOf(error)}`,
    )
  }
  try {
    const buffer = Buffer.alloc(MAX_RESPONSE_BYTES + 1)
    let size = 0
    for (;;) {
      const n = fs.readSync(fd, buffer, size, buffer.length - size, null)
      if (n === 0) break
      size += n
      if (size > MAX_RESPONSE_BYTES)
        throw new TerminalError(
          `http step: bodyFromFile ${goQuote(bodyFromFile)} is larger than ${MAX_RESPONSE_BYTES} bytes`,
        )
    }
    return buffer.subarray(0, size)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Sends one request through the outbound guard (or the context's fetch), bounded by the step's signal and
 * `timeoutMs`; what fetch throws becomes a step error ({@link outboundError}).
 */
export async function sendOutbound(
  ctx: Pick<StepContext, 'fetch' | 'signal'>,
  label: string,
  url: string,
  timeoutMs: number,
  init: Omit<OutboundRequestInit, 'signal'>,
): Promise<Response> {
  const doFetch = ctx.fetch ?? guardedFetch(outboundConfigFromEnv(process.env))
  try {
    return await doFetch(url, { ...init, signal: withTimeout(ctx.signal, timeoutMs) })
  } catch (error) {
    throw outboundError(label, 'error sending HTTP request', error, timeoutMs)
  }
}

/** The step's signal plus a timeout. */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal ? AbortSignal.any([signal, timeout]) : timeout
}

/**
 * Maps what a fetch threw to a step error: refusals by the outbound guard stay terminal, a timeout or a network
 * failure is an UpstreamError (the engine retries it).
 */
export function outboundError(
  label: string,
  action: string,
  error: unknown,
  timeoutMs: number,
): TugboatError {
  if (error instanceof TerminalError)
    return new TerminalError(`${label}: ${error.message}`, { data: error.data, cause: error })
  if (error instanceof TugboatError)
    return new UpstreamError(`${label}: ${error.message}`, { data: error.data, cause: error })
  if (error instanceof Error && error.name === 'TimeoutError')
    return new UpstreamError(`${label}: ${action}: timed out after ${timeoutMs} ms`, { cause: error })
  if (error instanceof Error && error.name === 'AbortError')
    return new UpstreamError(`${label}: ${action}: cancelled`, { cause: error })
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code =
    cause instanceof Error && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined
  return new UpstreamError(
    `${label}: ${action}: ${code ? `${code} (${messageOf(cause)})` : messageOf(cause)}`,
    {
      cause: error,
    },
  )
}

/** A URL for logs, its query (which may carry tokens) left out. */
export function redactQuery(url: string): string {
  const at = url.indexOf('?')
  return at < 0 ? url : `${url.slice(0, at)}?…`
}
