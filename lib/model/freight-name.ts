import { createHash } from 'node:crypto'
import { compareBytewise, goToLower, joinPath } from './go-compat.js'
import { formatGoURL, hasQueryParams, parseGoURL, parseGoURLBytes, toBytes } from './go-url.js'

/**
 * Freight names and the URL normalisation they depend on, as Kargo computes them (`pkg/api/freight.go`,
 * `pkg/urls`). Equal inputs must give Kargo's exact name, so every quirk below is deliberate.
 */

export interface FreightCommitRef {
  repoURL: string
  id: string
  /** Part of the name when set: one commit tagged twice is two pieces of Freight. */
  tag?: string
  subscriptionName?: string
}

export interface FreightImageRef {
  /** Used as given (not normalised). */
  repoURL: string
  tag: string
  digest?: string
  subscriptionName?: string
}

export interface FreightChartRef {
  repoURL: string
  name: string
  version: string
  subscriptionName?: string
}

/** A generic artifact reference (Kargo `ArtifactReference`). */
export interface FreightArtifactRef {
  artifactType: string
  subscriptionName: string
  version: string
}

export interface FreightContents {
  commits?: readonly FreightCommitRef[]
  images?: readonly FreightImageRef[]
  charts?: readonly FreightChartRef[]
  artifacts?: readonly FreightArtifactRef[]
}

/**
 * Go's `unicode.IsPrint` is letters, marks, numbers, punctuation, symbols and the ASCII space. Kargo strips every
 * other rune (BOMs, zero-width spaces, tabs, newlines, other spaces) anywhere, then trims spaces at the ends.
 */
export function sanitizeURL(url: string): string {
  return url.replace(/[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu, '').replace(/^ +| +$/g, '')
}

function trimSuffix(s: string, suffix: string): string {
  return s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s
}

// Kargo's (deprecated) SCP form: [user@]host[:path].
const SCP = /^((?:[\w-]+@)?[\w-]+(?:\.[\w-]+)*)(?::(.*))?$/

/**
 * Kargo `urls.NormalizeGit`: lowercase, strip non-printable runes; for http(s) drop user info; for http(s) and ssh
 * trim one trailing `/` then `.git`; turn SCP form (`git@host:org/repo`) into `ssh://git@host/org/repo`.
 * URLs with query parameters, and anything it cannot parse, come back unchanged.
 */
export function normalizeGitURL(url: string): string {
  const repo = sanitizeURL(goToLower(url))
  const http = repo.startsWith('http://') || repo.startsWith('https://')
  if (http || repo.startsWith('ssh://')) {
    const u = parseGoURL(repo)
    if (u === null || hasQueryParams(u.rawQuery)) return url
    if (http) u.user = null
    u.path = trimSuffix(trimSuffix(u.path, '/'), '.git')
    return formatGoURL(u)
  }
  const m = SCP.exec(repo)
  if (!m) return url
  const pathURL = parseGoURL(m[2] ?? '')
  if (pathURL === null) return url
  pathURL.path = trimSuffix(trimSuffix(pathURL.path, '/'), '.git')
  if (pathURL.path === '') return `ssh://${m[1] ?? ''}`
  return `ssh://${m[1] ?? ''}/${formatGoURL(pathURL)}`
}

const TAG_CHARS = /^[A-Za-z0-9_.-]*$/
const REPOSITORY_CHARS = /^[a-z0-9_\-./]*$/
const DEFAULT_REGISTRY = 'index.docker.io'

interface ImageRepository {
  registry: string
  repository: string
}

function runeCount(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

// go-containerregistry `name.NewRegistry` validity: `//name` parses as a URL whose host is exactly `name`.
function validRegistry(name: string): boolean {
  const u = parseGoURLBytes(`//${toBytes(name)}`)
  return u !== null && u.host === toBytes(name)
}

// go-containerregistry (v0.21.7) `name.NewRepository` with weak validation.
function newRepository(name: string): ImageRepository | null {
  if (name === '') return null
  let registry = ''
  let repository = name
  const slash = name.indexOf('/')
  if (slash >= 0) {
    const maybe = name.slice(0, slash)
    if (maybe === 'localhost' || maybe.includes('.') || maybe.includes(':')) {
      registry = maybe
      repository = name.slice(slash + 1)
    }
  }
  const length = runeCount(repository)
  if (length < 2 || length > 255 || !REPOSITORY_CHARS.test(repository)) return null
  if (!validRegistry(registry)) return null
  const reg = registry === '' || registry === 'docker.io' ? DEFAULT_REGISTRY : registry
  const implicitNamespace = !repository.includes('/') && reg === DEFAULT_REGISTRY
  return { registry: reg, repository: implicitNamespace ? `library/${repository}` : repository }
}

// `name.NewTag`: an optional `:tag` that is not part of a `host:port/` prefix.
function newTagRepository(name: string): ImageRepository | null {
  const parts = name.split(':')
  let base = name
  const last = parts[parts.length - 1] ?? ''
  if (parts.length > 1 && !last.includes('/')) {
    if (last === '' || runeCount(last) > 128 || !TAG_CHARS.test(last)) return null
    base = parts.slice(0, -1).join(':')
  }
  return newRepository(base)
}

// `name.NewDigest`: exactly one `@`, then `sha256:` and 64 lowercase hex digits.
function newDigestRepository(name: string): ImageRepository | null {
  const parts = name.split('@')
  if (parts.length !== 2) return null
  const [base = '', digest = ''] = parts
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return null
  const tagged = newTagRepository(base)
  return newRepository(tagged === null ? base : `${tagged.registry}/${tagged.repository}`)
}

/**
 * Kargo `urls.NormalizeImage`: lowercase; Docker Hub forms (`docker.io/library/x`, `index.docker.io/x`,
 * `registry-1.docker.io/x`, `library/x`) become `x`; other registries keep `host/repo`; a tag or digest is dropped.
 * Input that is not an image reference comes back unchanged.
 */
export function normalizeImageURL(url: string): string {
  const s = sanitizeURL(goToLower(url))
  const ref = newTagRepository(s) ?? newDigestRepository(s)
  if (ref === null) return url
  if (ref.registry === DEFAULT_REGISTRY || ref.registry === 'registry-1.docker.io') {
    return ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository
  }
  return `${ref.registry}/${ref.repository}`
}

/**
 * Kargo `urls.NormalizeChart`: strip non-printable runes, lowercase, drop `oci://`, then normalise as an image
 * repository (so `oci://docker.io/x/y` is `x/y`). HTTP(S) repository URLs do not parse as image references and
 * come back lowercased and sanitised.
 */
export function normalizeChartURL(url: string): string {
  const s = sanitizeURL(url)
  if (parseGoURL(s) === null) return url
  const lower = goToLower(s)
  return normalizeImageURL(lower.startsWith('oci://') ? lower.slice('oci://'.length) : lower)
}

function named(base: string, subscriptionName: string | undefined): string {
  return subscriptionName ? `${base}:${subscriptionName}` : base
}

/** The parts Kargo hashes into a Freight name (unsorted). */
export function freightHashParts(contents: FreightContents): string[] {
  const parts: string[] = []
  for (const c of contents.commits ?? []) {
    const base = c.tag
      ? `${normalizeGitURL(c.repoURL)}:${c.tag}:${c.id}`
      : `${normalizeGitURL(c.repoURL)}:${c.id}`
    parts.push(named(base, c.subscriptionName))
  }
  for (const i of contents.images ?? []) {
    parts.push(named(`${i.repoURL}:${i.tag}@${i.digest ?? ''}`, i.subscriptionName))
  }
  for (const c of contents.charts ?? []) {
    // path.Join cleans, so `https://x` + `c` becomes `https:/x/c`, exactly as Kargo hashes it.
    parts.push(named(`${joinPath(normalizeChartURL(c.repoURL), c.name)}:${c.version}`, c.subscriptionName))
  }
  for (const a of contents.artifacts ?? []) {
    parts.push(`${a.artifactType}:${a.subscriptionName}:${a.version}`)
  }
  return parts
}

/**
 * Kargo's Freight name for what a Warehouse found: the lowercase hex SHA-1 of
 * `"Warehouse/<warehouse>:" + sorted(parts).join("|")`. Order of the inputs does not matter.
 */
export function freightName(warehouse: string, contents: FreightContents): string {
  const parts = freightHashParts(contents).sort(compareBytewise)
  return createHash('sha1')
    .update(`Warehouse/${warehouse}:${parts.join('|')}`, 'utf8')
    .digest('hex')
}
