import { ValidationError } from '../errors.js'
import { parseLooseVersion } from './version.js'

/**
 * What differs first between two versions, as Kargo's `semverDiff` expression function reports it.
 * Prerelease differences are ignored; `Metadata` is reported when only the build metadata differs.
 */
export type SemverDifference = 'Major' | 'Minor' | 'Patch' | 'Metadata' | 'None' | 'Incomparable'

/** Kargo's `semverDiff(a, b)`: loose parsing; `Incomparable` (not an error) when either does not parse. */
export function semverDiff(a: string, b: string): SemverDifference {
  const va = parseLooseVersion(a)
  const vb = parseLooseVersion(b)
  if (va === null || vb === null) return 'Incomparable'
  if (va.major !== vb.major) return 'Major'
  if (va.minor !== vb.minor) return 'Minor'
  if (va.patch !== vb.patch) return 'Patch'
  if (va.metadata !== vb.metadata) return 'Metadata'
  return 'None'
}

/** The parts of a version as `semverParse` exposes them to expressions. */
export interface SemverParts {
  /** JS numbers: parts above 2^53 lose precision here (use `parseVersion` for exact bigints). */
  major: number
  minor: number
  patch: number
  prerelease: string
  metadata: string
  /** The text that was parsed. */
  original: string
}

/** Kargo's `semverParse(text)`: Masterminds' loose parsing; throws a ValidationError when the text is not a version. */
export function semverParse(text: string): SemverParts {
  const v = parseLooseVersion(text)
  if (v === null) {
    throw new ValidationError(`invalid semantic version ${JSON.stringify(text)}`, { data: { version: text } })
  }
  return {
    major: Number(v.major),
    minor: Number(v.minor),
    patch: Number(v.patch),
    prerelease: v.prerelease,
    metadata: v.metadata,
    original: v.original,
  }
}
