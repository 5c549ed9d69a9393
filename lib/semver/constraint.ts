import { RE2JS } from 're2js'
import { ValidationError } from '../errors.js'
import { comparePrerelease, compareVersions, parseLooseVersion, type Version } from './version.js'

/**
 * Masterminds/semver v3 constraints (`NewConstraint` + `Check`), which Kargo uses for `constraint` and
 * `semverConstraint`. The grammar is Masterminds' own regexes, run on RE2 so matching is as in Go and linear.
 */

/** A parsed constraint. */
export interface Constraint {
  /** The text it was parsed from. */
  readonly text: string
  /** Whether `v` satisfies it, with Masterminds' prerelease rule. */
  matches(v: Version): boolean
}

// Go's `\s` is ASCII only: [\t\n\f\r ].
const WS = '[\\t\\n\\f\\r ]'
// The empty alternative is Masterminds' own: a bare version means `=` (or `~` when it has wildcards).
const OPS = '=||!=|>|<|>=|=>|<=|=<|~|~>|\\^'
// Masterminds' cvRegex; `|` inside the class is literal, as in the original.
const CV =
  'v?([0-9|xX*]+)(\\.[0-9|xX*]+)?(\\.[0-9|xX*]+)?' +
  '(-([0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*))?' +
  '(\\+([0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*))?'

const RANGE = RE2JS.compile(`${WS}*(${CV})${WS}+-${WS}+(${CV})${WS}*`)
const VALID = RE2JS.compile(
  `^(${WS}*(${OPS})${WS}*(${CV})${WS}*)((?:${WS}+|,${WS}*)(${OPS})${WS}*(${CV})${WS}*)*$`,
)
const FIND = RE2JS.compile(`(${OPS})${WS}*(${CV})`)
const SINGLE = RE2JS.compile(`^${WS}*(${OPS})${WS}*(${CV})${WS}*$`)

interface Comparator {
  op: string
  /** The version text as written, e.g. `1.2.x`. */
  orig: string
  con: Version
  dirty: boolean
  minorDirty: boolean
  patchDirty: boolean
}

function isX(s: string): boolean {
  return s === 'x' || s === 'X' || s === '*'
}

// Masterminds rewriteRange: `1.2 - 1.4.5` becomes `>= 1.2, <= 1.4.5 `.
function rewriteRanges(text: string): string {
  let out = text
  for (const m of RANGE.matchAll(text)) {
    const whole = m[0] ?? ''
    const replacement = `>= ${m[1] ?? ''}, <= ${m[11] ?? ''} `
    const at = out.indexOf(whole)
    if (at >= 0) out = out.slice(0, at) + replacement + out.slice(at + whole.length)
  }
  return out
}

function parseComparator(text: string, whole: string, field: string | undefined): Comparator {
  const m = SINGLE.exec(text)
  if (!m) throw invalid(whole, `improper constraint: ${JSON.stringify(text)}`, field)
  const op = m[1] ?? ''
  const orig = m[2] ?? ''
  const major = m[3] ?? ''
  const minor = m[4] ?? ''
  const patch = m[5] ?? ''
  const pre = m[6] ?? ''
  let ver = orig
  let dirty = false
  let minorDirty = false
  let patchDirty = false
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`
    dirty = true
  } else if (isX(minor.slice(1)) || minor === '') {
    ver = `${major}.0.0${pre}`
    dirty = minorDirty = true
  } else if (isX(patch.slice(1)) || patch === '') {
    ver = `${major}${minor}.0${pre}`
    dirty = patchDirty = true
  }
  const con = parseLooseVersion(ver)
  if (con === null) throw invalid(whole, `${JSON.stringify(text)} is not a valid version`, field)
  return { op, orig, con, dirty, minorDirty, patchDirty }
}

function invalid(whole: string, reason: string, field: string | undefined): ValidationError {
  return new ValidationError(
    `${field ? `${field}: ` : ''}invalid semver constraint ${JSON.stringify(whole)}: ${reason}`,
    {
      data: { constraint: whole },
      ...(field ? { path: field } : {}),
    },
  )
}

function tilde(v: Version, c: Comparator): boolean {
  if (compareVersions(v, c.con) < 0) return false
  // ~0.0.0 (and ~*, ~x) accepts everything.
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty)
    return true
  if (v.major !== c.con.major) return false
  if (v.minor !== c.con.minor && !c.minorDirty) return false
  return true
}

function caret(v: Version, c: Comparator): boolean {
  if (compareVersions(v, c.con) < 0) return false
  if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major
  if (v.major > 0n) return false
  if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor
  if (v.minor > 0n) return false
  return v.patch === c.con.patch
}

function notEqual(v: Version, c: Comparator): boolean {
  if (c.dirty) {
    if (c.con.major !== v.major) return true
    if (c.con.minor !== v.minor && !c.minorDirty) return true
    if (c.minorDirty) return false
    if (c.con.patch !== v.patch && !c.patchDirty) return true
    if (c.patchDirty) {
      if (v.prerelease !== '' || c.con.prerelease !== '') {
        return comparePrerelease(v.prerelease, c.con.prerelease) !== 0
      }
      return false
    }
  }
  return compareVersions(v, c.con) !== 0
}

function greaterThan(v: Version, c: Comparator): boolean {
  if (!c.dirty) return compareVersions(v, c.con) > 0
  if (v.major > c.con.major) return true
  if (v.major < c.con.major) return false
  // `>1` needs 2.0.0 or more; `>1.2` needs 1.3.0 or more.
  if (c.minorDirty) return false
  if (c.patchDirty) return v.minor > c.con.minor
  return compareVersions(v, c.con) > 0
}

function lessThanOrEqual(v: Version, c: Comparator): boolean {
  if (!c.dirty) return compareVersions(v, c.con) <= 0
  if (v.major > c.con.major) return false
  if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false
  return true
}

function check(v: Version, c: Comparator, includePrerelease: boolean): boolean {
  if (v.prerelease !== '' && !includePrerelease) return false
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : compareVersions(v, c.con) === 0
    case '!=':
      return notEqual(v, c)
    case '>':
      return greaterThan(v, c)
    case '<':
      return compareVersions(v, c.con) < 0
    case '>=':
    case '=>':
      return compareVersions(v, c.con) >= 0
    case '<=':
    case '=<':
      return lessThanOrEqual(v, c)
    case '~':
    case '~>':
      return tilde(v, c)
    case '^':
      return caret(v, c)
    default:
      return false
  }
}

const MATCH_ALL: Constraint = { text: '', matches: () => true }

/**
 * Parse a Masterminds constraint: `,` or spaces AND, `||` ORs, `=` `!=` `<` `<=` `>` `>=` `~` `~>` `^`, hyphen
 * ranges, `x`/`X`/`*` wildcards, a leading `v` and short forms. `""` is "no constraint" (matches every version,
 * prereleases included); anything unparsable throws a ValidationError naming the text (and `field`, if given).
 */
export function parseConstraint(text: string, field?: string): Constraint {
  if (text === '') return MATCH_ALL
  const groups: Comparator[][] = []
  const groupHasPrerelease: boolean[] = []
  for (const segment of rewriteRanges(text).split('||')) {
    if (!VALID.test(segment)) throw invalid(text, `improper constraint: ${JSON.stringify(segment)}`, field)
    const found = [...FIND.matchAll(segment)].map((m) => m[0] ?? '')
    const comparators = (found.length > 0 ? found : [segment]).map((s) => parseComparator(s, text, field))
    groups.push(comparators)
    // Masterminds: a prerelease on any comparator of an AND group lets prereleases of any version through it.
    groupHasPrerelease.push(comparators.some((c) => c.con.prerelease !== ''))
  }
  return {
    text,
    matches(v: Version): boolean {
      for (let i = 0; i < groups.length; i++) {
        const group = groups[i] ?? []
        const includePrerelease = groupHasPrerelease[i] ?? false
        let all = true
        for (const c of group) {
          if (!check(v, c, includePrerelease)) {
            all = false
            break
          }
        }
        if (all) return true
      }
      return false
    },
  }
}

/** True when `text` is a valid Masterminds constraint (`""` included). */
export function isValidConstraint(text: string): boolean {
  try {
    parseConstraint(text)
    return true
  } catch {
    return false
  }
}
