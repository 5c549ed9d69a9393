import { createHash } from 'node:crypto'
import type { z } from 'zod'
import { NotFoundError, UpstreamError } from '../../errors.js'
import type { Credentials } from '../types.js'
import {
  ImageConfigSchema,
  ImageIndexSchema,
  ImageManifestSchema,
  MediaTypes,
  RegistryErrorBodySchema,
  TagListSchema,
  TokenResponseSchema,
  manifestAccept,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from './manifest.js'
import { isLoopbackHost } from './reference.js'

/** What kind of registry call a request was, for counting. */
export type RegistryRequestKind = 'tags' | 'manifest' | 'blob' | 'token' | 'upload' | 'other'

/** Reported once per HTTP request sent (after it completes or fails). */
export interface RegistryRequestEvent {
  method: string
  url: string
  kind: RegistryRequestKind
  /** Absent when the request failed without a response. */
  status?: number
}

/**
 * What a client learns about auth: each registry's challenge (so later clients skip the 401 round trip) and bearer
 * tokens keyed by realm, service, scope and user. Share one across polls (e.g. module scope in a Lambda) to reuse them.
 */
export interface TokenCache {
  tokens: Map<string, { token: string; expiresAt: number }>
  challenges: Map<string, Challenge>
}

/** An empty `TokenCache`. */
export function createTokenCache(): TokenCache {
  return { tokens: new Map(), challenges: new Map() }
}

export interface RetryOptions {
  /** Retries after a 429/503 (default 3). */
  maxRetries?: number
  /** Upper bound of one wait, whatever `Retry-After` says (default 10 s). */
  maxDelayMs?: number
  /** Wait without `Retry-After`: `baseDelayMs * 2^attempt` (default 500 ms). */
  baseDelayMs?: number
  sleep?: (ms: number) => Promise<void>
}

export interface RegistryClientOptions {
  /** The host the Distribution API is served from, with port (`ghcr.io`, `127.0.0.1:5000`). */
  host: string
  /** Name used in messages (defaults to `host`; `docker.io` for Docker Hub). */
  displayName?: string
  /** Defaults to `http` for loopback hosts, else `https`. */
  scheme?: 'http' | 'https'
  credentials?: Credentials
  fetch?: typeof globalThis.fetch
  onRequest?: (event: RegistryRequestEvent) => void
  tokenCache?: TokenCache
  retry?: RetryOptions
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number
  now?: () => number
}

/** A manifest or index as read from the registry. */
export type ManifestResult =
  | { kind: 'index'; digest: string; mediaType: string; index: ImageIndex; bytes: Uint8Array }
  | { kind: 'image'; digest: string; mediaType: string; manifest: ImageManifest; bytes: Uint8Array }

export interface SendOptions {
  /** Repository the request is about: used for the token scope and in messages. */
  repository: string
  kind: RegistryRequestKind
  /** Token scope actions (default `['pull']`). */
  actions?: string[]
  headers?: Record<string, string>
  body?: Uint8Array | string
  /** Statuses returned to the caller as-is instead of thrown (e.g. 404 for an existence check). */
  passStatuses?: number[]
  /** Describes the object in a 404 message (default: "repository not found"). */
  notFound?: string
}

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  scheme: 'basic' | 'bearer'
  params: Record<string, string>
}

const defaultRetry = { maxRetries: 3, maxDelayMs: 10_000, baseDelayMs: 500 }

/**
 * A client for one OCI Distribution registry: tag listing (paginated via `Link`), manifest/index and blob reads,
 * and the anonymous / basic / bearer-token auth flows. Stateful: it remembers the auth scheme and caches tokens.
 */
export class RegistryClient {
  readonly host: string
  readonly displayName: string
  readonly baseURL: string
  private readonly credentials: Credentials | undefined
  private readonly fetchImpl: typeof globalThis.fetch
  private readonly onRequest: ((event: RegistryRequestEvent) => void) | undefined
  private readonly tokenCache: TokenCache
  private readonly retry: Required<RetryOptions>
  private readonly timeoutMs: number
  private readonly now: () => number

  constructor(options: RegistryClientOptions) {
    this.host = options.host
    this.displayName = options.displayName ?? options.host
    const scheme = options.scheme ?? (isLoopbackHost(options.host) ? 'http' : 'https')
    this.baseURL = `${scheme}://${options.host}`
    this.credentials = options.credentials
    this.fetchImpl = options.fetch ?? globalThis.fetch
    this.onRequest = options.onRequest
    this.tokenCache = options.tokenCache ?? createTokenCache()
    this.retry = {
      maxRetries: options.retry?.maxRetries ?? defaultRetry.maxRetries,
      maxDelayMs: options.retry?.maxDelayMs ?? defaultRetry.maxDelayMs,
      baseDelayMs: options.retry?.baseDelayMs ?? defaultRetry.baseDelayMs,
      sleep: options.retry?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    }
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.now = options.now ?? Date.now
  }

  /** All tags of a repository, following `Link: <…>; rel="next"` pages. `pageSize` sends `?n=`. */
  async listTags(
    repository: string,
    options: { pageSize?: number } = {},
  ): Promise<{ tags: string[]; pages: number }> {
    const tags: string[] = []
    let pages = 0
    let path: string | undefined =
      `/v2/${repository}/tags/list` + (options.pageSize !== undefined ? `?n=${options.pageSize}` : '')
    const seen = new Set<string>()
    while (path !== undefined) {
      if (seen.has(path)) {
        throw new UpstreamError(
          `registry ${this.displayName} returned a tag page link that loops (${path})`,
          {
            data: this.data(repository),
          },
        )
      }
      seen.add(path)
      const response = await this.send('GET', path, {
        repository,
        kind: 'tags',
        headers: { Accept: 'application/json' },
      })
      pages++
      const page = this.parseJSON(TagListSchema, await response.arrayBuffer(), repository, 'tag list')
      tags.push(...(page.tags ?? []))
      path = nextLink(response.headers.get('link'), this.baseURL)
    }
    return { tags, pages }
  }

  /** Reads a manifest or index by tag or digest (GET), with its digest (`Docker-Content-Digest`, else sha256 of the body). */
  async getManifest(repository: string, reference: string): Promise<ManifestResult> {
    const response = await this.send('GET', `/v2/${repository}/manifests/${reference}`, {
      repository,
      kind: 'manifest',
      headers: { Accept: manifestAccept },
      notFound: `manifest ${reference} not found`,
    })
    const bytes = new Uint8Array(await response.arrayBuffer())
    const digest = response.headers.get('docker-content-digest') ?? sha256Digest(bytes)
    const json = this.parseJSON(ManifestShapeSchema, bytes, repository, `manifest ${reference}`)
    const mediaType =
      mediaTypeOf(response.headers.get('content-type')) ??
      json.mediaType ??
      (json.manifests ? MediaTypes.ociIndex : MediaTypes.ociManifest)
    if (mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerList) {
      const index = this.parseJSON(ImageIndexSchema, bytes, repository, `index ${reference}`)
      return { kind: 'index', digest, mediaType, index, bytes }
    }
    if (mediaType === MediaTypes.ociManifest || mediaType === MediaTypes.dockerManifest) {
      const manifest = this.parseJSON(ImageManifestSchema, bytes, repository, `manifest ${reference}`)
      return { kind: 'image', digest, mediaType, manifest, bytes }
    }
    throw new UpstreamError(
      `registry ${this.displayName} returned an unsupported manifest type ${JSON.stringify(mediaType)} for ${repository}:${reference}`,
      { data: { ...this.data(repository), reference, mediaType } },
    )
  }

  /** The digest of a tag or digest reference via HEAD, or undefined when the registry does not send `Docker-Content-Digest`. */
  async headManifest(
    repository: string,
    reference: string,
  ): Promise<{ digest?: string; mediaType?: string }> {
    const response = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, {
      repository,
      kind: 'manifest',
      headers: { Accept: manifestAccept },
      notFound: `manifest ${reference} not found`,
    })
    const digest = response.headers.get('docker-content-digest') ?? undefined
    const mediaType = mediaTypeOf(response.headers.get('content-type'))
    return { ...(digest ? { digest } : {}), ...(mediaType ? { mediaType } : {}) }
  }

  /** A blob's bytes. */
  async getBlob(repository: string, digest: string): Promise<Uint8Array> {
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, {
      repository,
      kind: 'blob',
      notFound: `blob ${digest} not found`,
    })
    return new Uint8Array(await response.arrayBuffer())
  }

  /** An image config blob (for `created` and labels). */
  async getImageConfig(repository: string, digest: string): Promise<ImageConfig> {
    return this.parseJSON(
      ImageConfigSchema,
      await this.getBlob(repository, digest),
      repository,
      `config ${digest}`,
    )
  }

  /**
   * Sends one request to the registry, authenticating as the registry asks (basic, or a bearer token for
   * `repository:<name>:<actions>`), retrying 429/503 per `Retry-After`. Throws a descriptive error for any
   * non-2xx status not listed in `passStatuses`. `path` may be absolute (upload locations are).
   */
  async send(method: string, path: string, options: SendOptions): Promise<Response> {
    const url = new URL(path, this.baseURL).toString()
    const actions = options.actions ?? ['pull']
    const scope = `repository:${options.repository}:${actions.join(',')}`
    let authorization = await this.authorizationFor(scope, options.repository, undefined)
    let authRetried = false
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...options.headers }
      if (authorization) headers.Authorization = authorization
      const response = await this.rawFetch(
        url,
        { method, headers, body: options.body },
        options.kind,
        options.repository,
      )
      if (response.status === 401 && !authRetried) {
        const challenge = parseChallenge(response.headers.get('www-authenticate'))
        await discard(response)
        if (challenge) {
          this.tokenCache.challenges.set(this.host, challenge)
          authRetried = true
          // A token that was sent and refused (expired, or too narrow) is not reused.
          const refused = authorization
          authorization = await this.authorizationFor(scope, options.repository, refused)
          if (authorization !== undefined && authorization !== refused) {
            attempt--
            continue
          }
        }
        throw this.statusError(401, options, undefined)
      }
      if ((response.status === 429 || response.status === 503) && attempt < this.retry.maxRetries) {
        const delay = this.retryDelay(response.headers.get('retry-after'), attempt)
        await discard(response)
        await this.retry.sleep(delay)
        continue
      }
      if (response.ok || options.passStatuses?.includes(response.status)) return response
      const body = method === 'HEAD' ? undefined : await response.arrayBuffer().catch(() => undefined)
      throw this.statusError(response.status, options, body, response.headers.get('retry-after'))
    }
  }

  /** The Authorization header for a scope once the registry's challenge is known: basic, a cached token, or a new token. */
  private async authorizationFor(
    scope: string,
    repository: string,
    refused: string | undefined,
  ): Promise<string | undefined> {
    const challenge = this.tokenCache.challenges.get(this.host)
    if (!challenge) return undefined
    if (challenge.scheme === 'basic') {
      return this.credentials ? basicAuth(this.credentials) : undefined
    }
    const realm = challenge.params.realm
    if (!realm) return undefined
    const service = challenge.params.service
    const who = this.credentials
      ? createHash('sha256').update(`${this.credentials.username}:${this.credentials.password}`).digest('hex')
      : ''
    const key = [realm, service ?? '', scope, who].join('|')
    const cached = this.tokenCache.tokens.get(key)
    if (cached && cached.expiresAt > this.now() && `Bearer ${cached.token}` !== refused)
      return `Bearer ${cached.token}`
    const token = await this.fetchToken(realm, service, scope, repository)
    this.tokenCache.tokens.set(key, {
      token: token.token,
      expiresAt: this.now() + Math.max(token.expiresInSec - 10, 1) * 1000,
    })
    return `Bearer ${token.token}`
  }

  private async fetchToken(
    realm: string,
    service: string | undefined,
    scope: string,
    repository: string,
  ): Promise<{ token: string; expiresInSec: number }> {
    const url = new URL(realm)
    if (service) url.searchParams.set('service', service)
    url.searchParams.append('scope', scope)
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (this.credentials) headers.Authorization = basicAuth(this.credentials)
    const response = await this.rawFetch(
      url.toString(),
      { method: 'GET', headers },
      'token',
      repository,
      url.host,
    )
    if (response.status === 401 || response.status === 403) {
      await discard(response)
      throw new UpstreamError(
        `${response.status} from the token service of registry ${this.displayName} for ${repository}: check image credentials`,
        { status: response.status, data: { ...this.data(repository), realm: url.origin + url.pathname } },
      )
    }
    if (!response.ok) {
      await discard(response)
      throw new UpstreamError(
        `${response.status} from the token service of registry ${this.displayName} (${url.host}) for ${repository}`,
        { status: response.status, data: this.data(repository) },
      )
    }
    const body = this.parseJSON(
      TokenResponseSchema,
      await response.arrayBuffer(),
      repository,
      'token response',
    )
    const token = body.token ?? body.access_token ?? ''
    // Docker's token spec: tokens without expires_in last 60 seconds.
    return { token, expiresInSec: body.expires_in ?? 60 }
  }

  private async rawFetch(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: Uint8Array | string | undefined },
    kind: RegistryRequestKind,
    repository: string,
    hostForMessage = this.displayName,
  ): Promise<Response> {
    let response: Response
    try {
      response = await this.fetchImpl(url, {
        method: init.method,
        headers: init.headers,
        ...(init.body !== undefined
          ? { body: typeof init.body === 'string' ? init.body : new Uint8Array(init.body) }
          : {}),
        redirect: 'follow',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (error) {
      this.onRequest?.({ method: init.method, url, kind })
      throw new UpstreamError(`registry ${hostForMessage} is unreachable: ${networkReason(error)}`, {
        cause: error,
        data: this.data(repository),
      })
    }
    this.onRequest?.({ method: init.method, url, kind, status: response.status })
    return response
  }

  private retryDelay(retryAfter: string | null, attempt: number): number {
    const parsed = parseRetryAfter(retryAfter, this.now())
    const delay = parsed ?? this.retry.baseDelayMs * 2 ** attempt
    return Math.min(Math.max(delay, 0), this.retry.maxDelayMs)
  }

  private statusError(
    status: number,
    options: SendOptions,
    body: ArrayBuffer | undefined,
    retryAfter?: string | null,
  ): Error {
    const where = `from registry ${this.displayName} for ${options.repository}`
    const data = this.data(options.repository)
    if (status === 401) {
      return new UpstreamError(`401 ${where}: check image credentials`, { status, data })
    }
    if (status === 403) {
      return new UpstreamError(`403 ${where}: access denied; check image credentials`, { status, data })
    }
    if (status === 404) {
      return new NotFoundError(`404 ${where}: ${options.notFound ?? 'repository not found'}`, {
        data: { ...data, status },
      })
    }
    const detail = registryErrorDetail(body)
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(retryAfter ?? null, this.now())
      return new UpstreamError(`429 ${where}: rate limited${detail ? ` (${detail})` : ''}; retry later`, {
        status,
        data: { ...data, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
      })
    }
    return new UpstreamError(`${status} ${where}${detail ? `: ${detail}` : ''}`, { status, data })
  }

  private parseJSON<T extends z.ZodType>(
    schema: T,
    bytes: ArrayBuffer | Uint8Array,
    repository: string,
    what: string,
  ): z.infer<T> {
    let value: unknown
    try {
      value = JSON.parse(new TextDecoder().decode(bytes))
    } catch (error) {
      throw new UpstreamError(
        `registry ${this.displayName} sent a ${what} for ${repository} that is not JSON`,
        {
          cause: error,
          data: this.data(repository),
        },
      )
    }
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      throw new UpstreamError(
        `registry ${this.displayName} sent an unexpected ${what} for ${repository}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        { cause: parsed.error, data: this.data(repository) },
      )
    }
    return parsed.data
  }

  private data(repository: string): Record<string, unknown> {
    return { registry: this.displayName, repository }
  }
}

const ManifestShapeSchema = ImageIndexSchema.partial().loose()

/** `sha256:<hex>` of bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

function basicAuth(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
}

function mediaTypeOf(contentType: string | null): string | undefined {
  const type = contentType?.split(';')[0]?.trim()
  return type && type !== 'application/json' && type !== 'text/plain' && type !== 'application/octet-stream'
    ? type
    : undefined
}

async function discard(response: Response): Promise<void> {
  try {
    await response.arrayBuffer()
  } catch {
    // the body is not needed
  }
}

function networkReason(error: unknown): string {
  const cause = error instanceof Error ? (error.cause ?? error) : error
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code
    if (error instanceof Error && error.name === 'TimeoutError') return 'the request timed out'
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message
  }
  return String(cause)
}

function registryErrorDetail(body: ArrayBuffer | undefined): string | undefined {
  if (!body || body.byteLength === 0) return undefined
  try {
    const parsed = RegistryErrorBodySchema.safeParse(JSON.parse(new TextDecoder().decode(body)))
    const first = parsed.success ? parsed.data.errors?.[0] : undefined
    if (first) return [first.code, first.message].filter(Boolean).join(': ')
  } catch {
    // not JSON: no detail
  }
  return undefined
}

/** Parses a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header)
  if (!match) return undefined
  const scheme = match[1]?.toLowerCase()
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined
  const params: Record<string, string> = {}
  const paramPattern = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g
  for (const m of (match[2] ?? '').matchAll(paramPattern)) {
    const name = m[1]
    if (name) params[name.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')
  }
  return { scheme, params }
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date. Undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(date - now, 0)
}

/** The `rel="next"` target of a `Link` header, as a path-and-query on the registry (or an absolute URL). */
export function nextLink(header: string | null, baseURL: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)$/s.exec(part.trim())
    if (m && /rel\s*=\s*"?next"?/i.test(m[2] ?? '')) {
      const target = new URL(m[1] ?? '', baseURL)
      return target.origin === new URL(baseURL).origin ? target.pathname + target.search : target.toString()
    }
  }
  return undefined
}
