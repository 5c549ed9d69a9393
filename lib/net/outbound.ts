import { lookup as dnsLookup } from 'node:dns/promises'
import type { LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type { Readable } from 'node:stream'
import zlib from 'node:zlib'
import { z } from 'zod'
import { TerminalError, UpstreamError, ValidationError } from '../errors.js'
import {
  LINK_LOCAL,
  LOOPBACK,
  METADATA_ADDRESSES,
  PRIVATE,
  cidrContains,
  formatIP,
  parseCIDR,
  parseIP,
  type CIDR,
  type IPAddress,
} from './ip.js'

/*
 * Outbound HTTP for steps that call user-given URLs (`http`, `http-download`). Kargo only refuses link-local
 * addresses (pkg/net/safe_dialer.go); this guard does the same and more:
 *
 * - it resolves the host (every address `dns.lookup` returns) and refuses the request when any address is
 *   link-local (169.254.0.0/16, fe80::/10) or a cloud metadata endpoint (169.254.169.254, fd00:ec2::254,
 *   100.100.100.200, the name metadata.google.internal); IPv4-mapped IPv6 forms count as their IPv4 address;
 * - the connection then goes to exactly the addresses that were checked (no second DNS answer can swap in another);
 * - with an allow-list (host globs or CIDRs, `TUGBOAT_HTTP_ALLOWLIST`), anything not on it is refused;
 * - with `blockPrivate` (`TUGBOAT_HTTP_BLOCK_PRIVATE=true`), loopback and private networks are refused too, unless an
 *   allow-listed CIDR names them. LOOPBACK IS ALLOWED BY DEFAULT: the local runtime and the tests call services on
 *   127.0.0.1. A deployment that must not reach its own host sets an allow-list or `blockPrivate`.
 * - redirects are followed here (at most 5), and every hop is checked again, so a public URL cannot bounce the request
 *   to a metadata address. Authorization and Cookie headers are dropped when a redirect changes origin.
 */

/** A host glob (`*.example.com`, `api.example.com`; `*` matches any characters, dots included) or a CIDR / IP. */
const AllowEntrySchema = z
  .string()
  .trim()
  .min(1)
  .refine((entry) => parseCIDR(entry) !== undefined || /^[a-z0-9*._-]+$/i.test(entry), {
    message:
      'must be a host name, a host glob such as *.example.com, an IP address or a CIDR such as 10.0.0.0/8',
  })

/** What the guard enforces. */
export const OutboundConfigSchema = z.strictObject({
  /** When set, only these hosts (globs) and addresses (CIDRs) may be called. */
  allowList: z.array(AllowEntrySchema).optional(),
  /** Also refuse loopback, RFC 1918, CGNAT and unique-local addresses not named by an allow-listed CIDR. */
  blockPrivate: z.boolean().optional(),
})
export type OutboundConfig = z.infer<typeof OutboundConfigSchema>

const EnvSchema = z.object({
  TUGBOAT_HTTP_ALLOWLIST: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined
        ? undefined
        : value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry !== ''),
    ),
  TUGBOAT_HTTP_BLOCK_PRIVATE: z
    .enum(['true', 'false', '1', '0', ''])
    .optional()
    .transform((value) =>
      value === undefined || value === '' ? undefined : value === 'true' || value === '1',
    ),
})

/**
 * Reads the guard's settings from the environment: `TUGBOAT_HTTP_ALLOWLIST` (comma-separated host globs / CIDRs;
 * unset or empty means no allow-list) and `TUGBOAT_HTTP_BLOCK_PRIVATE` (`true`/`false`). A bad entry is a
 * ValidationError naming the variable.
 */
export function outboundConfigFromEnv(env: Record<string, string | undefined>): OutboundConfig {
  const parsedEnv = EnvSchema.safeParse(env)
  if (!parsedEnv.success) {
    const issue = parsedEnv.error.issues[0]
    throw new ValidationError(`${issue?.path.join('.') ?? 'environment'}: ${issue?.message ?? 'invalid'}`)
  }
  const allowList = parsedEnv.data.TUGBOAT_HTTP_ALLOWLIST
  const config = OutboundConfigSchema.safeParse({
    ...(allowList && allowList.length > 0 ? { allowList } : {}),
    ...(parsedEnv.data.TUGBOAT_HTTP_BLOCK_PRIVATE !== undefined
      ? { blockPrivate: parsedEnv.data.TUGBOAT_HTTP_BLOCK_PRIVATE }
      : {}),
  })
  if (!config.success) {
    const issue = config.error.issues[0]
    const index = issue?.path[1]
    const entry = typeof index === 'number' ? allowList?.[index] : undefined
    throw new ValidationError(
      `TUGBOAT_HTTP_ALLOWLIST entry ${JSON.stringify(entry ?? '')} ${issue?.message ?? 'is invalid'}`,
      { path: 'TUGBOAT_HTTP_ALLOWLIST' },
    )
  }
  return config.data
}

/** `RequestInit` plus what the steps need beyond standard fetch. A plain `fetch` ignores the extra field. */
export interface OutboundRequestInit extends RequestInit {
  /** Skip TLS certificate verification (the steps' `insecureSkipTLSVerify`). */
  insecureSkipTLSVerify?: boolean
}

export interface GuardedFetchOptions extends OutboundConfig {
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number
  /** Name resolution (tests point a name at a chosen address). Default: `dns.lookup` with `all: true`. */
  resolve?: (host: string) => Promise<LookupAddress[]>
}

/** Why a request was refused: `blocked` is the human reason shown in parentheses. */
export class BlockedHostError extends TerminalError {
  constructor(host: string, reason: string, detail?: { address?: string; redirect?: boolean }) {
    const what = detail?.redirect ? `redirect to host ${host}` : `host ${host}`
    const bare = host.replace(/^\[(.*)\]$/, '$1')
    const via = detail?.address && detail.address !== bare ? ` (resolves to ${detail.address})` : ''
    super(`${what}${via} is blocked (${reason})`, {
      data: { host, reason, ...(detail?.address ? { address: detail.address } : {}) },
    })
  }
}

const METADATA_HOSTNAMES = new Set(['metadata.google.internal'])
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

interface Policy {
  globs: RegExp[]
  cidrs: CIDR[]
  hasAllowList: boolean
  blockPrivate: boolean
}

function compilePolicy(config: OutboundConfig): Policy {
  const globs: RegExp[] = []
  const cidrs: CIDR[] = []
  for (const entry of config.allowList ?? []) {
    const cidr = parseCIDR(entry)
    if (cidr) cidrs.push(cidr)
    else {
      const pattern = normalizeHost(entry)
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))
        .join('.*')
      globs.push(new RegExp(`^${pattern}$`))
    }
  }
  return {
    globs,
    cidrs,
    hasAllowList: config.allowList !== undefined,
    blockPrivate: config.blockPrivate ?? false,
  }
}

function normalizeHost(host: string): string {
  let h = host.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  while (h.endsWith('.')) h = h.slice(0, -1)
  return h
}

/** Checks a URL's host against the policy; returns the addresses the connection may use. */
async function admit(
  policy: Policy,
  url: URL,
  resolve: (host: string) => Promise<LookupAddress[]>,
  redirect: boolean,
): Promise<LookupAddress[]> {
  const host = normalizeHost(url.hostname)
  const display = host.includes(':') ? `[${host}]` : host
  if (METADATA_HOSTNAMES.has(host))
    throw new BlockedHostError(display, 'link-local/cloud metadata', { redirect })
  const literal = parseIP(host)
  let addresses: LookupAddress[]
  if (literal) addresses = [{ address: host, family: literal.version }]
  else {
    try {
      addresses = await resolve(host)
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'lookup failed'
      throw new UpstreamError(`could not resolve host ${host}: ${code}`, { cause: error, data: { host } })
    }
    if (addresses.length === 0) throw new UpstreamError(`could not resolve host ${host}`, { data: { host } })
  }
  const nameAllowed = !literal && policy.globs.some((glob) => glob.test(host))
  for (const { address } of addresses) {
    const ip = parseIP(address)
    if (!ip) throw new UpstreamError(`host ${host} resolved to an unusable address ${address}`)
    const shown = formatIP(ip)
    const detail = { address: shown, redirect }
    if (inAny(LINK_LOCAL, ip) || inAny(METADATA_ADDRESSES, ip))
      throw new BlockedHostError(display, 'link-local/cloud metadata', detail)
    const listed = inAny(policy.cidrs, ip)
    if (policy.blockPrivate && !listed) {
      if (inAny(LOOPBACK, ip)) throw new BlockedHostError(display, 'loopback', detail)
      if (inAny(PRIVATE, ip)) throw new BlockedHostError(display, 'private network', detail)
    }
    if (policy.hasAllowList && !nameAllowed && !listed)
      throw new BlockedHostError(display, 'not on the outbound allow-list TUGBOAT_HTTP_ALLOWLIST', detail)
  }
  return addresses
}

function inAny(list: CIDR[], ip: IPAddress): boolean {
  return list.some((block) => cidrContains(block, ip))
}

const defaultResolve = (host: string): Promise<LookupAddress[]> =>
  dnsLookup(host, { all: true, verbatim: true })

/**
 * A `fetch` that applies the outbound policy (see the top of this file) to the first request and every redirect.
 * It speaks HTTP/1.1 through node:http(s) so it can pin the checked addresses and honour `insecureSkipTLSVerify`.
 * Refusals are `BlockedHostError` (a TerminalError); network failures reject with `TypeError('fetch failed')` like
 * fetch; an abort rejects with the signal's reason.
 */
export function guardedFetch(options: GuardedFetchOptions = {}): typeof fetch {
  const policy = compilePolicy(
    OutboundConfigSchema.parse({
      ...(options.allowList !== undefined ? { allowList: options.allowList } : {}),
      ...(options.blockPrivate !== undefined ? { blockPrivate: options.blockPrivate } : {}),
    }),
  )
  const maxRedirects = options.maxRedirects ?? 5
  const resolve = options.resolve ?? defaultResolve

  return async (input: string | URL | Request, init: OutboundRequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : undefined
    let url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    let method = (init.method ?? request?.method ?? 'GET').toUpperCase()
    const headers = new Headers(init.headers ?? request?.headers)
    let body = await bodyBytes(
      init.body !== undefined ? init.body : request?.body ? await request.arrayBuffer() : undefined,
      headers,
    )
    if (body && (method === 'GET' || method === 'HEAD'))
      throw new TypeError('Request with GET/HEAD method cannot have body.')
    const redirectMode = init.redirect ?? request?.redirect ?? 'follow'
    const signal = init.signal ?? request?.signal ?? undefined
    const insecure = init.insecureSkipTLSVerify ?? false

    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new TerminalError(`unsupported URL scheme ${url.protocol} (only http and https)`)
      signal?.throwIfAborted()
      const addresses = await admit(policy, url, resolve, hop > 0)
      const response = await send(url, { method, headers, body, signal, insecure, addresses })
      const location = response.headers.get('location')
      if (!REDIRECT_STATUSES.has(response.status) || location === null || redirectMode === 'manual')
        return response
      await response.body?.cancel().catch(() => undefined)
      if (redirectMode === 'error') throw new TypeError('fetch failed: unexpected redirect')
      if (hop >= maxRedirects)
        throw new UpstreamError(`too many redirects (more than ${maxRedirects}) from ${url.origin}`)
      const next = new URL(location, url)
      const status = response.status
      if (
        (status === 303 && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET'
        body = undefined
        for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language'])
          headers.delete(name)
      }
      if (next.origin !== url.origin) {
        for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name)
      }
      url = next
    }
  }
}

async function bodyBytes(body: BodyInit | null | undefined, headers: Headers): Promise<Buffer | undefined> {
  if (body === null || body === undefined) return undefined
  if (typeof body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8')
    return Buffer.from(body, 'utf8')
  }
  if (body instanceof ArrayBuffer) return Buffer.from(body)
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  // Blob, FormData, URLSearchParams, ReadableStream: let the platform encode it (and name its content type).
  const encoded = new Response(body)
  const type = encoded.headers.get('content-type')
  if (type && !headers.has('content-type')) headers.set('content-type', type)
  return Buffer.from(await encoded.arrayBuffer())
}

interface SendInput {
  method: string
  headers: Headers
  body: Buffer | undefined
  signal: AbortSignal | undefined
  insecure: boolean
  addresses: LookupAddress[]
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void

function send(url: URL, input: SendInput): Promise<Response> {
  const outgoing: Record<string, string> = {}
  input.headers.forEach((value, name) => {
    outgoing[name] = value
  })
  if (input.body) outgoing['content-length'] ??= String(input.body.length)
  else if (['POST', 'PUT', 'PATCH'].includes(input.method)) outgoing['content-length'] ??= '0'
  const hostname = normalizeHost(url.hostname)
  // Connect only to the addresses `admit` checked.
  const lookup = (_host: string, options: { all?: boolean }, callback: LookupCallback): void => {
    const first = input.addresses[0]
    if (options.all) callback(null, input.addresses)
    else if (first) callback(null, first.address, first.family)
    else callback(new Error('no address'), '')
  }
  const secure = url.protocol === 'https:'
  const requestOptions: https.RequestOptions = {
    hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: input.method,
    headers: outgoing,
    agent: false,
    lookup,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(secure
      ? { rejectUnauthorized: !input.insecure, ...(net.isIP(hostname) ? {} : { servername: hostname }) }
      : {}),
  }
  return new Promise<Response>((resolve, reject) => {
    const req = (secure ? https : http).request(requestOptions, (res) => {
      const status = res.statusCode ?? 0
      if (status < 200 || status > 599) {
        res.destroy()
        reject(new UpstreamError(`${url.host} answered with unsupported HTTP status ${status}`, { status }))
        return
      }
      const headers = new Headers()
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        try {
          headers.append(res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '')
        } catch {
          // a header fetch would not accept either: dropped
        }
      }
      const nullBody = input.method === 'HEAD' || NULL_BODY_STATUSES.has(status)
      if (nullBody) res.resume()
      const response = new Response(nullBody ? null : webStream(decode(res, headers), input.signal), {
        status,
        statusText: res.statusMessage ?? '',
        headers,
      })
      Object.defineProperty(response, 'url', { value: url.href })
      resolve(response)
    })
    req.on('error', (error) => {
      if (input.signal?.aborted) reject(input.signal.reason)
      else reject(new TypeError('fetch failed', { cause: error }))
    })
    req.end(input.body)
  })
}

/** Undoes `Content-Encoding` as fetch does (gzip, deflate, br). */
function decode(res: http.IncomingMessage, headers: Headers): Readable {
  const encoding = (headers.get('content-encoding') ?? '').trim().toLowerCase()
  let decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined
  if (encoding === 'gzip' || encoding === 'x-gzip')
    decoder = zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH })
  else if (encoding === 'deflate') decoder = zlib.createInflate()
  else if (encoding === 'br') decoder = zlib.createBrotliDecompress()
  if (!decoder) return res
  res.on('error', (error) => decoder.destroy(error))
  return res.pipe(decoder)
}

function webStream(source: Readable, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next: IteratorResult<unknown> = await iterator.next()
        if (next.done) controller.close()
        else if (next.value instanceof Uint8Array) controller.enqueue(new Uint8Array(next.value))
        else controller.enqueue(new TextEncoder().encode(String(next.value)))
      } catch (error) {
        controller.error(signal?.aborted ? signal.reason : new TypeError('terminated', { cause: error }))
      }
    },
    cancel() {
      source.destroy()
    },
  })
}
