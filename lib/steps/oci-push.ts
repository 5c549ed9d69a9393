import { z } from 'zod'
import {
  MediaTypes,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
} from '../discovery/oci/manifest.js'
import { parseRepositoryURL } from '../discovery/oci/reference.js'
import { RegistryClient, sha256Digest, type ManifestResult } from '../discovery/oci/registry-client.js'
import { TerminalError, TugboatError, UpstreamError, ValidationError, messageOf } from '../errors.js'
import { goQuote } from '../expressions/go-strconv.js'
import { guardedFetch, type OutboundRequestInit } from '../net/outbound.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `oci-push`: copies an image, an index (every platform) or any OCI artifact such as a Helm chart from `srcRef` to
 * `destRef`, or retags it in place, with the plain Distribution API: blobs the destination lacks are mounted from
 * the source repository when both live on one registry, else streamed across in 16 MiB chunks; then child manifests
 * are PUT by digest and the top manifest by the destination tag. Without annotations the manifest bytes (and so the
 * digest) are unchanged. `annotations` keys prefixed `index:` go on the index, `manifest:` or unprefixed ones on
 * every image manifest (children of an index get new digests, and the index points at them). Like Kargo, a
 * cross-repository copy larger than MAX_OCI_PUSH_ARTIFACT_SIZE (default 1 GiB; -1 = no limit, 0 = cross-repository
 * copies disabled) is refused. `oci://` references use `helm` credentials, others `image` credentials.
 * Output: `{ image, digest, tag }`.
 */

const REF_PATTERN = /^(oci:\/\/)?[a-zA-Z0-9._-]+(:\d+)?(\/[a-zA-Z0-9._-]+)*[@:][a-zA-Z0-9._:-]+$/
const DEST_PATTERN = /^(oci:\/\/)?[a-zA-Z0-9._-]+(:\d+)?(\/[a-zA-Z0-9._-]+)*[:][a-zA-Z0-9._-]+$/

/** Mirrors `oci-push-config.json`. */
export const OCIPushConfigSchema = z.strictObject({
  srcRef: z
    .string()
    .min(1)
    .regex(REF_PATTERN, 'must be registry/repository:tag or registry/repository@digest'),
  destRef: z.string().min(1).regex(DEST_PATTERN, 'must be registry/repository:tag'),
  annotations: z.record(z.string(), z.string()).optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
})
export type OCIPushConfig = z.infer<typeof OCIPushConfigSchema>

/** A parsed `[oci://]registry/repository(:tag|@digest)`. */
export interface OCIReference {
  /** `helm` for `oci://` references (Kargo's convention), else `image`. */
  credType: 'image' | 'helm'
  /** Registry as written (`docker.io` for Docker Hub). */
  registry: string
  /** Host the API is called on. */
  apiHost: string
  repository: string
  scheme: 'http' | 'https'
  tag?: string
  digest?: string
}

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

/** Parses an OCI reference as go-containerregistry does (no tag and no digest means `latest`). */
export function parseOCIReference(raw: string, field: string): OCIReference {
  const credType = raw.startsWith('oci://') ? 'helm' : 'image'
  let rest = raw.replace(/^oci:\/\//, '')
  let tag: string | undefined
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest) || (digest.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/.test(digest)))
      throw new TerminalError(`${field} ${goQuote(raw)} has an invalid digest`)
  } else {
    const colon = rest.lastIndexOf(':')
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.slice(colon + 1)
      rest = rest.slice(0, colon)
      if (!TAG.test(tag)) throw new TerminalError(`${field} ${goQuote(raw)} has an invalid tag`)
    }
  }
  let location
  try {
    location = parseRepositoryURL(rest)
  } catch (error) {
    throw new TerminalError(`${field} ${goQuote(raw)} is not a valid reference: ${messageOf(error)}`)
  }
  if (!location.repository.split('/').every((part) => NAME_COMPONENT.test(part)))
    throw new TerminalError(`${field} ${goQuote(raw)}: repository names must be lowercase`)
  return {
    credType,
    registry: location.registry,
    apiHost: location.apiHost,
    repository: location.repository,
    scheme: location.scheme,
    ...(digest ? { digest } : { tag: tag ?? 'latest' }),
  }
}

/** `registry/repository` as go-containerregistry prints it (Docker Hub as `index.docker.io`). */
export function repositoryName(ref: OCIReference): string {
  return `${ref.registry === 'docker.io' ? 'index.docker.io' : ref.registry}/${ref.repository}`
}

/** The URL credentials are looked up by: `registry/repository`, with `oci://` for Helm (as Kargo asks). */
export function credentialsURL(ref: OCIReference): string {
  const base = `${ref.registry}/${ref.repository}`
  return ref.credType === 'helm' ? `oci://${base}` : base
}

/** A registry client for a reference, authenticated with the project's credentials for it. */
export async function registryClientFor(
  ctx: StepContext,
  ref: OCIReference,
  insecureSkipTLSVerify: boolean,
): Promise<RegistryClient> {
  const found = await ctx.credentials(ref.credType, credentialsURL(ref))
  const credentials =
    found && (found.username || found.password)
      ? { username: found.username ?? '', password: found.password ?? '' }
      : undefined
  let fetchImpl: typeof fetch | undefined
  if (insecureSkipTLSVerify) {
    const insecure = guardedFetch()
    fetchImpl = (input, init) => {
      const withFlag: OutboundRequestInit = { ...init, insecureSkipTLSVerify: true }
      return insecure(input, withFlag)
    }
  }
  return new RegistryClient({
    host: ref.apiHost,
    displayName: ref.registry,
    scheme: ref.scheme,
    ...(credentials ? { credentials } : {}),
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    // Blob reads stream through this timeout, so it must cover a large layer.
    timeoutMs: 5 * 60_000,
  })
}

const IMAGE_TYPES = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest])
const INDEX_TYPES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerList])
const CHUNK_BYTES = 16 << 20
const DEFAULT_MAX_ARTIFACT_SIZE = 1 << 30

const LimitEnvSchema = z.object({
  MAX_OCI_PUSH_ARTIFACT_SIZE: z
    .string()
    .regex(/^-?\d+$/, 'must be a whole number of bytes (-1 for no limit)')
    .optional(),
})

/** Kargo's `MAX_OCI_PUSH_ARTIFACT_SIZE`: bytes a cross-repository copy may move (-1: no limit, 0: none allowed). */
export function maxArtifactSizeFromEnv(env: Record<string, string | undefined>): number {
  const parsed = LimitEnvSchema.safeParse(env)
  if (!parsed.success)
    throw new ValidationError(`MAX_OCI_PUSH_ARTIFACT_SIZE ${parsed.error.issues[0]?.message ?? 'is invalid'}`)
  const value = parsed.data.MAX_OCI_PUSH_ARTIFACT_SIZE
  return value === undefined ? DEFAULT_MAX_ARTIFACT_SIZE : Number(value)
}

export interface OCIPushOptions {
  /** Overrides `MAX_OCI_PUSH_ARTIFACT_SIZE` (read from the environment on each run otherwise). */
  maxArtifactSize?: number
  /** Chunk size of streamed blob uploads (tests make it small). */
  chunkBytes?: number
}

/** Builds the `oci-push` step. */
export function createOCIPush(options: OCIPushOptions = {}): Step<OCIPushConfig> {
  return {
    kind: 'oci-push',
    config: OCIPushConfigSchema,
    requires: ['credentials'],
    defaultTimeoutMs: 10 * 60_000,
    run: (ctx, cfg) => runPush(ctx, cfg, options),
  }
}

/** The `oci-push` step. Output: `{ image, digest, tag }`. */
export const ociPush: Step<OCIPushConfig> = createOCIPush()

interface Copy {
  src: RegistryClient
  dst: RegistryClient
  srcRef: OCIReference
  dstRef: OCIReference
  chunkBytes: number
  manifests: Map<string, ManifestResult>
  stats: { uploaded: number; mounted: number; present: number }
}

async function runPush(ctx: StepContext, cfg: OCIPushConfig, options: OCIPushOptions): Promise<StepResult> {
  const srcRef = parseOCIReference(cfg.srcRef, 'srcRef')
  const dstRef = parseOCIReference(cfg.destRef, 'destRef')
  const insecure = cfg.insecureSkipTLSVerify ?? false
  const src = await registryClientFor(ctx, srcRef, insecure)
  const dst = await registryClientFor(ctx, dstRef, insecure)
  const copy: Copy = {
    src,
    dst,
    srcRef,
    dstRef,
    chunkBytes: options.chunkBytes ?? CHUNK_BYTES,
    manifests: new Map(),
    stats: { uploaded: 0, mounted: 0, present: 0 },
  }
  const wrap = (what: string, error: unknown): TugboatError => {
    const message = `oci-push step: ${what}: ${messageOf(error)}`
    if (error instanceof TerminalError) return new TerminalError(message, { data: error.data, cause: error })
    if (error instanceof UpstreamError && error.data.mediaType !== undefined)
      return new TerminalError(message, { data: error.data, cause: error })
    const data = error instanceof TugboatError ? error.data : {}
    return new UpstreamError(message, { data, cause: error })
  }

  let top: ManifestResult
  try {
    top = await sourceManifest(copy, srcRef.digest ?? srcRef.tag ?? 'latest')
  } catch (error) {
    throw wrap(`failed to get source artifact ${goQuote(cfg.srcRef)}`, error)
  }

  const sameRepository = repositoryName(srcRef) === repositoryName(dstRef)
  if (!sameRepository) {
    const limit = options.maxArtifactSize ?? maxArtifactSizeFromEnv(process.env)
    if (limit === 0) throw new TerminalError('oci-push step: cross-repository push is disabled')
    if (limit > 0) {
      let size: number
      try {
        size = await artifactSize(copy, top)
      } catch (error) {
        throw wrap('failed to compute the artifact size', error)
      }
      if (size > limit)
        throw new TerminalError(
          `oci-push step: compressed artifact size ${formatBytes(size)} exceeds maximum allowed size of ${formatBytes(limit)}`,
        )
    }
  }

  const scopes = annotationScopes(cfg.annotations ?? {})
  const tag = dstRef.tag ?? 'latest'
  let digest: string
  try {
    digest =
      top.kind === 'image'
        ? (await copyImage(copy, top, scopes.manifest, tag)).digest
        : await copyIndex(copy, top, scopes, tag)
  } catch (error) {
    throw wrap(`failed to push to ${goQuote(cfg.destRef)}`, error)
  }
  const { uploaded, mounted, present } = copy.stats
  ctx.log(
    `pushed ${repositoryName(dstRef)}:${tag} (${digest}); blobs: ${uploaded} copied, ${mounted} mounted, ${present} already there`,
  )
  return { status: 'Succeeded', output: { image: `${repositoryName(dstRef)}:${tag}`, digest, tag } }
}

async function sourceManifest(copy: Copy, reference: string): Promise<ManifestResult> {
  const cached = copy.manifests.get(reference)
  if (cached) return cached
  const result = await copy.src.getManifest(copy.srcRef.repository, reference)
  copy.manifests.set(reference, result)
  return result
}

/** Config plus layer sizes, summed over every image of an index (manifests are read; no blob is). */
async function artifactSize(copy: Copy, result: ManifestResult): Promise<number> {
  if (result.kind === 'image') return imageSize(result.manifest)
  let total = 0
  for (const child of result.index.manifests) {
    if (
      child.mediaType !== undefined &&
      !IMAGE_TYPES.has(child.mediaType) &&
      !INDEX_TYPES.has(child.mediaType)
    ) {
      total += child.size ?? 0
      continue
    }
    total += await artifactSize(copy, await sourceManifest(copy, child.digest))
  }
  return total
}

function imageSize(manifest: ImageManifest): number {
  return (
    (manifest.config.size ?? 0) + (manifest.layers ?? []).reduce((sum, layer) => sum + (layer.size ?? 0), 0)
  )
}

/** Splits annotation keys by scope: `index:` → the index; `manifest:` or no prefix → image manifests. */
export function annotationScopes(annotations: Record<string, string>): {
  index: Record<string, string>
  manifest: Record<string, string>
} {
  const index: Record<string, string> = {}
  const manifest: Record<string, string> = {}
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith('index:')) index[key.slice('index:'.length)] = value
    else if (key.startsWith('manifest:')) manifest[key.slice('manifest:'.length)] = value
    else manifest[key] = value
  }
  return { index, manifest }
}

async function copyImage(
  copy: Copy,
  image: Extract<ManifestResult, { kind: 'image' }>,
  annotations: Record<string, string>,
  tag: string | undefined,
): Promise<{ digest: string; size: number }> {
  for (const blob of [image.manifest.config, ...(image.manifest.layers ?? [])]) await ensureBlob(copy, blob)
  const bytes = withAnnotations(image.bytes, annotations)
  const digest = await putManifest(copy, tag, manifestMediaType(image), bytes)
  return { digest, size: bytes.byteLength }
}

async function copyIndex(
  copy: Copy,
  index: Extract<ManifestResult, { kind: 'index' }>,
  scopes: { index: Record<string, string>; manifest: Record<string, string> },
  tag: string | undefined,
): Promise<string> {
  const rewritten = new Map<string, { digest: string; size: number }>()
  for (const child of index.index.manifests) {
    const type = child.mediaType
    if (type !== undefined && !IMAGE_TYPES.has(type) && !INDEX_TYPES.has(type)) {
      // Neither an image nor an index (e.g. an attached artifact's blob): copied as a blob, as ggcr does.
      await ensureBlob(copy, child)
      continue
    }
    const manifest = await sourceManifest(copy, child.digest)
    if (manifest.kind === 'index') {
      await copyIndex(copy, manifest, { index: {}, manifest: {} }, undefined)
      continue
    }
    const pushed = await copyImage(copy, manifest, scopes.manifest, undefined)
    if (pushed.digest !== child.digest) rewritten.set(child.digest, pushed)
  }
  const bytes = rewriteIndex(index.bytes, scopes.index, rewritten)
  return putManifest(copy, tag, manifestMediaType(index), bytes)
}

function manifestMediaType(result: ManifestResult): string {
  const declared = result.kind === 'image' ? result.manifest.mediaType : result.index.mediaType
  return declared ?? result.mediaType
}

const JsonObjectSchema = z.record(z.string(), z.unknown())
const DescriptorListSchema = z.array(z.record(z.string(), z.unknown()))

function parseObject(bytes: Uint8Array): Record<string, unknown> {
  return JsonObjectSchema.parse(JSON.parse(new TextDecoder().decode(bytes)))
}

function mergeAnnotations(document: Record<string, unknown>, annotations: Record<string, string>): void {
  const existing = z
    .record(z.string(), z.string())
    .catch({})
    .parse(document.annotations ?? {})
  const merged: Record<string, string> = { ...existing, ...annotations }
  // Sorted keys, as Go's encoding/json writes maps.
  document.annotations = Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((key) => [key, merged[key]]),
  )
}

/** The manifest with `annotations` merged in (the original bytes when there are none). */
export function withAnnotations(bytes: Uint8Array, annotations: Record<string, string>): Uint8Array {
  if (Object.keys(annotations).length === 0) return bytes
  const document = parseObject(bytes)
  mergeAnnotations(document, annotations)
  return new TextEncoder().encode(JSON.stringify(document))
}

function rewriteIndex(
  bytes: Uint8Array,
  annotations: Record<string, string>,
  rewritten: Map<string, { digest: string; size: number }>,
): Uint8Array {
  if (Object.keys(annotations).length === 0 && rewritten.size === 0) return bytes
  const document = parseObject(bytes)
  const manifests = DescriptorListSchema.parse(document.manifests ?? [])
  for (const descriptor of manifests) {
    const replacement = typeof descriptor.digest === 'string' ? rewritten.get(descriptor.digest) : undefined
    if (replacement) {
      descriptor.digest = replacement.digest
      descriptor.size = replacement.size
    }
  }
  document.manifests = manifests
  if (Object.keys(annotations).length > 0) mergeAnnotations(document, annotations)
  return new TextEncoder().encode(JSON.stringify(document))
}

async function putManifest(
  copy: Copy,
  tag: string | undefined,
  mediaType: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = sha256Digest(bytes)
  const repository = copy.dstRef.repository
  const response = await copy.dst.send('PUT', `/v2/${repository}/manifests/${tag ?? digest}`, {
    repository,
    kind: 'upload',
    actions: ['pull', 'push'],
    headers: { 'Content-Type': mediaType },
    body: bytes,
  })
  await response.arrayBuffer()
  return digest
}

/** Makes sure the destination has a blob: already there, mounted from the source repository, or streamed across. */
async function ensureBlob(copy: Copy, blob: Descriptor): Promise<void> {
  const repository = copy.dstRef.repository
  const options = { repository, kind: 'upload' as const, actions: ['pull', 'push'] }
  const head = await copy.dst.send('HEAD', `/v2/${repository}/blobs/${blob.digest}`, {
    ...options,
    kind: 'blob',
    passStatuses: [404],
  })
  await head.arrayBuffer()
  if (head.status === 200) {
    copy.stats.present++
    return
  }
  let location: string | null = null
  if (copy.srcRef.apiHost === copy.dstRef.apiHost && copy.srcRef.repository !== repository) {
    const query = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(copy.srcRef.repository)}`
    const mount = await copy.dst.send('POST', `/v2/${repository}/blobs/uploads/?${query}`, options)
    await mount.arrayBuffer()
    if (mount.status === 201) {
      copy.stats.mounted++
      return
    }
    // 202: the registry would not mount (e.g. the token lacks pull on the source) and opened an upload instead.
    location = mount.headers.get('location')
  }
  if (location === null) {
    const start = await copy.dst.send('POST', `/v2/${repository}/blobs/uploads/`, options)
    await start.arrayBuffer()
    location = start.headers.get('location')
  }
  if (location === null) throw new UpstreamError(`registry ${copy.dstRef.registry} gave no upload location`)
  const source = await copy.src.send('GET', `/v2/${copy.srcRef.repository}/blobs/${blob.digest}`, {
    repository: copy.srcRef.repository,
    kind: 'blob',
    notFound: `blob ${blob.digest} not found`,
  })
  await uploadStream(copy, location, source.body, blob.digest)
  copy.stats.uploaded++
}

/** Uploads a stream: one PUT when it fits one chunk, else PATCH chunks and a closing PUT. */
async function uploadStream(
  copy: Copy,
  location: string,
  body: ReadableStream<Uint8Array> | null,
  digest: string,
): Promise<void> {
  const repository = copy.dstRef.repository
  const options = { repository, kind: 'upload' as const, actions: ['pull', 'push'] }
  let target = new URL(location, copy.dst.baseURL)
  let offset = 0
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  const flush = async (): Promise<void> => {
    const chunk = concat(pending, pendingBytes)
    const response = await copy.dst.send('PATCH', target.toString(), {
      ...options,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${offset}-${offset + chunk.byteLength - 1}`,
      },
      body: chunk,
    })
    await response.arrayBuffer()
    offset += chunk.byteLength
    pending = []
    pendingBytes = 0
    const next = response.headers.get('location')
    if (next) target = new URL(next, copy.dst.baseURL)
  }
  if (body) {
    const reader = body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      pending.push(value)
      pendingBytes += value.byteLength
      if (pendingBytes >= copy.chunkBytes) await flush()
    }
  }
  target.searchParams.set('digest', digest)
  const last = concat(pending, pendingBytes)
  const response = await copy.dst.send('PUT', target.toString(), {
    ...options,
    headers: { 'Content-Type': 'application/octet-stream' },
    body: last,
  })
  await response.arrayBuffer()
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.byteLength
  }
  return out
}

/** Kargo's `FormatByteCount`: `1.0 GiB`, `12.5 MiB`, `512 bytes`. */
function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`
  return `${bytes} bytes`
}

/** Exposed for oci-download: an index child for a platform (a child without one counts as linux/amd64, as in ggcr). */
export function childForPlatform(
  index: ImageIndex,
  os: string,
  architecture: string,
): Descriptor | undefined {
  return index.manifests.find((child) => {
    const platform = child.platform ?? { os: 'linux', architecture: 'amd64' }
    return platform.os === os && platform.architecture === architecture
  })
}
