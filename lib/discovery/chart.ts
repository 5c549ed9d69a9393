import { parse as parseYAML } from 'yaml'
import { z } from 'zod'
import { NotFoundError, UpstreamError, ValidationError } from '../errors.js'
import { selectSemver } from '../semver/index.js'
import { parseRepositoryURL } from './oci/reference.js'
import {
  RegistryClient,
  type RegistryRequestEvent,
  type RetryOptions,
  type TokenCache,
} from './oci/registry-client.js'
import { checkSemverConstraint, parseSubscriptionWith } from './subscription.js'
import {
  ChartSubscriptionSchema,
  type ChartDiscoveryResult,
  type ChartSubscription,
  type ChartSubscriptionInput,
  type Credentials,
} from './types.js'

export interface ChartDiscoveryDeps {
  credentials?: Credentials
  fetch?: typeof globalThis.fetch
  onRequest?: (event: RegistryRequestEvent) => void
  tokenCache?: TokenCache
  retry?: RetryOptions
  /** Sends `?n=` when listing OCI tags. */
  tagPageSize?: number
  timeoutMs?: number
}

const RepoIndexSchema = z.object({
  entries: z
    .record(
      z.string(),
      z.array(z.object({ version: z.union([z.string(), z.number()]).optional() }).nullable()).nullable(),
    )
    .nullish(),
})

/**
 * Discovers a chart's versions, newest first, at most `discoveryLimit`: from `<repoURL>/index.yaml` (versions parsed
 * leniently, like Masterminds' NewVersion) or from an `oci://` repository's tags (parsed strictly after `_` → `+`).
 */
export async function discoverCharts(
  input: ChartSubscriptionInput,
  deps: ChartDiscoveryDeps = {},
): Promise<ChartDiscoveryResult> {
  const sub = parseChartSubscription(input)
  const stats = { requests: 0 }
  const onRequest = (event: RegistryRequestEvent): void => {
    stats.requests++
    deps.onRequest?.(event)
  }
  const constraint = sub.semverConstraint ? sub.semverConstraint : undefined
  const versions = sub.repoURL.startsWith('oci://')
    ? await ociVersions(sub, deps, onRequest)
    : await httpVersions(sub, deps, onRequest)
  const selected = selectSemver(versions.candidates, {
    ...(constraint ? { constraint } : {}),
    strict: versions.strict,
    limit: sub.discoveryLimit,
  })
  return {
    repoURL: sub.repoURL,
    ...(sub.name ? { name: sub.name } : {}),
    ...(constraint ? { semverConstraint: constraint } : {}),
    versions: selected.slice(0, sub.discoveryLimit),
    stats,
  }
}

/** Parses and checks a chart subscription as Kargo does (name required for HTTP repositories, forbidden for OCI). */
export function parseChartSubscription(input: ChartSubscriptionInput): ChartSubscription {
  const sub = parseSubscriptionWith(ChartSubscriptionSchema, 'chart', input)
  const oci = sub.repoURL.startsWith('oci://')
  if (oci && (sub.name ?? '') !== '') {
    throw new ValidationError(
      'name must be empty when repoURL is an oci:// chart (the URL names the chart)',
      { path: 'name' },
    )
  }
  if (!oci && (sub.name ?? '') === '') {
    throw new ValidationError('name is required when repoURL is an HTTP(S) chart repository', {
      path: 'name',
    })
  }
  if (sub.semverConstraint) checkSemverConstraint(sub.semverConstraint, 'semverConstraint')
  return sub
}

async function ociVersions(
  sub: ChartSubscription,
  deps: ChartDiscoveryDeps,
  onRequest: (event: RegistryRequestEvent) => void,
): Promise<{ candidates: string[]; strict: boolean }> {
  const location = parseRepositoryURL(sub.repoURL.slice('oci://'.length).replace(/\/+$/, ''))
  const client = new RegistryClient({
    host: location.apiHost,
    displayName: location.registry,
    scheme: location.scheme,
    onRequest,
    ...(deps.credentials ? { credentials: deps.credentials } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.tokenCache ? { tokenCache: deps.tokenCache } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
  })
  const { tags } = await client.listTags(
    location.repository,
    deps.tagPageSize !== undefined ? { pageSize: deps.tagPageSize } : {},
  )
  // OCI tags cannot hold "+", so Helm writes SemVer build metadata with "_".
  return { candidates: tags.map((tag) => tag.replaceAll('_', '+')), strict: true }
}

async function httpVersions(
  sub: ChartSubscription,
  deps: ChartDiscoveryDeps,
  onRequest: (event: RegistryRequestEvent) => void,
): Promise<{ candidates: string[]; strict: boolean }> {
  const indexURL = `${sub.repoURL.replace(/\/+$/, '')}/index.yaml`
  const host = new URL(indexURL).host
  const headers: Record<string, string> = { Accept: 'application/x-yaml, text/yaml, */*' }
  if (deps.credentials) {
    headers.Authorization = `Basic ${Buffer.from(`${deps.credentials.username}:${deps.credentials.password}`).toString('base64')}`
  }
  const fetchImpl = deps.fetch ?? globalThis.fetch
  let response: Response
  try {
    response = await fetchImpl(indexURL, {
      headers,
      redirect: 'follow',
      signal: AbortSignal.timeout(deps.timeoutMs ?? 30_000),
    })
  } catch (error) {
    onRequest({ method: 'GET', url: indexURL, kind: 'other' })
    const cause = error instanceof Error ? (error.cause ?? error) : error
    const code = cause instanceof Error ? (cause as Error & { code?: unknown }).code : undefined
    throw new UpstreamError(
      `chart repository ${host} is unreachable: ${typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause)}`,
      { cause: error, data: { repoURL: sub.repoURL } },
    )
  }
  onRequest({ method: 'GET', url: indexURL, kind: 'other', status: response.status })
  const body = await response.text()
  const data = { repoURL: sub.repoURL, status: response.status }
  if (response.status === 401 || response.status === 403) {
    throw new UpstreamError(
      `${response.status} from chart repository ${host}: check chart repository credentials`,
      {
        status: response.status,
        data,
      },
    )
  }
  if (response.status === 404)
    throw new NotFoundError(`404 from chart repository ${host}: no index.yaml at ${indexURL}`, { data })
  if (!response.ok)
    throw new UpstreamError(`${response.status} from chart repository ${host} reading ${indexURL}`, {
      status: response.status,
      data,
    })
  let index: z.infer<typeof RepoIndexSchema>
  try {
    // The failsafe schema keeps every scalar a string, so `version: 1.0` stays "1.0" as in Go's YAML decoding.
    index = RepoIndexSchema.parse(parseYAML(body, { schema: 'failsafe' }))
  } catch (error) {
    throw new UpstreamError(`chart repository ${host} sent an index.yaml that cannot be read`, {
      cause: error,
      data,
    })
  }
  const entries = index.entries?.[sub.name ?? ''] ?? []
  const candidates = entries.flatMap((e) => (e?.version !== undefined ? [String(e.version)] : []))
  return { candidates, strict: false }
}
