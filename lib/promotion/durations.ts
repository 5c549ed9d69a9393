import { ValidationError } from '../errors.js'

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/** Parses a Go duration (`5m`, `1h30m`, `90s`, `1.5h`) into milliseconds. */
export function parseDuration(text: string, field = 'duration'): number {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g
  let total = 0
  let consumed = 0
  for (const match of trimmed.matchAll(pattern)) {
    if (match.index !== consumed) break
    total += Number(match[1]) * UNIT_MS[match[2]!]!
    consumed += match[0].length
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new ValidationError(`${field}: "${text}" is not a duration (e.g. 30s, 5m, 1h30m)`, { path: field })
  }
  return total
}

/** Renders milliseconds as a Go-style duration: 1h2m3s. */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000)
  const h = Math.floor(seconds / 3600)
  seconds -= h * 3600
  const m = Math.floor(seconds / 60)
  seconds -= m * 60
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${seconds || (!h && !m) ? `${seconds}s` : ''}`
}
