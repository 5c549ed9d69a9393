/**
 * The value model of the evaluator. Expression values are plain JS data: `null` (expr-lang's `nil`), booleans,
 * numbers, strings, arrays, maps (any other non-null object, read through its own data properties only), functions
 * handed in by the caller, `Date`s (Go `time.Time`) and branded semver versions. Nothing here ever reads a property
 * that is not an own data property, so prototypes, getters and globals stay out of reach.
 */
import { compareCodePoints, formatGoFloatG } from './go-strconv.js'

/** Property names that always read as nil, whatever the object holds. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** True for a property name member access must never resolve. */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key)
}

/** The brand of a parsed semantic version (what Kargo's `semverParse()` returns). */
export const SEMVER_BRAND: unique symbol = Symbol('tugboat.expressions.semver')

/** A Masterminds-style version value: read only through its methods (`Major()`, `IncMinor()`, `String()`, …). */
export interface SemverValue {
  readonly [SEMVER_BRAND]: true
  readonly major: bigint
  readonly minor: bigint
  readonly patch: bigint
  readonly prerelease: string
  readonly metadata: string
  readonly original: string
}

/** True for a value made by `semverParse()`. */
export function isSemver(v: unknown): v is SemverValue {
  return typeof v === 'object' && v !== null && Object.hasOwn(v, SEMVER_BRAND)
}

/** Makes a frozen semver value. */
export function makeSemver(parts: Omit<SemverValue, typeof SEMVER_BRAND>): SemverValue {
  return Object.freeze({ [SEMVER_BRAND]: true as const, ...parts })
}

/** `String()` of a Masterminds version: `1.2.3-pre+meta`, no `v`. */
export function semverString(v: SemverValue): string {
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease ? `-${v.prerelease}` : ''}${v.metadata ? `+${v.metadata}` : ''}`
}

/** True for a Go `time.Time` (a valid JS `Date`). */
export function isTime(v: unknown): v is Date {
  return v instanceof Date
}

/** True for an array value. */
export function isArray(v: unknown): v is unknown[] {
  return Array.isArray(v)
}

/** True for a map value: a non-null object that is not an array, a time, a version or a function. */
export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !isSemver(v)
}

/** True for nil (`null` or `undefined`). */
export function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined
}

/** True when a number behaves as a Go `int` (integral and within int64); otherwise it is a `float64`. */
export function isIntLike(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 9.2e18
}

/** Reads an own data property, or `undefined`. Never runs a getter, never looks at the prototype. */
export function getOwn(obj: object, key: string): unknown {
  if (isForbiddenKey(key)) return undefined
  const desc = Object.getOwnPropertyDescriptor(obj, key)
  if (desc === undefined || !('value' in desc)) return undefined
  return desc.value
}

/** True when the object has an own data property `key` (forbidden names never count). */
export function hasOwnData(obj: object, key: string): boolean {
  if (isForbiddenKey(key)) return false
  const desc = Object.getOwnPropertyDescriptor(obj, key)
  return desc !== undefined && 'value' in desc
}

/** Sets an own enumerable property without going through `__proto__` or any setter. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

/** A map's own enumerable string keys in Go's sorted (UTF-8 byte) order. */
export function sortedKeys(map: object): string[] {
  return Object.keys(map).sort(compareCodePoints)
}

/** Reads a map entry for serialisation (forbidden names included: they are data, not prototype links). */
export function readEntry(map: object, key: string): unknown {
  const desc = Object.getOwnPropertyDescriptor(map, key)
  return desc !== undefined && 'value' in desc ? desc.value : undefined
}

/** A Go-flavoured type name for messages: `int`, `float64`, `string`, `bool`, `<nil>`, `[]interface {}`, … */
export function typeName(v: unknown): string {
  if (isNil(v)) return '<nil>'
  switch (typeof v) {
    case 'boolean':
      return 'bool'
    case 'number':
      return isIntLike(v) ? 'int' : 'float64'
    case 'bigint':
      return 'int'
    case 'string':
      return 'string'
    case 'function':
      return 'func'
    default:
      break
  }
  if (isArray(v)) return '[]interface {}'
  if (isTime(v)) return 'time.Time'
  if (isSemver(v)) return '*semver.Version'
  return 'map[string]interface {}'
}

/** Thrown by value helpers; the interpreter turns it into a positioned `ValidationError`. */
export class ExprRuntimeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ExprRuntimeError'
  }
}

/** Work accounting shared by every helper that walks a value, so hostile data cannot hang or blow the stack. */
export interface Budget {
  /** Charges `n` units of work; throws when the step limit is exceeded. */
  tick(n?: number): void
}

/** A budget that never runs out (for internal callers that already bounded their input). */
export const UNLIMITED: Budget = { tick: () => {} }

/** Values nested deeper than this are refused by every recursive walk. */
export const MAX_VALUE_DEPTH = 1000

function checkDepth(depth: number): void {
  if (depth > MAX_VALUE_DEPTH) throw new ExprRuntimeError('value is nested too deeply')
}

/** Go's time.Time JSON/YAML text: RFC 3339 with nanoseconds, trailing zeros trimmed, in UTC. */
export function formatTimeRfc3339(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new ExprRuntimeError('invalid time value')
  const iso = d.toISOString() // 2024-01-02T03:04:05.678Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'))
}

/** expr-lang's `runtime.Equal`: numbers across int/float, strings, bools, nil == nil, arrays and maps deeply. */
export function valuesEqual(a: unknown, b: unknown, budget: Budget = UNLIMITED, depth = 0): boolean {
  budget.tick()
  checkDepth(depth)
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b)
  if (typeof a === 'number' && typeof b === 'number') return a === b
  if (typeof a === 'string' || typeof a === 'boolean' || typeof a === 'number') return a === b
  if (typeof a === 'function' || typeof b === 'function') return a === b
  if (isTime(a) || isTime(b)) return isTime(a) && isTime(b) && a.getTime() === b.getTime()
  if (isSemver(a) || isSemver(b)) {
    return isSemver(a) && isSemver(b) && semverString(a) === semverString(b) && a.original === b.original
  }
  if (isArray(a) || isArray(b)) {
    if (!isArray(a) || !isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i], budget, depth + 1)) return false
    return true
  }
  if (isMap(a) && isMap(b)) {
    const ka = sortedKeys(a)
    const kb = sortedKeys(b)
    if (ka.length !== kb.length) return false
    for (let i = 0; i < ka.length; i++) {
      const k = ka[i] ?? ''
      if (k !== kb[i]) return false
      if (!valuesEqual(readEntry(a, k), readEntry(b, k), budget, depth + 1)) return false
    }
    return true
  }
  return false
}

/** Formats an integral number the way Go prints an `int`. */
export function formatInt(n: number): string {
  if (Object.is(n, -0)) return '0'
  return Math.abs(n) < 1e21 ? BigInt(n).toString() : formatGoFloatG(n)
}

/** Formats a number as Go would print it with `%v`: integral values as `int`, others as `float64` (`%g`). */
export function formatNumberV(n: number): string {
  return isIntLike(n) ? formatInt(n) : formatGoFloatG(n)
}

/** Go's `time.Time.String()` for a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function formatTimeString(d: Date): string {
  const iso = formatTimeRfc3339(d)
  return `${iso.slice(0, 10)} ${iso.slice(11, -1)} +0000 UTC`
}

/** Go's `fmt.Sprintf("%v", v)`: `<nil>`, `[1 2]`, `map[a:1 b:2]` (sorted keys), numbers as Go prints them. */
export function formatV(v: unknown, budget: Budget = UNLIMITED, depth = 0): string {
  budget.tick()
  checkDepth(depth)
  if (isNil(v)) return '<nil>'
  switch (typeof v) {
    case 'string':
      return v
    case 'boolean':
      return v ? 'true' : 'false'
    case 'number':
      return formatNumberV(v)
    case 'bigint':
      return v.toString()
    case 'function':
      return '<func>'
    default:
      break
  }
  if (isArray(v)) return `[${v.map((x) => formatV(x, budget, depth + 1)).join(' ')}]`
  if (isTime(v)) return formatTimeString(v)
  if (isSemver(v)) return semverString(v)
  const parts = sortedKeys(v as object).map(
    (k) => `${k}:${formatV(readEntry(v as object, k), budget, depth + 1)}`,
  )
  return `map[${parts.join(' ')}]`
}
