/**
 * Kargo's pure expression functions (`pkg/expressions`): `quote`, `unsafeQuote`, `asJSON`, `asYAML`, `semverParse`
 * and `semverDiff`, plus the methods of the version value `semverParse()` returns. Like Kargo's, `quote`,
 * `unsafeQuote`, `asJSON` and `asYAML` wrap their text in double quotes, which a template then strips (§8–9).
 */
import { parseLooseVersion, semverDiff as diffVersions } from '../semver/index.js'
import type { Builtin } from './builtins.js'
import { goJsonMarshal } from './go-json.js'
import { goQuote } from './go-strconv.js'
import { goYamlMarshal } from './go-yaml.js'
import {
  ExprRuntimeError,
  SEMVER_BRAND,
  isSemver,
  makeSemver,
  semverString,
  typeName,
  type Budget,
  type SemverValue,
} from './values.js'

function one(name: string, args: unknown[]): unknown {
  if (args.length !== 1) throw new ExprRuntimeError(`${name}: expected 1 argument, got ${args.length}`)
  return args[0]
}

/** `unsafeQuote(x)`: the compact, key-sorted JSON of `x`, wrapped in double quotes (`'foo'` → `""foo""`). */
export function unsafeQuote(v: unknown, budget?: Budget): string {
  return `"${goJsonMarshal(v, budget ? { budget } : {})}"`
}

/** `quote(x)`: Go's `%q` of a string; any other value as `unsafeQuote`. */
export function quote(v: unknown, budget?: Budget): string {
  return typeof v === 'string' ? goQuote(v) : unsafeQuote(v, budget)
}

/** `asJSON(x)`: `"` + 2-space-indented, key-sorted JSON + `\n"`. */
export function asJson(v: unknown, budget?: Budget): string {
  return `"${goJsonMarshal(v, { indent: '  ', ...(budget ? { budget } : {}) })}\n"`
}

/** `asYAML(x)`: `"` + go-yaml v3 YAML (4-space indent, sorted keys) + `"`. */
export function asYaml(v: unknown, budget?: Budget): string {
  return `"${goYamlMarshal(v, budget)}"`
}

/** Parses a version the way Kargo's `semverParse()` does (Masterminds' loose `NewVersion`). */
export function parseSemverValue(text: string): SemverValue {
  const v = parseLooseVersion(text)
  if (v === null) throw new ExprRuntimeError('invalid semantic version')
  return makeSemver({
    major: v.major,
    minor: v.minor,
    patch: v.patch,
    prerelease: v.prerelease,
    metadata: v.metadata,
    original: text,
  })
}

type SemverParts = Omit<SemverValue, 'original' | typeof SEMVER_BRAND>

/** A new version keeping the original's `v` prefix in `Original()`, as Masterminds' `Inc*` methods do. */
function incremented(parts: SemverParts, from: SemverValue): SemverValue {
  const prefix = from.original.startsWith('v') ? 'v' : ''
  const text = semverString(makeSemver({ ...parts, original: '' }))
  return makeSemver({ ...parts, original: prefix + text })
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0
  if (a === '') return 1
  if (b === '') return -1
  const pa = a.split('.')
  const pb = b.split('.')
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i]
    const y = pb[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    if (x === y) continue
    const xn = /^[0-9]+$/.test(x)
    const yn = /^[0-9]+$/.test(y)
    if (xn && yn) return BigInt(x) < BigInt(y) ? -1 : 1
    if (xn) return -1
    if (yn) return 1
    return x < y ? -1 : 1
  }
  return 0
}

/** Masterminds `Version.Compare`: precedence, ignoring build metadata. */
export function compareSemver(a: SemverValue, b: SemverValue): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1
  }
  return comparePrerelease(a.prerelease, b.prerelease)
}

function other(name: string, args: unknown[]): SemverValue {
  const o = one(name, args)
  if (!isSemver(o)) throw new ExprRuntimeError(`${name}: argument must be a version, got ${typeName(o)}`)
  return o
}

const bigToNumber = (b: bigint): number => Number(b)

/** The methods of a version value, as expression code calls them: `semverParse('1.2.3').IncMinor().String()`. */
export const semverMethods: Readonly<Record<string, (self: SemverValue, args: unknown[]) => unknown>> =
  Object.assign(Object.create(null) as Record<string, (self: SemverValue, args: unknown[]) => unknown>, {
    Major: (v: SemverValue) => bigToNumber(v.major),
    Minor: (v: SemverValue) => bigToNumber(v.minor),
    Patch: (v: SemverValue) => bigToNumber(v.patch),
    Prerelease: (v: SemverValue) => v.prerelease,
    Metadata: (v: SemverValue) => v.metadata,
    Original: (v: SemverValue) => v.original,
    String: (v: SemverValue) => semverString(v),
    IncMajor: (v: SemverValue) =>
      incremented({ major: v.major + 1n, minor: 0n, patch: 0n, prerelease: '', metadata: '' }, v),
    IncMinor: (v: SemverValue) =>
      incremented({ major: v.major, minor: v.minor + 1n, patch: 0n, prerelease: '', metadata: '' }, v),
    // Masterminds: a prerelease is dropped without bumping the patch (1.2.3-rc.1 → 1.2.3).
    IncPatch: (v: SemverValue) =>
      incremented(
        {
          major: v.major,
          minor: v.minor,
          patch: v.prerelease ? v.patch : v.patch + 1n,
          prerelease: '',
          metadata: '',
        },
        v,
      ),
    Compare: (v: SemverValue, args: unknown[]) => compareSemver(v, other('Compare', args)),
    LessThan: (v: SemverValue, args: unknown[]) => compareSemver(v, other('LessThan', args)) < 0,
    GreaterThan: (v: SemverValue, args: unknown[]) => compareSemver(v, other('GreaterThan', args)) > 0,
    Equal: (v: SemverValue, args: unknown[]) => compareSemver(v, other('Equal', args)) === 0,
  })

const kargo: Record<string, Builtin> = Object.create(null) as Record<string, Builtin>

kargo.quote = (args, ctx) => quote(one('quote', args), ctx.budget)
kargo.unsafeQuote = (args, ctx) => unsafeQuote(one('unsafeQuote', args), ctx.budget)
kargo.asJSON = (args, ctx) => asJson(one('asJSON', args), ctx.budget)
kargo.asYAML = (args, ctx) => asYaml(one('asYAML', args), ctx.budget)
kargo.semverParse = (args) => {
  const text = one('semverParse', args)
  if (typeof text !== 'string')
    throw new ExprRuntimeError(`semverParse: argument must be string, got ${typeName(text)}`)
  return parseSemverValue(text)
}
kargo.semverDiff = (args) => {
  if (args.length !== 2) throw new ExprRuntimeError(`semverDiff: expected 2 arguments, got ${args.length}`)
  const [a, b] = args
  if (typeof a !== 'string')
    throw new ExprRuntimeError(`semverDiff: first argument must be string, got ${typeName(a)}`)
  if (typeof b !== 'string')
    throw new ExprRuntimeError(`semverDiff: second argument must be string, got ${typeName(b)}`)
  return diffVersions(a, b)
}

/** Kargo's functions, by name. `quote`, `unsafeQuote`, `asJSON` and `asYAML` cannot be overridden by the env. */
export const kargoFunctions: Readonly<Record<string, Builtin>> = kargo

/** Names an environment may not redefine (Kargo refuses them as env keys in config templates). */
export const RESERVED_FUNCTION_NAMES: readonly string[] = ['quote', 'unsafeQuote', 'asJSON', 'asYAML']
