import { NotFoundError, TugboatError, ValidationError } from '../errors.js'
import { compareBytewise } from '../model/go-compat.js'
import { tagFilter } from '../regex/re2.js'
import { selectSemver, sortLexicalDesc } from '../semver/index.js'
import type { Descriptor, ImageIndex, ImageManifest } from './oci/manifest.js'
import { parseRepositoryURL } from './oci/reference.js'
import {
  RegistryClient,
  type ManifestResult,
  type RegistryRequestEvent,
  type RetryOptions,
  type TokenCache,
} from './oci/registry-client.js'
import { checkSemverConstraint, parseSubscriptionWith, rejectDeprecatedTagFilters } from './subscription.js'
import {
  ImageSubscriptionSchema,
  type Credentials,
  type DiscoveredImageReference,
  type ImageDiscoveryResult,
  type ImageSubscription,
  type ImageSubscriptionInput,
  type RequestStats,
} from './types.js'

/** What an earlier poll learned about a tag; tags are treated as immutable once known (Digest strategy excepted). */
export interface KnownImage {
  digest: string
  createdAt?: string
  annotations?: Record<string, string>
}

export interface ImageDiscoveryDeps {
  credentials?: Credentials
  /** Tag → what an earlier poll saw. Known tags are not re-read (except the Digest strategy's mutable tag). */
  known?: Map<string, KnownImage>
  fetch?: typeof globalThis.fetch
  now?: () => number
  /** Called for every HTTP request (tests and benchmarks count them). */
  onRequest?: (event: RegistryRequestEvent) => void
  /** Share across polls to reuse bearer tokens. */
  tokenCache?: TokenCache
  retry?: RetryOptions
  /** Sends `?n=` on tag listing (the registry's default page size otherwise). */
  tagPageSize?: number
  /** Parallel manifest reads (default 8). */
  concurrency?: number
}

const createdKeys = ['org.opencontainers.image.created', 'org.label-schema.build-date']

/**
 * Discovers the newest revisions of an image repository per the subscription's strategy, newest first, at most
 * `discoveryLimit`. Requests per poll: tag-list pages + one manifest read per selected tag not in `known` (NewestBuild
 * reads every unknown candidate, plus its config blob).
 */
export async function discoverImages(
  input: ImageSubscriptionInput,
  deps: ImageDiscoveryDeps = {},
): Promise<ImageDiscoveryResult> {
  const sub = parseSubscription(input)
  const location = parseRepositoryURL(sub.repoURL)
  const stats: RequestStats = { requests: 0, tagPages: 0, manifestReads: 0, blobReads: 0, authRequests: 0 }
  const client = new RegistryClient({
    host: location.apiHost,
    displayName: location.registry,
    scheme: location.scheme,
    ...(deps.credentials ? { credentials: deps.credentials } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.tokenCache ? { tokenCache: deps.tokenCache } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
    onRequest: (event) => {
      stats.requests++
      // A request answered with an auth challenge counts as auth, not as a read.
      if (event.kind === 'token' || event.status === 401) stats.authRequests++
      else if (event.kind === 'manifest') stats.manifestReads++
      else if (event.kind === 'blob') stats.blobReads++
      deps.onRequest?.(event)
    },
  })
  const ctx: Context = {
    client,
    repository: location.repository,
    platform: sub.platform ? parsePlatform(sub.platform) : undefined,
    known: deps.known ?? new Map(),
    concurrency: Math.max(deps.concurrency ?? 8, 1),
  }
  const constraint = (sub.constraint ?? '') !== '' ? sub.constraint : sub.semverConstraint
  const result = (
    references: DiscoveredImageReference[],
    dated?: DiscoveredImageReference[],
  ): ImageDiscoveryResult => ({
    repoURL: sub.repoURL,
    ...(sub.platform ? { platform: sub.platform } : {}),
    references,
    ...(dated ? { dated } : {}),
    stats,
  })
  try {
    if (sub.imageSelectionStrategy === 'Digest') {
      return result(await selectDigest(ctx, sub.constraint ?? ''))
    }
    const listed = await client.listTags(
      location.repository,
      deps.tagPageSize !== undefined ? { pageSize: deps.tagPageSize } : {},
    )
    stats.tagPages = listed.pages
    const allowed = listed.tags.filter(
      tagFilter({
        ...(sub.allowTagsRegexes ? { allowTagsRegexes: sub.allowTagsRegexes } : {}),
        ...(sub.ignoreTagsRegexes ? { ignoreTagsRegexes: sub.ignoreTagsRegexes } : {}),
      }),
    )
    switch (sub.imageSelectionStrategy) {
      case 'SemVer': {
        const ordered = selectSemver(allowed, {
          ...(constraint ? { constraint } : {}),
          strict: sub.strictSemvers,
        })
        return result(await readInOrder(ctx, ordered, sub.discoveryLimit))
      }
      case 'Lexical':
        return result(await readInOrder(ctx, sortLexicalDesc(allowed), sub.discoveryLimit))
      case 'NewestBuild': {
        const dated = await dateAll(ctx, allowed)
        return result(dated.slice(0, sub.discoveryLimit), dated)
      }
    }
  } catch (error) {
    throw wrap(error, sub.repoURL)
  }
}

/** Parses and checks a subscription the way Kargo validates it before discovery. */
export function parseSubscription(input: ImageSubscriptionInput): ImageSubscription {
  const sub = parseSubscriptionWith(ImageSubscriptionSchema, 'image', input)
  rejectDeprecatedTagFilters(sub)
  if (sub.imageSelectionStrategy === 'Digest' && (sub.constraint ?? '') === '') {
    throw new ValidationError(
      'constraint must name the tag to follow when imageSelectionStrategy is Digest',
      { path: 'constraint' },
    )
  }
  if (sub.imageSelectionStrategy === 'SemVer') {
    const text = (sub.constraint ?? '') !== '' ? sub.constraint : sub.semverConstraint
    if (text) checkSemverConstraint(text, (sub.constraint ?? '') !== '' ? 'constraint' : 'semverConstraint')
  }
  return sub
}

interface Platform {
  os: string
  arch: string
  variant: string
}

interface Context {
  client: RegistryClient
  repository: string
  platform: Platform | undefined
  known: Map<string, KnownImage>
  concurrency: number
}

/** A resolved image: undefined `reference` means "exists, but not for the wanted platform". */
interface Resolved {
  reference?: DiscoveredImageReference
  /** Full-precision creation time for sorting. */
  createdMs?: number
}

function parsePlatform(text: string): Platform {
  const [os = '', arch = '', variant = ''] = text.split('/', 3)
  return { os, arch, variant }
}

/** Digest strategy: the tag in `constraint` is mutable, so its digest is always re-read (HEAD first when known). */
async function selectDigest(ctx: Context, tag: string): Promise<DiscoveredImageReference[]> {
  const known = ctx.known.get(tag)
  try {
    if (known) {
      const head = await ctx.client.headManifest(ctx.repository, tag)
      if (head.digest === known.digest) return [{ tag, ...known }]
    }
    const resolved = await resolveTag(ctx, tag, false)
    return resolved.reference ? [resolved.reference] : []
  } catch (error) {
    if (error instanceof NotFoundError) return []
    throw error
  }
}

/** SemVer / Lexical: walk the ordered tags, reading only unknown ones, until `limit` images matched. */
async function readInOrder(
  ctx: Context,
  ordered: string[],
  limit: number,
): Promise<DiscoveredImageReference[]> {
  const found: DiscoveredImageReference[] = []
  let next = 0
  while (found.length < limit && next < ordered.length) {
    // Read just as many as are still missing, in parallel; more only if some do not match the platform.
    const batch = ordered.slice(next, next + (limit - found.length))
    next += batch.length
    const resolved = await mapLimit(batch, ctx.concurrency, async (tag) => {
      const known = ctx.known.get(tag)
      if (known) return { reference: { tag, ...known } } satisfies Resolved
      return resolveTag(ctx, tag, false)
    })
    for (const r of resolved) {
      if (r.reference && found.length < limit) found.push(r.reference)
    }
  }
  return found
}

/** NewestBuild: every candidate's creation time is needed (known tags carry theirs); all of them, newest first. */
async function dateAll(ctx: Context, tags: string[]): Promise<DiscoveredImageReference[]> {
  const resolved = await mapLimit(tags, ctx.concurrency, async (tag): Promise<Resolved> => {
    const known = ctx.known.get(tag)
    if (known?.createdAt !== undefined) {
      const ms = Date.parse(known.createdAt)
      if (!Number.isNaN(ms)) return { reference: { tag, ...known }, createdMs: ms }
    }
    return resolveTag(ctx, tag, true)
  })
  const images = resolved.filter(
    (r): r is Required<Resolved> => r.reference !== undefined && r.createdMs !== undefined,
  )
  images.sort((a, b) => b.createdMs - a.createdMs || compareBytewise(b.reference.tag, a.reference.tag))
  return images.map((r) => r.reference)
}

/** Reads a tag's manifest (and, when `needCreated`, what it takes to date it) into a reference. */
async function resolveTag(ctx: Context, tag: string, needCreated: boolean): Promise<Resolved> {
  const top = await ctx.client.getManifest(ctx.repository, tag)
  return top.kind === 'index'
    ? resolveIndex(ctx, tag, top, needCreated)
    : resolveImage(ctx, tag, top.digest, top.manifest, needCreated)
}

async function resolveImage(
  ctx: Context,
  tag: string,
  digest: string,
  manifest: ImageManifest,
  needCreated: boolean,
): Promise<Resolved> {
  // Kargo: a single-platform manifest carries no platform list, so a platform constraint never matches it.
  if (ctx.platform) return {}
  const createdMs = await imageCreated(ctx, manifest, needCreated)
  return {
    reference: reference(tag, digest, manifest.annotations, createdMs),
    ...(createdMs !== undefined ? { createdMs } : {}),
  }
}

async function resolveIndex(
  ctx: Context,
  tag: string,
  top: Extract<ManifestResult, { kind: 'index' }>,
  needCreated: boolean,
): Promise<Resolved> {
  const index: ImageIndex = top.index
  // Entries without a real platform are attestations or other artifacts, not images.
  const images = index.manifests.filter(
    (d) =>
      d.platform?.os &&
      d.platform.os !== 'unknown' &&
      d.platform.architecture &&
      d.platform.architecture !== 'unknown',
  )
  if (images.length === 0) {
    throw new ValidationError(
      `image ${ctx.repository}:${tag} is an index with no platform images, which is not supported`,
      {
        data: { tag, digest: top.digest },
      },
    )
  }
  let chosen: Descriptor[] = images
  let annotations = index.annotations
  if (ctx.platform) {
    const p = ctx.platform
    const match = images.find(
      (d) =>
        d.platform?.os === p.os &&
        d.platform.architecture === p.arch &&
        (d.platform.variant ?? '') === p.variant,
    )
    if (!match) return {}
    chosen = [match]
    if (match.annotations) annotations = { ...index.annotations, ...match.annotations }
  }
  let createdMs = createdFrom(index.annotations)
  if (createdMs === undefined && needCreated) {
    // An index has no config of its own: it cannot be older than the newest image it references.
    for (const d of chosen) {
      let ms = createdFrom(d.annotations)
      if (ms === undefined) {
        const child = await ctx.client.getManifest(ctx.repository, d.digest)
        if (child.kind === 'image') ms = await imageCreated(ctx, child.manifest, true)
      }
      if (ms !== undefined && (createdMs === undefined || ms > createdMs)) createdMs = ms
    }
  }
  return {
    reference: reference(tag, top.digest, annotations, createdMs),
    ...(createdMs !== undefined ? { createdMs } : {}),
  }
}

/** An image's creation time: a `created` annotation wins; else the later of the config's `created` and a created label. */
async function imageCreated(
  ctx: Context,
  manifest: ImageManifest,
  needCreated: boolean,
): Promise<number | undefined> {
  const annotated = createdFrom(manifest.annotations)
  if (annotated !== undefined || !needCreated) return annotated
  const config = await ctx.client.getImageConfig(ctx.repository, manifest.config.digest)
  const configMs = config.created ? Date.parse(config.created) : Number.NaN
  const labelMs = createdFrom(config.config?.Labels ?? undefined)
  const base = Number.isNaN(configMs) ? undefined : configMs
  if (labelMs !== undefined && (base === undefined || labelMs > base)) return labelMs
  return base ?? 0
}

function createdFrom(metadata: Record<string, string> | undefined): number | undefined {
  if (!metadata) return undefined
  for (const key of createdKeys) {
    const value = metadata[key]
    if (value !== undefined && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
      const ms = Date.parse(value)
      if (!Number.isNaN(ms)) return ms
    }
  }
  return undefined
}

function reference(
  tag: string,
  digest: string,
  annotations: Record<string, string> | undefined,
  createdMs: number | undefined,
): DiscoveredImageReference {
  return {
    tag,
    digest,
    ...(createdMs !== undefined ? { createdAt: rfc3339(createdMs) } : {}),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
  }
}

/** RFC 3339 in UTC with second precision, as Kubernetes serialises times. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

function wrap(error: unknown, repoURL: string): unknown {
  if (error instanceof TugboatError) {
    if (error.data.repoURL === undefined) Object.assign(error.data, { repoURL })
    return error
  }
  return error
}
