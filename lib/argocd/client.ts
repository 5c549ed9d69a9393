import http from 'node:http'
import https from 'node:https'
import { z } from 'zod'
import { UpstreamError, ValidationError, messageOf } from '../errors.js'
import { normalizeRootPath, normalizeServerURL, type ArgoCDConfig } from './config.js'
import { argoCDErrorFromResponse, type ArgoCDRequestContext } from './errors.js'
import {
  ApplicationListSchema,
  ApplicationSchema,
  RuntimeErrorSchema,
  type Application,
  type Info,
} from './schemas.js'

/** How to build an {@link ArgoCDClient}. `fetch` is injectable; it is not used in insecure mode. */
export interface ArgoCDClientOptions {
  /** `https://argocd.example.com` (a bare host means https). */
  server: string
  /** A project-role or apiKey JWT, sent as `Authorization: Bearer`. Never logged. */
  token: string
  /** Skip TLS verification (self-signed servers). Uses node:https instead of fetch. */
  insecureSkipTLSVerify?: boolean
  /** The server's `--rootpath`, e.g. `/argocd`. */
  rootPath?: string
  fetch?: typeof fetch
  /** Per-request time limit; default 30 s. */
  requestTimeoutMs?: number
}

/** Where an app lives: `namespace` is Argo CD's `appNamespace`; give `project` to tell "absent" (404) from "forbidden". */
export interface AppLocation {
  namespace?: string
  project?: string
  signal?: AbortSignal
}

/** An RFC 6902 operation, for `patchType: 'json'`. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy'
  path: string
  value?: unknown
  from?: string
}

export type PatchApplicationOptions = AppLocation &
  (
    | { patchType?: 'merge'; patch: Record<string, unknown> }
    | { patchType: 'json'; patch: JsonPatchOperation[] }
  )

/** The sync request. `revision` is for single-source apps; `revisions` + 1-based `sourcePositions` for multi-source. */
export interface SyncApplicationOptions extends AppLocation {
  revision?: string
  revisions?: string[]
  sourcePositions?: number[]
  /** Tags copied into the operation (`operationState.operation.info`); use them to recognise your own syncs. */
  infos?: Info[]
  prune?: boolean
  dryRun?: boolean
  /** Replaces the app's `syncPolicy.syncOptions` for this operation; omit to use the app's. */
  syncOptions?: string[]
}

const DEFAULT_TIMEOUT_MS = 30_000

interface RawResponse {
  status: number
  text: string
}

/** A bearer-token client for the Argo CD API server's application routes (`/api/v1/applications/...`). */
export class ArgoCDClient {
  /** The server's base URL (no credentials), safe to show. */
  readonly server: string
  readonly #baseURL: string
  readonly #token: string
  readonly #fetch: typeof fetch | undefined
  readonly #agent: https.Agent | undefined
  readonly #timeoutMs: number

  constructor(options: ArgoCDClientOptions) {
    if (!options.token) throw new ValidationError('an Argo CD token is required', { path: 'token' })
    const server = normalizeServerURL(options.server)
    const url = new URL(server)
    url.username = ''
    url.password = ''
    this.server = url.toString().replace(/\/+$/, '')
    this.#baseURL = server + (normalizeRootPath(options.rootPath) ?? '')
    this.#token = options.token
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS
    if (options.insecureSkipTLSVerify) {
      // Node's fetch cannot skip verification without undici's dispatcher; use node:https for this mode.
      this.#fetch = undefined
      this.#agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false })
    } else {
      this.#fetch = options.fetch ?? globalThis.fetch
      this.#agent = undefined
    }
  }

  /** Builds a client from {@link ArgoCDConfig} (see `argoCDConfigFromEnv`). */
  static fromConfig(
    config: ArgoCDConfig,
    extra: Pick<ArgoCDClientOptions, 'fetch' | 'requestTimeoutMs'> = {},
  ) {
    return new ArgoCDClient({ ...config, ...extra })
  }

  /** `GET /api/v1/applications/{name}`. Without `project`, a missing app is a 403 (ForbiddenError), not a 404. */
  async getApplication(
    name: string,
    options: AppLocation & { refresh?: 'normal' | 'hard' } = {},
  ): Promise<Application> {
    const ctx = { action: 'get', app: name, namespace: options.namespace, project: options.project }
    const body = await this.#request('GET', `/api/v1/applications/${encodeURIComponent(name)}`, {
      query: { appNamespace: options.namespace, project: options.project, refresh: options.refresh },
      ctx,
      signal: options.signal,
    })
    return parseResponse(ApplicationSchema, body, ctx)
  }

  /** `GET /api/v1/applications?selector=...`: apps the token may see (RBAC silently hides the others). */
  async listApplications(
    options: { selector?: string; namespace?: string; projects?: string[]; signal?: AbortSignal } = {},
  ): Promise<Application[]> {
    const ctx = { action: 'list', namespace: options.namespace }
    const body = await this.#request('GET', '/api/v1/applications', {
      query: { selector: options.selector, appNamespace: options.namespace, projects: options.projects },
      ctx,
      signal: options.signal,
    })
    return parseResponse(ApplicationListSchema, body, ctx).items ?? []
  }

  /**
   * `PATCH /api/v1/applications/{name}`: a merge patch (default) or a JSON patch of the whole app. Argo CD keeps
   * only `spec`, labels, annotations and finalizers, and validates the result against the repo-server.
   */
  async patchApplication(name: string, options: PatchApplicationOptions): Promise<Application> {
    const ctx = { action: 'patch', app: name, namespace: options.namespace, project: options.project }
    const body = await this.#request('PATCH', `/api/v1/applications/${encodeURIComponent(name)}`, {
      body: {
        name,
        ...(options.namespace ? { appNamespace: options.namespace } : {}),
        ...(options.project ? { project: options.project } : {}),
        patchType: options.patchType ?? 'merge',
        // The server wants the patch as a JSON *string*.
        patch: JSON.stringify(options.patch),
      },
      ctx,
      signal: options.signal,
    })
    return parseResponse(ApplicationSchema, body, ctx)
  }

  /**
   * `POST /api/v1/applications/{name}/sync`. Returns the app with `operation` set; it does not wait.
   * Throws OperationInProgressError when another operation runs, SyncWindowBlockedError inside a deny window.
   */
  async syncApplication(name: string, options: SyncApplicationOptions = {}): Promise<Application> {
    const ctx = { action: 'sync', app: name, namespace: options.namespace, project: options.project }
    const revisions = options.revisions ?? []
    const positions = options.sourcePositions ?? []
    // Argo CD panics (HTTP 500) on uneven arrays and answers 500 on out-of-range positions; say it here instead.
    if (revisions.length !== positions.length) {
      throw new ValidationError('sync: revisions and sourcePositions must have the same length', {
        path: 'sourcePositions',
      })
    }
    if (positions.some((p) => !Number.isInteger(p) || p < 1)) {
      throw new ValidationError('sync: sourcePositions are 1-based integers', { path: 'sourcePositions' })
    }
    const body = await this.#request('POST', `/api/v1/applications/${encodeURIComponent(name)}/sync`, {
      body: {
        name,
        ...(options.namespace ? { appNamespace: options.namespace } : {}),
        ...(options.project ? { project: options.project } : {}),
        ...(options.revision ? { revision: options.revision } : {}),
        // int64 travels as a JSON number, whatever the swagger says.
        ...(revisions.length > 0 ? { revisions, sourcePositions: positions } : {}),
        ...(options.infos?.length ? { infos: options.infos } : {}),
        ...(options.prune !== undefined ? { prune: options.prune } : {}),
        ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
        ...(options.syncOptions ? { syncOptions: { items: options.syncOptions } } : {}),
      },
      ctx,
      signal: options.signal,
    })
    return parseResponse(ApplicationSchema, body, ctx)
  }

  /** `DELETE /api/v1/applications/{name}/operation`: asks the controller to stop the running operation. */
  async terminateOperation(name: string, options: AppLocation = {}): Promise<void> {
    const ctx = {
      action: 'terminate the operation of',
      app: name,
      namespace: options.namespace,
      project: options.project,
    }
    await this.#request('DELETE', `/api/v1/applications/${encodeURIComponent(name)}/operation`, {
      query: { appNamespace: options.namespace, project: options.project },
      ctx,
      signal: options.signal,
    })
  }

  toJSON(): { server: string } {
    return { server: this.server }
  }

  async #request(
    method: string,
    path: string,
    options: {
      query?: Record<string, string | string[] | undefined>
      body?: unknown
      ctx: ArgoCDRequestContext
      signal?: AbortSignal | undefined
    },
  ): Promise<unknown> {
    const url = new URL(this.#baseURL + path)
    for (const [key, value] of Object.entries(options.query ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) {
        if (item !== undefined && item !== '') url.searchParams.append(key, item)
      }
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#token}`,
      accept: 'application/json',
    }
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    if (payload !== undefined) headers['content-type'] = 'application/json'
    const timeout = AbortSignal.timeout(this.#timeoutMs)
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout

    let response: RawResponse
    try {
      response = this.#fetch
        ? await viaFetch(this.#fetch, url, { method, headers, body: payload, signal })
        : await viaNode(url, { method, headers, body: payload, signal, agent: this.#agent })
    } catch (cause) {
      if (options.signal?.aborted) throw cause
      const reason = timeout.aborted ? `no answer within ${this.#timeoutMs} ms` : describeNetworkError(cause)
      throw new UpstreamError(
        `could not reach Argo CD at ${this.server} to ${describeTarget(options.ctx)}: ${reason}`,
        {
          cause,
          data: { server: this.server },
        },
      )
    }

    const json = parseJSON(response.text)
    if (response.status < 200 || response.status > 299) {
      const parsed = RuntimeErrorSchema.safeParse(json)
      throw argoCDErrorFromResponse(response.status, parsed.success ? parsed.data : undefined, options.ctx)
    }
    if (json === undefined && response.text.trim() !== '') {
      throw new UpstreamError(
        `Argo CD answered ${describeTarget(options.ctx)} with a body that is not JSON (HTTP ${response.status})`,
        { status: response.status },
      )
    }
    return json
  }
}

function parseResponse<T extends z.ZodType>(
  schema: T,
  body: unknown,
  ctx: ArgoCDRequestContext,
): z.output<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError(
      `Argo CD answered ${describeTarget(ctx)} with an unexpected shape: ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    )
  }
  return parsed.data
}

function describeTarget(ctx: ArgoCDRequestContext): string {
  if (!ctx.app) return `${ctx.action} applications`
  return `${ctx.action} app "${ctx.namespace ? `${ctx.namespace}/` : ''}${ctx.app}"`
}

function parseJSON(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined
  const code = (cause ?? error) as { code?: unknown }
  const detail = cause ? messageOf(cause) : messageOf(error)
  return typeof code.code === 'string' && !detail.includes(code.code) ? `${code.code} ${detail}` : detail
}

interface SendInit {
  method: string
  headers: Record<string, string>
  body: string | undefined
  signal: AbortSignal
}

async function viaFetch(fetchImpl: typeof fetch, url: URL, init: SendInit): Promise<RawResponse> {
  const response = await fetchImpl(url, {
    method: init.method,
    headers: init.headers,
    signal: init.signal,
    ...(init.body !== undefined ? { body: init.body } : {}),
  })
  return { status: response.status, text: await response.text() }
}

function viaNode(url: URL, init: SendInit & { agent: https.Agent | undefined }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const isHTTPS = url.protocol === 'https:'
    const send = isHTTPS ? https.request : http.request
    const request = send(
      url,
      {
        method: init.method,
        headers: {
          ...init.headers,
          ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}),
        },
        signal: init.signal,
        ...(isHTTPS && init.agent ? { agent: init.agent } : {}),
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    if (init.body !== undefined) request.write(init.body)
    request.end()
  })
}
