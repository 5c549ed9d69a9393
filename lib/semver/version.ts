/**
 * Semantic versions as Go's Masterminds/semver v3 parses and orders them (what Kargo uses), not node-semver.
 * Numeric parts are bigints bounded by uint64, as in Go, so `20231001` or `18446744073709551615` keep their value.
 */

/** A parsed version. `original` is the exact text it came from, which is what Kargo reports. */
export interface Version {
  readonly major: bigint
  readonly minor: bigint
  readonly patch: bigint
  /** Without the leading `-`; `''` when there is none. */
  readonly prerelease: string
  /** Without the leading `+`; `''` when there is none. */
  readonly metadata: string
  readonly original: string
}

export interface ParseVersionOptions {
  /** Kargo's `strictSemvers`: strip one leading `v`, then require strict SemVer 2.0. */
  strict: boolean
}

const UINT64_MAX_TEXT = '18446744073709551615'

/** Go's `strconv.ParseUint(s, 10, 64)` for a string of digits; null on overflow or when not all digits. */
export function parseUint64(digits: string): bigint | null {
  if (!/^[0-9]+$/.test(digits)) return null
  const significant = digits.replace(/^0+(?=.)/, '')
  if (
    significant.length > UINT64_MAX_TEXT.length ||
    (significant.length === UINT64_MAX_TEXT.length && significant > UINT64_MAX_TEXT)
  ) {
    return null
  }
  return BigInt(significant)
}

// Prerelease identifiers: numeric ones without leading zeros, or alphanumerics (Masterminds validatePrerelease).
const PRE =
  '(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*'
const META = '[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*'
// Masterminds looseSemVerRegex (NewVersion's coercion: any digits, minor and patch optional, one optional `v`).
const LOOSE = new RegExp(`^v?([0-9]+)(?:\\.([0-9]+))?(?:\\.([0-9]+))?(?:-(${PRE}))?(?:\\+(${META}))?$`)
// Masterminds StrictNewVersion: all three parts, no leading zeros, no `v`.
const NUM = '(0|[1-9][0-9]*)'
const STRICT = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE}))?(?:\\+(${META}))?$`)

// For a run of digits: up to 15 is exact as a double and far below 2^64.
function digitsToUint64(digits: string | undefined): bigint | null {
  if (digits === undefined) return 0n
  return digits.length <= 15 ? BigInt(Number(digits)) : parseUint64(digits)
}

function build(m: RegExpExecArray | null, original: string): Version | null {
  if (m === null) return null
  const major = digitsToUint64(m[1])
  const minor = digitsToUint64(m[2])
  const patch = digitsToUint64(m[3])
  if (major === null || minor === null || patch === null) return null
  return { major, minor, patch, prerelease: m[4] ?? '', metadata: m[5] ?? '', original }
}

/** Masterminds `NewVersion` (with its default coercion): `1` → 1.0.0, `v1.2` → 1.2.0, `01.2.3` → 1.2.3. */
export function parseLooseVersion(text: string): Version | null {
  return build(LOOSE.exec(text), text)
}

/**
 * Masterminds `StrictNewVersion`: exactly SemVer 2.0, no `v`, no leading zeros, all three parts.
 * Helm OCI chart tags go through this after `_` is replaced with `+`.
 */
export function parseStrictVersion(text: string): Version | null {
  return build(STRICT.exec(text), text)
}

/**
 * Parse a tag as Kargo does (`pkg/controller/semver.Parse`). Loose: Masterminds' coercion. Strict: the loose parse
 * must succeed and the text, minus one leading `v`, must be strict SemVer 2.0 (which implies the former, with the
 * same parts). Null when the tag is not a version.
 */
export function parseVersion(text: string, opts: ParseVersionOptions): Version | null {
  if (!opts.strict) return parseLooseVersion(text)
  return build(STRICT.exec(text.startsWith('v') ? text.slice(1) : text), text)
}

// Masterminds comparePrePart: numeric identifiers (that fit uint64) sort below alphanumeric ones.
function comparePrePart(s: string, o: string): number {
  if (s === o) return 0
  if (s === '') return -1
  if (o === '') return 1
  const si = parseUint64(s)
  const oi = parseUint64(o)
  if (si === null && oi === null) return s > o ? 1 : -1
  if (oi === null) return -1
  if (si === null) return 1
  return si > oi ? 1 : -1
}

/** Masterminds' prerelease comparison (dot-separated identifiers; numeric below alphanumeric). */
export function comparePrerelease(a: string, b: string): number {
  const as = a.split('.')
  const bs = b.split('.')
  const n = Math.max(as.length, bs.length)
  for (let i = 0; i < n; i++) {
    const d = comparePrePart(as[i] ?? '', bs[i] ?? '')
    if (d !== 0) return d
  }
  return 0
}

/** SemVer precedence: -1, 0 or 1. Build metadata is ignored; a prerelease sorts below its release. */
export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1
  if (a.prerelease === b.prerelease) return 0
  if (a.prerelease === '') return 1
  if (b.prerelease === '') return -1
  return comparePrerelease(a.prerelease, b.prerelease)
}

/** The canonical text `major.minor.patch[-prerelease][+metadata]` (no `v`). */
export function formatVersion(v: Version): string {
  return (
    `${v.major}.${v.minor}.${v.patch}` +
    (v.prerelease ? `-${v.prerelease}` : '') +
    (v.metadata ? `+${v.metadata}` : '')
  )
}
