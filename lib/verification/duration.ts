/**
 * Go's `time.ParseDuration`, which Argo Rollouts uses for a metric's `interval` and `initialDelay`: an optional sign,
 * then one or more decimal numbers each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), e.g. `30s`, `1h30m`,
 * `1.5h`, `.5s`; a bare `0` is zero. Returns milliseconds (fractions of a millisecond are kept).
 */
import { ValidationError } from '../errors.js'

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/** Go's maximum duration (int64 nanoseconds), in milliseconds. */
const MAX_DURATION_MS = 9_223_372_036_854.775

/** Parses a Go duration into milliseconds; throws a `ValidationError` naming `field` when Go would refuse it. */
export function parseGoDuration(text: string, field = 'duration'): number {
  const fail = (): never => {
    throw new ValidationError(
      `${field}: invalid duration ${JSON.stringify(text)} (expected e.g. 30s, 5m, 1h30m)`,
      { path: field },
    )
  }
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') fail()
  let total = 0
  while (rest !== '') {
    const number = /^([0-9]*)(?:\.([0-9]*))?/.exec(rest)
    const whole = number?.[1] ?? ''
    const fraction = number?.[2]
    if (whole === '' && (fraction === undefined || fraction === '')) fail()
    rest = rest.slice(number?.[0].length ?? 0)
    const unit = /^[^0-9.]+/.exec(rest)?.[0]
    if (unit === undefined) fail() // Go: "missing unit in duration"
    const scale = UNIT_MS[unit ?? '']
    if (scale === undefined) fail() // Go: "unknown unit"
    rest = rest.slice((unit ?? '').length)
    total += Number(`${whole || '0'}.${fraction || '0'}`) * (scale ?? 0)
    if (total > MAX_DURATION_MS) fail() // Go: "invalid duration" (overflow)
  }
  return sign * total
}
