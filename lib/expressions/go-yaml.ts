/**
 * `yaml.Marshal` from go-yaml v3 (what Kargo's `asYAML()` calls), for JSON-like values: 4-space indentation,
 * sequences indented under their key, `- ` items holding maps inline, go-yaml's "natural" key order, and its choice
 * between plain, 'single', "double" and `|` literal scalars. Written from go-yaml's documented behaviour and tests.
 */
import { formatGoFloatG, parseGoFloat } from './go-strconv.js'
import {
  ExprRuntimeError,
  MAX_VALUE_DEPTH,
  UNLIMITED,
  formatInt,
  formatTimeRfc3339,
  isArray,
  isIntLike,
  isNil,
  isSemver,
  isTime,
  readEntry,
  semverString,
  type Budget,
} from './values.js'

const BEST_INDENT = 4

type Style = 'plain' | 'single' | 'double' | 'literal'

/** `yaml.Marshal(value)`; throws `ExprRuntimeError` for functions. */
export function goYamlMarshal(value: unknown, budget: Budget = UNLIMITED): string {
  const out: string[] = []
  emitNode(value, { kind: 'root' }, out, budget, 0)
  const text = out.join('')
  return text.endsWith('\n') ? text : `${text}\n`
}

type Place =
  | { kind: 'root' }
  /** The value of a mapping entry whose keys sit at column `indent`; `key:` has just been written. */
  | { kind: 'mapValue'; indent: number }
  /** A sequence item whose `- ` sits at column `indent` and has just been written. */
  | { kind: 'seqItem'; indent: number }

/** go-yaml's `increase_indent`: a block child of a mapping aligns to the next multiple of 4. */
function nextIndent(indent: number): number {
  return BEST_INDENT * Math.floor((indent + BEST_INDENT) / BEST_INDENT)
}

function emitNode(v: unknown, place: Place, out: string[], budget: Budget, depth: number): void {
  budget.tick()
  if (depth > MAX_VALUE_DEPTH) throw new ExprRuntimeError('yaml: value is nested too deeply')
  const inlineLead = place.kind === 'mapValue' ? ' ' : ''
  if (isArray(v)) {
    if (v.length === 0) {
      out.push(`${inlineLead}[]\n`)
      return
    }
    const dash =
      place.kind === 'root' ? 0 : place.kind === 'mapValue' ? nextIndent(place.indent) : place.indent + 2
    v.forEach((item, i) => {
      if (i === 0 && place.kind === 'seqItem') out.push('- ')
      else {
        if (i === 0 && place.kind === 'mapValue') out.push('\n')
        out.push(`${' '.repeat(dash)}- `)
      }
      emitNode(item, { kind: 'seqItem', indent: dash }, out, budget, depth + 1)
    })
    return
  }
  if (typeof v === 'object' && v !== null && !isTime(v) && !isSemver(v)) {
    const keys = Object.keys(v).sort(yamlKeyCompare)
    if (keys.length === 0) {
      out.push(`${inlineLead}{}\n`)
      return
    }
    const col =
      place.kind === 'root' ? 0 : place.kind === 'mapValue' ? nextIndent(place.indent) : place.indent + 2
    keys.forEach((k, i) => {
      if (i === 0 && place.kind === 'mapValue') out.push('\n')
      if (!(i === 0 && place.kind === 'seqItem')) out.push(' '.repeat(col))
      out.push(`${renderStyled(k, chooseStringStyle(k, true))}:`)
      emitNode(readEntry(v, k), { kind: 'mapValue', indent: col }, out, budget, depth + 1)
    })
    return
  }
  const { text, style } = scalarOf(v)
  if (style === 'literal') {
    const lines = literalLines(text)
    const indent =
      place.kind === 'root'
        ? BEST_INDENT
        : place.kind === 'mapValue'
          ? nextIndent(place.indent)
          : place.indent + 2
    out.push(`${inlineLead}${literalHeader(text)}\n`)
    for (const line of lines) out.push(line === '' ? '\n' : `${' '.repeat(indent)}${line}\n`)
    return
  }
  out.push(`${inlineLead}${renderStyled(text, style)}\n`)
}

/** The text and the style go-yaml would pick for a scalar in block context. */
function scalarOf(v: unknown): { text: string; style: Style } {
  if (isNil(v)) return { text: 'null', style: 'plain' }
  switch (typeof v) {
    case 'boolean':
      return { text: v ? 'true' : 'false', style: 'plain' }
    case 'number':
      if (Number.isNaN(v)) return { text: '.nan', style: 'plain' }
      if (v === Infinity) return { text: '.inf', style: 'plain' }
      if (v === -Infinity) return { text: '-.inf', style: 'plain' }
      return { text: isIntLike(v) ? formatInt(v) : formatGoFloatG(v), style: 'plain' }
    case 'bigint':
      return { text: v.toString(), style: 'plain' }
    case 'string':
      return { text: v, style: chooseStringStyle(v, false) }
    case 'function':
      throw new ExprRuntimeError('yaml: cannot marshal type: func')
    default:
      break
  }
  if (isTime(v)) return { text: formatTimeRfc3339(v), style: 'plain' }
  if (isSemver(v)) {
    const s = semverString(v)
    return { text: s, style: chooseStringStyle(s, false) }
  }
  throw new ExprRuntimeError('yaml: cannot marshal value')
}

function renderStyled(text: string, style: Style): string {
  switch (style) {
    case 'plain':
      return text
    case 'single':
      return `'${text.replace(/'/g, "''")}'`
    case 'double':
      return doubleQuoted(text)
    case 'literal':
      // Only reachable for keys, which never use the literal style.
      return doubleQuoted(text)
  }
}

const OLD_BOOLS = new Set([
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'on',
  'On',
  'ON',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'off',
  'Off',
  'OFF',
])
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/

/** go-yaml's `stringv` style request followed by the emitter's `select_scalar_style`. */
function chooseStringStyle(s: string, isKey: boolean): Style {
  const canUsePlain = resolvesToString(s) && !BASE60_FLOAT.test(s) && !OLD_BOOLS.has(s)
  let style: Style = s.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double'
  // Line breaks other than \n would need go-yaml's folding rules; double quotes always round-trip.
  if (/[\r\u0085\u2028\u2029]/.test(s)) return 'double'
  const a = analyze(s)
  if (isKey && a.multiline) style = 'double'
  if (style === 'plain') {
    if (!a.blockPlainAllowed) style = 'single'
    if (s.length === 0 && isKey) style = 'single'
  }
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double'
  if (style === 'literal' && (!a.blockAllowed || isKey)) style = 'double'
  return style
}

interface Analysis {
  multiline: boolean
  blockPlainAllowed: boolean
  singleQuotedAllowed: boolean
  blockAllowed: boolean
}

/** Printable in libyaml's sense (code points; astral characters are not). */
function yamlPrintable(cp: number): boolean {
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  )
}

const isBreak = (cp: number | undefined): boolean =>
  cp === 0x0a || cp === 0x0d || cp === 0x85 || cp === 0x2028 || cp === 0x2029
const isBlank = (cp: number | undefined): boolean => cp === 0x20 || cp === 0x09

/** libyaml's `analyze_scalar`, restricted to what the block-context style choice needs. */
function analyze(s: string): Analysis {
  if (s.length === 0)
    return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false }
  const cps = Array.from(s, (c) => c.codePointAt(0) ?? 0)
  let blockIndicators = s.startsWith('---') || s.startsWith('...')
  let lineBreaks = false
  let special = false
  let tabs = false
  let leadingSpace = false
  let leadingBreak = false
  let trailingSpace = false
  let trailingBreak = false
  let breakSpace = false
  let spaceBreak = false
  let precededByWhitespace = true
  let previousSpace = false
  let previousBreak = false
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i] ?? 0
    const next = cps[i + 1]
    const followedByWhitespace = i + 1 >= cps.length || isBlank(next)
    const ch = String.fromCodePoint(c)
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true
      if ((ch === '?' || ch === ':') && followedByWhitespace) blockIndicators = true
      if (ch === '-' && followedByWhitespace) blockIndicators = true
    } else {
      if (ch === ':' && followedByWhitespace) blockIndicators = true
      if (ch === '#' && precededByWhitespace) blockIndicators = true
    }
    if (c === 0x09) tabs = true
    else if (!yamlPrintable(c)) special = true
    if (c === 0x20) {
      if (i === 0) leadingSpace = true
      if (i === cps.length - 1) trailingSpace = true
      if (previousBreak) breakSpace = true
      previousSpace = true
      previousBreak = false
    } else if (isBreak(c)) {
      lineBreaks = true
      if (i === 0) leadingBreak = true
      if (i === cps.length - 1) trailingBreak = true
      if (previousSpace) spaceBreak = true
      previousSpace = false
      previousBreak = true
    } else {
      previousSpace = false
      previousBreak = false
    }
    precededByWhitespace = isBlank(c) || isBreak(c) || c === 0
  }
  let blockPlainAllowed = true
  let singleQuotedAllowed = true
  let blockAllowed = true
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false
  if (trailingSpace) blockAllowed = false
  if (breakSpace) {
    blockPlainAllowed = false
    singleQuotedAllowed = false
  }
  if (spaceBreak || tabs || special) {
    blockPlainAllowed = false
    singleQuotedAllowed = false
  }
  if (spaceBreak || special) blockAllowed = false
  if (lineBreaks) blockPlainAllowed = false
  if (blockIndicators) blockPlainAllowed = false
  return { multiline: lineBreaks, blockPlainAllowed, singleQuotedAllowed, blockAllowed }
}

function doubleQuoted(s: string): string {
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0
    if (yamlPrintable(cp) && cp !== 0xfeff && !isBreak(cp) && ch !== '"' && ch !== '\\') {
      out += ch
      continue
    }
    const named: Record<number, string> = {
      0x00: '0',
      0x07: 'a',
      0x08: 'b',
      0x09: 't',
      0x0a: 'n',
      0x0b: 'v',
      0x0c: 'f',
      0x0d: 'r',
      0x1b: 'e',
      0x22: '"',
      0x5c: '\\',
      0x85: 'N',
      0xa0: '_',
      0x2028: 'L',
      0x2029: 'P',
    }
    const n = named[cp]
    if (n !== undefined) out += `\\${n}`
    else if (cp <= 0xff) out += `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`
    else out += `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`
  }
  return `${out}"`
}

/** `|` plus go-yaml's indentation hint (when the text starts with a space or break) and chomping indicator. */
function literalHeader(s: string): string {
  let header = '|'
  if (s.startsWith(' ') || s.startsWith('\n')) header += String(BEST_INDENT)
  if (!s.endsWith('\n')) header += '-'
  else if (s === '\n' || s.endsWith('\n\n')) header += '+'
  return header
}

function literalLines(s: string): string[] {
  const lines = s.split('\n')
  if (s.endsWith('\n')) lines.pop()
  return lines
}

/** go-yaml v3's resolver: would this text, written plain, read back as a string? */
function resolvesToString(s: string): boolean {
  if (s === '') return false
  const first = s[0] ?? ''
  let hint: 'S' | 'D' | 'M' | '.' | '' = ''
  if (first === '+' || first === '-') hint = 'S'
  else if (first >= '0' && first <= '9') hint = 'D'
  else if ('yYnNtTfFoO~'.includes(first)) hint = 'M'
  else if (first === '.') hint = '.'
  if (hint === '') return true
  if (RESOLVE_MAP.has(s)) return false
  switch (hint) {
    case 'M':
      return true
    case '.':
      return parseGoFloat(s) === undefined
    default:
      break
  }
  if (isYamlTimestamp(s)) return false
  const plain = s.replace(/_/g, '')
  if (parseGoIntBase0(plain)) return false
  if (
    /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain) &&
    parseGoFloat(plain) !== undefined
  ) {
    return false
  }
  if (/^-?0b[01]+$/.test(plain) || /^-?0o[0-7]+$/.test(plain)) return false
  return true
}

const RESOLVE_MAP = new Set([
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  '~',
  'null',
  'Null',
  'NULL',
  '.nan',
  '.NaN',
  '.NAN',
  '.inf',
  '.Inf',
  '.INF',
  '+.inf',
  '+.Inf',
  '+.INF',
  '-.inf',
  '-.Inf',
  '-.INF',
])

/** Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeding. */
function parseGoIntBase0(s: string): boolean {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s)
  if (!m) return false
  const sign = m[1] ?? ''
  let body = m[2] ?? '0'
  if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`
  const magnitude = BigInt(body.toLowerCase())
  if (sign === '-') return magnitude <= 9223372036854775808n
  if (sign === '+') return magnitude <= 9223372036854775807n
  return magnitude <= 18446744073709551615n
}

/** go-yaml's timestamp forms: `2006-1-2`, with `T`/`t`/space and a time, optional fraction and zone. */
function isYamlTimestamp(s: string): boolean {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?))?$/.exec(
      s,
    )
  if (!m) return false
  const month = Number(m[2])
  const day = Number(m[3])
  if (month < 1 || month > 12 || day < 1 || day > 31) return false
  const hour = Number(m[4] ?? m[7] ?? 0)
  const minute = Number(m[5] ?? m[8] ?? 0)
  const second = Number(m[6] ?? m[9] ?? 0)
  return hour < 24 && minute < 60 && second < 60
}

const IS_LETTER = /^\p{L}$/u
const IS_DIGIT = /^\p{Nd}$/u

/** go-yaml's key order: letters by code point, digit runs by numeric value ("a2" before "a10"). */
export function yamlKeyCompare(a: string, b: string): number {
  if (a === b) return 0
  return yamlKeyLess(a, b) ? -1 : yamlKeyLess(b, a) ? 1 : 0
}

function yamlKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a)
  const br = Array.from(b)
  const cp = (s: string | undefined): number => s?.codePointAt(0) ?? 0
  const isDigit = (s: string | undefined): boolean => s !== undefined && IS_DIGIT.test(s)
  let digits = false
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) {
      digits = isDigit(ar[i])
      continue
    }
    const al = IS_LETTER.test(ar[i] ?? '')
    const bl = IS_LETTER.test(br[i] ?? '')
    if (al && bl) return cp(ar[i]) < cp(br[i])
    if (al || bl) return digits ? al : bl
    let an = 0
    let bn = 0
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1
          bn = 1
          break
        }
      }
    }
    let ai = i
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10 + (cp(ar[ai]) - 48)
    let bi = i
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10 + (cp(br[bi]) - 48)
    if (an !== bn) return an < bn
    if (ai !== bi) return ai < bi
    return cp(ar[i]) < cp(br[i])
  }
  return ar.length < br.length
}
