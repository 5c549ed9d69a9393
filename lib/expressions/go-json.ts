/**
 * Go `encoding/json` as Kargo's expression functions use it: `json.Marshal` (compact) and `json.MarshalIndent`,
 * with Go's map-key sorting, HTML escaping (`<` → `\u003c`) and float formatting, and `json.Unmarshal` into `any`.
 */
import {
  ExprRuntimeError,
  MAX_VALUE_DEPTH,
  UNLIMITED,
  formatTimeRfc3339,
  isArray,
  isIntLike,
  isNil,
  isSemver,
  isTime,
  readEntry,
  semverString,
  setOwn,
  sortedKeys,
  type Budget,
} from './values.js'

export interface MarshalOptions {
  /** `MarshalIndent`'s indent (Go's `toJSON` and Kargo's `asJSON` use two spaces); compact when absent. */
  indent?: string
  budget?: Budget
}

const HEX = '0123456789abcdef'

/** Go's JSON string encoding, including HTML-safe escapes and `\u2028`/`\u2029`. */
export function goJsonString(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i] + (s[i + 1] ?? '')
        i++
        continue
      }
      out += '\\ufffd'
      continue
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\\ufffd'
      continue
    }
    switch (c) {
      case 0x22:
        out += '\\"'
        continue
      case 0x5c:
        out += '\\\\'
        continue
      case 0x08:
        out += '\\b'
        continue
      case 0x0c:
        out += '\\f'
        continue
      case 0x0a:
        out += '\\n'
        continue
      case 0x0d:
        out += '\\r'
        continue
      case 0x09:
        out += '\\t'
        continue
      default:
        break
    }
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) {
      out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`
      continue
    }
    if (c === 0x2028 || c === 0x2029) {
      out += `\\u${c.toString(16)}`
      continue
    }
    out += s[i]
  }
  return `${out}"`
}

/** Go's float64 JSON encoding: `'f'` format, or `'e'` below 1e-6 and from 1e21, with `e-07` cleaned to `e-7`. */
export function goJsonNumber(n: number): string {
  if (!Number.isFinite(n))
    throw new ExprRuntimeError(`json: unsupported value: ${n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN'}`)
  if (Object.is(n, -0)) return '-0'
  if (isIntLike(n)) return BigInt(n).toString()
  // JS switches to exponent form at the same thresholds as Go (abs < 1e-6 or >= 1e21) and also drops the leading
  // zero of the exponent, so only the shape of the mantissa needs no change.
  return String(n)
}

/** `json.Marshal` / `json.MarshalIndent(v, "", indent)`. Throws `ExprRuntimeError` for NaN, ±Inf and functions. */
export function goJsonMarshal(value: unknown, options: MarshalOptions = {}): string {
  const budget = options.budget ?? UNLIMITED
  const indent = options.indent
  const write = (v: unknown, depth: number): string => {
    budget.tick()
    if (depth > MAX_VALUE_DEPTH) throw new ExprRuntimeError('json: value is nested too deeply')
    if (isNil(v)) return 'null'
    switch (typeof v) {
      case 'boolean':
        return v ? 'true' : 'false'
      case 'number':
        return goJsonNumber(v)
      case 'bigint':
        return v.toString()
      case 'string':
        return goJsonString(v)
      case 'function':
        throw new ExprRuntimeError('json: unsupported type: func')
      default:
        break
    }
    if (isTime(v)) return goJsonString(formatTimeRfc3339(v))
    if (isSemver(v)) return goJsonString(semverString(v))
    const pad = indent === undefined ? '' : `\n${indent.repeat(depth + 1)}`
    const close = indent === undefined ? '' : `\n${indent.repeat(depth)}`
    if (isArray(v)) {
      if (v.length === 0) return '[]'
      return `[${v.map((x) => pad + write(x, depth + 1)).join(',')}${close}]`
    }
    const keys = sortedKeys(v as object)
    if (keys.length === 0) return '{}'
    const sep = indent === undefined ? ':' : ': '
    return `{${keys.map((k) => `${pad}${goJsonString(k)}${sep}${write(readEntry(v as object, k), depth + 1)}`).join(',')}${close}}`
  }
  return write(value, 0)
}

/**
 * `json.Unmarshal(text, &any)`: the parsed value, or `undefined` when Go would refuse the text (bad syntax, or a
 * number that overflows float64). Objects are built with own properties only, so `"__proto__"` is just a key.
 */
export function goJsonUnmarshal(text: string): { value: unknown } | undefined {
  let overflow = false
  let parsed: unknown
  try {
    parsed = JSON.parse(text, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) overflow = true
      return v
    })
  } catch {
    return undefined
  }
  if (overflow) return undefined
  return { value: parsed }
}

/** Copies a JSON-ish value into fresh arrays and objects whose keys are own properties (safe for any key). */
export function cloneData(v: unknown, depth = 0): unknown {
  if (depth > MAX_VALUE_DEPTH) throw new ExprRuntimeError('value is nested too deeply')
  if (isArray(v)) return v.map((x) => cloneData(x, depth + 1))
  if (typeof v === 'object' && v !== null && !isTime(v) && !isSemver(v)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v)) setOwn(out, k, cloneData(readEntry(v, k), depth + 1))
    return out
  }
  return v
}
