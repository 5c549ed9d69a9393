/**
 * The bits of Go's `strconv` that Kargo's expression results pass through: `ParseFloat`, `ParseBool`, `Atoi`,
 * `Quote` (`%q`) and `FormatFloat(f, 'g', -1, 64)`. Written from the Go documentation and behaviour, not copied.
 */

const DEC_DIGITS = /^[0-9]$/
const HEX_DIGIT = /^[0-9a-fA-F]$/

/**
 * Go's `strconv.ParseFloat(s, 64)`: returns the number, or `undefined` when Go would return an error (bad syntax, or
 * out of range). Accepts a sign, `1e3`, `.5`, `5.`, `007`, `1_000` (underscores only between digits), hex floats with
 * a `p` exponent (`0x1p4`), and `inf`/`infinity`/`nan` in any case. `0x10` (no `p` exponent) is rejected.
 */
export function parseGoFloat(s: string): number | undefined {
  if (s.length === 0 || s.length > 4096) return undefined
  let i = 0
  let sign = 1
  if (s[0] === '+' || s[0] === '-') {
    if (s[0] === '-') sign = -1
    i = 1
  }
  const rest = s.slice(i).toLowerCase()
  if (rest === 'inf' || rest === 'infinity') return sign * Infinity
  if (rest === 'nan') return i === 0 ? NaN : undefined
  if (!underscoreOk(s)) return undefined
  const body = s.slice(i).replace(/_/g, '')
  if (body.length === 0) return undefined
  let value: number
  if (body.length > 2 && body[0] === '0' && (body[1] === 'x' || body[1] === 'X')) {
    const parsed = parseHexFloat(body.slice(2))
    if (parsed === undefined) return undefined
    value = parsed
  } else {
    if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(body)) return undefined
    value = Number(body)
  }
  if (!Number.isFinite(value)) return undefined // ErrRange
  return sign * value
}

function parseHexFloat(text: string): number | undefined {
  const m = /^([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(text)
  if (!m) return undefined
  const intPart = m[1] ?? ''
  const fracPart = m[2] ?? ''
  if (intPart.length + fracPart.length === 0) return undefined
  let mantissa = 0
  for (const c of intPart + fracPart) mantissa = mantissa * 16 + parseInt(c, 16)
  const exp = Number(m[3]) - 4 * fracPart.length
  return mantissa * Math.pow(2, exp)
}

/** Go's `underscoreOK`: underscores only between digits, or between a base prefix and a digit. */
function underscoreOk(s: string): boolean {
  if (!s.includes('_')) return true
  let saw = '^'
  let i = 0
  let t = s
  if (t[0] === '+' || t[0] === '-') t = t.slice(1)
  let hex = false
  if (t.length >= 2 && t[0] === '0' && 'box'.includes((t[1] ?? '').toLowerCase())) {
    i = 2
    saw = '0'
    hex = (t[1] ?? '').toLowerCase() === 'x'
  }
  for (; i < t.length; i++) {
    const c = t[i] ?? ''
    if (DEC_DIGITS.test(c) || (hex && HEX_DIGIT.test(c))) {
      saw = '0'
      continue
    }
    if (c === '_') {
      if (saw !== '0') return false
      saw = '_'
      continue
    }
    if (saw === '_') return false
    saw = '!'
  }
  return saw !== '_'
}

/** Go's `strconv.ParseBool`: `1 t T TRUE true True` / `0 f F FALSE false False`; anything else is `undefined`. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false
    default:
      return undefined
  }
}

/** Go's `strconv.Atoi`: optional sign and decimal digits only, within int64. */
export function parseGoInt(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s) || s.length > 40) return undefined
  const big = BigInt(s)
  if (big > 9223372036854775807n || big < -9223372036854775808n) return undefined
  return Number(big)
}

/** Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which is also what `%v` prints for a float64. */
export function formatGoFloatG(f: number): string {
  if (Number.isNaN(f)) return 'NaN'
  if (f === Infinity) return '+Inf'
  if (f === -Infinity) return '-Inf'
  if (f === 0) return Object.is(f, -0) ? '-0' : '0'
  // Shortest round-trip digits and the decimal exponent, from JS's own shortest formatting.
  const [mant = '', expText = '0'] = Math.abs(f).toExponential().split('e')
  const digits = mant.replace('.', '')
  const exp = Number(expText)
  const sign = f < 0 ? '-' : ''
  // Go (ftoa.go): %e when exp < -4 || exp >= eprec, and eprec is the constant 6 for the shortest form.
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const e = Math.abs(exp)
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}`
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u

/** Go's `unicode.IsPrint` for one code point (letters, marks, numbers, punctuation, symbols and the ASCII space). */
export function isGoPrintable(cp: number): boolean {
  return PRINTABLE.test(String.fromCodePoint(cp))
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}

/** Go's `strconv.Quote` (what `fmt.Sprintf("%q", s)` prints for a string). */
export function goQuote(s: string): string {
  let out = '"'
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i) ?? 0
    const width = cp > 0xffff ? 2 : 1
    i += width
    if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate is invalid UTF-8 in Go; Quote prints its three bytes as \x escapes.
      const bytes = [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)]
      out += bytes.map((b) => `\\x${hex(b, 2)}`).join('')
      continue
    }
    const ch = String.fromCodePoint(cp)
    if (ch === '"' || ch === '\\') {
      out += `\\${ch}`
      continue
    }
    if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) {
      out += ch
      continue
    }
    if (cp >= 0x80 && isGoPrintable(cp)) {
      out += ch
      continue
    }
    switch (cp) {
      case 0x07:
        out += '\\a'
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
      case 0x0b:
        out += '\\v'
        continue
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`
    else out += `\\U${hex(cp, 8)}`
  }
  return `${out}"`
}

/** Compares two strings by code point, which is Go's byte-wise order of their UTF-8 encodings. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // A surrogate (an astral code point) sorts after every BMP code unit in UTF-8, except those above it.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x < y ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/** The UTF-8 bytes of a string (lone surrogates become U+FFFD, as Go would see them after a JSON round trip). */
export function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}
