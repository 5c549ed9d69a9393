/**
 * How Kargo's file steps print values. Step configs reach Kargo through a JSON round trip, so every number is a Go
 * `float64`: `%v` prints 1000000 as `1e+06`, and sjson / go-toml print it in plain decimal notation.
 */
import { formatGoFloatG, goQuote, parseGoBool, parseGoFloat } from '../expressions/go-strconv.js'

/** Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest round-trip digits, never an exponent. */
export function formatGoFloatF(f: number): string {
  if (Number.isNaN(f)) return 'NaN'
  if (f === Infinity) return '+Inf'
  if (f === -Infinity) return '-Inf'
  if (f === 0) return Object.is(f, -0) ? '-0' : '0'
  const [mant = '', expText = '0'] = Math.abs(f).toExponential().split('e')
  const digits = mant.replace('.', '')
  const point = Number(expText) + 1 // digits before the decimal point
  const sign = f < 0 ? '-' : ''
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/** Go's `fmt.Sprintf("%v", v)` for a value decoded from JSON: `<nil>`, `1e+06`, `[a b]`, `map[k:v]` (sorted keys). */
export function goFormatV(value: unknown): string {
  if (value === null || value === undefined) return '<nil>'
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') return formatGoFloatG(value)
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(goFormatV).join(' ')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `map[${entries.map(([k, v]) => `${k}:${goFormatV(v)}`).join(' ')}]`
  }
  return String(value)
}

/** Go's `json.Valid`. */
export function isValidJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Kargo's `yaml.QuoteIfNecessary`: a string a YAML parser would read as something else (a Go float such as `42` or
 * `1e3`, a Go bool such as `true` or `T`, or any valid JSON such as `null` or `[1]`) comes back Go-quoted (`"42"`);
 * any other string, and every non-string, comes back unchanged.
 */
export function quoteIfNecessary(value: unknown): unknown {
  if (typeof value !== 'string') return value
  if (parseGoFloat(value) !== undefined) return goQuote(value)
  if (parseGoBool(value) !== undefined) return goQuote(value)
  if (isValidJson(value)) return goQuote(value)
  return value
}
