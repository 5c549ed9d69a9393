import { compareBytewise } from '../model/go-compat.js'
import { parseConstraint } from './constraint.js'
import { compareVersions, parseVersion, type Version } from './version.js'

export interface SelectSemverOptions {
  /** A Masterminds constraint; empty or absent means none. Invalid text throws a ValidationError. */
  constraint?: string
  /** Kargo's `strictSemvers` (default true in Kargo's API; the caller decides). */
  strict: boolean
  /** Keep at most this many (Kargo's `discoveryLimit`); absent or <= 0 keeps all. */
  limit?: number
}

/**
 * Newest-first order as Kargo's selectors sort: by precedence, then equal precedence by the original text,
 * descending byte-wise (`v1.0.0` before `1.0.0`; `1.0.0+b` before `1.0.0+a` before `1.0.0`).
 */
export function compareVersionsDesc(a: Version, b: Version): number {
  return compareVersions(b, a) || compareBytewise(b.original, a.original)
}

/** Sort anything that carries a version newest-first (see `compareVersionsDesc`); returns a new array. */
export function sortByVersionDesc<T>(items: readonly T[], versionOf: (item: T) => Version): T[] {
  return items
    .map((item) => ({ item, version: versionOf(item) }))
    .sort((a, b) => compareVersionsDesc(a.version, b.version))
    .map(({ item }) => item)
}

/**
 * Kargo's SemVer selection over tags: keep tags that parse (strictly or loosely) and satisfy the constraint,
 * newest first, cut to `limit`. Returns the original tag texts.
 */
export function selectSemver(tags: readonly string[], opts: SelectSemverOptions): string[] {
  const constraint = opts.constraint ? parseConstraint(opts.constraint) : undefined
  const versions: Version[] = []
  for (const tag of tags) {
    const version = parseVersion(tag, { strict: opts.strict })
    if (version !== null && (constraint === undefined || constraint.matches(version))) versions.push(version)
  }
  versions.sort(compareVersionsDesc)
  const limited = opts.limit !== undefined && opts.limit > 0 ? versions.slice(0, opts.limit) : versions
  return limited.map((v) => v.original)
}

/** Kargo's Lexical order: byte-wise descending (never `localeCompare`); returns a new array. */
export function sortLexicalDesc(tags: readonly string[]): string[] {
  return [...tags].sort((a, b) => compareBytewise(b, a))
}

/**
 * Kargo's NewestBuild order: created time descending, ties broken by tag descending (byte-wise). `createdAt` may be
 * epoch milliseconds or, for Go's nanosecond precision, epoch nanoseconds as a bigint (use one unit throughout).
 */
export function sortNewestBuildDesc<T>(
  items: readonly T[],
  key: { createdAt: (item: T) => number | bigint; tag: (item: T) => string },
): T[] {
  return items
    .map((item) => ({ item, at: key.createdAt(item), tag: key.tag(item) }))
    .sort((a, b) => (a.at === b.at ? compareBytewise(b.tag, a.tag) : a.at < b.at ? 1 : -1))
    .map(({ item }) => item)
}
