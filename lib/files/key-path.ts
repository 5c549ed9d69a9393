import { TerminalError } from '../errors.js'

/**
 * Splits a `yaml-update` / `toml-update` key into its parts the way Kargo's `sjson.SplitKey` does: parts are separated
 * by `.`; `\.` and `\:` put a literal dot or colon into a part; a `:` at the start of a part only hints "treat this
 * numeric-looking part as a map key" and is dropped. Leading and trailing whitespace of the whole key is ignored.
 * Empty parts, other escapes and a colon inside a part are errors.
 */
export function splitKey(key: string): string[] {
  const trimmed = key.trim()
  if (trimmed === '') throw new TerminalError('empty key')
  const parts: string[] = []
  let current = ''
  let escaped = false
  for (const ch of trimmed) {
    if (escaped) {
      if (ch !== '.' && ch !== ':')
        throw new TerminalError(`invalid escape sequence in key ${JSON.stringify(key)}`)
      current += ch
      escaped = false
      continue
    }
    if (ch === '\\') {
      escaped = true
    } else if (ch === '.') {
      if (current === '') throw new TerminalError(`empty key part in key ${JSON.stringify(key)}`)
      parts.push(current)
      current = ''
    } else if (ch === ':') {
      if (current !== '') throw new TerminalError(`unexpected colon in key ${JSON.stringify(key)}`)
    } else {
      current += ch
    }
  }
  // A trailing lone backslash leaves nothing to escape; Kargo ends the loop in escape mode and keeps the part.
  if (current === '') throw new TerminalError(`empty key part in key ${JSON.stringify(key)}`)
  parts.push(current)
  return parts
}
