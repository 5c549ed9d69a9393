/**
 * Tokenizer for the expr-lang subset (see docs/expressions.md). Token rules follow expr-lang's lexer: `'…'`/`"…"`
 * strings with Go-style escapes, raw backtick strings, Go number literals (`0x`, `0o`, `0b`, `_` separators, `.5`),
 * `//` and `/* *\/` comments, word operators (`and`, `or`, `not`, `in`, `matches`, `contains`, `startsWith`,
 * `endsWith`, `let`, `if`, `else`) and symbol operators.
 */
import { ExpressionSyntaxError } from './errors.js'

export type TokenKind = 'eof' | 'ident' | 'number' | 'string' | 'op' | 'bracket'

export interface Token {
  kind: TokenKind
  /** For strings, the unescaped value; otherwise the source text. */
  value: string
  /** Offset of the first character in the source. */
  pos: number
}

const WORD_OPERATORS = new Set([
  'not',
  'in',
  'or',
  'and',
  'matches',
  'contains',
  'startsWith',
  'endsWith',
  'let',
  'if',
  'else',
])
const ALNUM = /[\p{L}\p{Nd}_$]/u
const SPACE = /\s/u

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && ALNUM.test(c)
}

/** Splits an expression into tokens, ending with an `eof` token. Throws `ExpressionSyntaxError`. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const err = (message: string, at: number): never => {
    throw new ExpressionSyntaxError(message, at)
  }
  while (i < src.length) {
    const start = i
    const cp = src.codePointAt(i) ?? 0
    const c = String.fromCodePoint(cp)
    if (SPACE.test(c)) {
      i += c.length
      continue
    }
    if (c === '"' || c === "'") {
      const { value, end } = scanString(src, i, c, err)
      tokens.push({ kind: 'string', value, pos: start })
      i = end
      continue
    }
    if (c === '`') {
      const close = src.indexOf('`', i + 1)
      if (close < 0) err('literal not terminated', start)
      tokens.push({ kind: 'string', value: src.slice(i + 1, close).replace(/\r\n?/g, '\n'), pos: start })
      i = close + 1
      continue
    }
    if (c >= '0' && c <= '9') {
      const end = scanNumber(src, i, err)
      tokens.push({ kind: 'number', value: src.slice(i, end), pos: start })
      i = end
      continue
    }
    if (c === '.') {
      const next = src[i + 1]
      if (next !== undefined && next >= '0' && next <= '9') {
        const end = scanNumber(src, i, err)
        tokens.push({ kind: 'number', value: src.slice(i, end), pos: start })
        i = end
        continue
      }
      const op = next === '.' ? '..' : '.'
      tokens.push({ kind: 'op', value: op, pos: start })
      i += op.length
      continue
    }
    if (c === '?') {
      const next = src[i + 1]
      const op = next === '.' || next === '?' ? `?${next}` : '?'
      tokens.push({ kind: 'op', value: op, pos: start })
      i += op.length
      continue
    }
    if (c === '/') {
      if (src[i + 1] === '/') {
        const nl = src.indexOf('\n', i + 2)
        i = nl < 0 ? src.length : nl + 1
        continue
      }
      if (src[i + 1] === '*') {
        const close = src.indexOf('*/', i + 2)
        if (close < 0) err('unclosed comment', start)
        i = close + 2
        continue
      }
      tokens.push({ kind: 'op', value: '/', pos: start })
      i++
      continue
    }
    if (c === '#') {
      tokens.push({ kind: 'op', value: '#', pos: start })
      i++
      let j = i
      while (j < src.length && isAlnum(String.fromCodePoint(src.codePointAt(j) ?? 0)))
        j += String.fromCodePoint(src.codePointAt(j) ?? 0).length
      if (j > i) {
        tokens.push({ kind: 'ident', value: src.slice(i, j), pos: i })
        i = j
      }
      continue
    }
    if (c === '|') {
      const op = src[i + 1] === '|' ? '||' : '|'
      tokens.push({ kind: 'op', value: op, pos: start })
      i += op.length
      continue
    }
    if (c === ':') {
      const op = src[i + 1] === ':' ? '::' : ':'
      tokens.push({ kind: 'op', value: op, pos: start })
      i += op.length
      continue
    }
    if ('([{'.includes(c) || ')]}'.includes(c)) {
      tokens.push({ kind: 'bracket', value: c, pos: start })
      i++
      continue
    }
    if (',;%+-^'.includes(c)) {
      tokens.push({ kind: 'op', value: c, pos: start })
      i++
      continue
    }
    if ('&!=*<>'.includes(c)) {
      const next = src[i + 1]
      const op = next !== undefined && '&=*'.includes(next) ? c + next : c
      tokens.push({ kind: 'op', value: op, pos: start })
      i += op.length
      continue
    }
    if (isAlnum(c)) {
      let j = i
      while (j < src.length) {
        const ch = String.fromCodePoint(src.codePointAt(j) ?? 0)
        if (!isAlnum(ch)) break
        j += ch.length
      }
      const word = src.slice(i, j)
      tokens.push({ kind: WORD_OPERATORS.has(word) ? 'op' : 'ident', value: word, pos: start })
      i = j
      continue
    }
    err(`unrecognized character: ${describeChar(cp)}`, start)
  }
  tokens.push({ kind: 'eof', value: '', pos: src.length })
  return tokens
}

/** A code point as Go would store it: surrogates are not runes, so they become U+FFFD. */
function runeText(cp: number): string {
  return cp >= 0xd800 && cp <= 0xdfff ? '\uFFFD' : String.fromCodePoint(cp)
}

function describeChar(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
}

function scanNumber(src: string, start: number, err: (m: string, at: number) => never): number {
  let i = start
  let digits = /[0-9_]/
  if (src[i] === '0') {
    i++
    const p = src[i]
    if (p === 'x' || p === 'X') {
      digits = /[0-9a-fA-F_]/
      i++
    } else if (p === 'o' || p === 'O') {
      digits = /[0-7_]/
      i++
    } else if (p === 'b' || p === 'B') {
      digits = /[01_]/
      i++
    }
  }
  const run = (): void => {
    while (i < src.length && digits.test(src[i] ?? '')) i++
  }
  run()
  if (src[i] === '.') {
    // `1..3` is a range, not the float `1.` followed by `.3`.
    if (src[i + 1] === '.') return i
    i++
    run()
  }
  if (src[i] === 'e' || src[i] === 'E') {
    i++
    if (src[i] === '+' || src[i] === '-') i++
    run()
  }
  const next = src.codePointAt(i)
  if (next !== undefined && isAlnum(String.fromCodePoint(next)))
    err(`bad number syntax: ${src.slice(start, i + 1)}`, start)
  return i
}

function scanString(
  src: string,
  start: number,
  quote: string,
  err: (m: string, at: number) => never,
): { value: string; end: number } {
  let i = start + 1
  let out = ''
  for (;;) {
    if (i >= src.length) err('literal not terminated', start)
    const c = src[i] ?? ''
    if (c === quote) return { value: out, end: i + 1 }
    if (c === '\r') {
      out += '\n'
      i += src[i + 1] === '\n' ? 2 : 1
      continue
    }
    if (c !== '\\') {
      out += c
      i++
      continue
    }
    const e = src[i + 1]
    if (e === undefined) err('literal not terminated', start)
    i += 2
    const simple: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      "'": "'",
      '"': '"',
      '`': '`',
      '?': '?',
    }
    const s = e === undefined ? undefined : simple[e]
    if (s !== undefined) {
      out += s
      continue
    }
    if (e === 'u' && src[i] === '{') {
      const close = src.indexOf('}', i)
      const hexText = close < 0 ? '' : src.slice(i + 1, close)
      if (!/^[0-9a-fA-F]{1,6}$/.test(hexText)) err('unable to unescape string', start)
      const cp = parseInt(hexText, 16)
      if (cp > 0x10ffff) err('unable to unescape string', start)
      out += runeText(cp)
      i = close + 1
      continue
    }
    if (e === 'x' || e === 'X' || e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : e === 'U' ? 8 : 2
      const hexText = src.slice(i, i + n)
      if (hexText.length !== n || !/^[0-9a-fA-F]+$/.test(hexText)) err('unable to unescape string', start)
      const cp = parseInt(hexText, 16)
      if (cp > 0x10ffff) err('unable to unescape string', start)
      out += runeText(cp)
      i += n
      continue
    }
    if (e !== undefined && e >= '0' && e <= '3') {
      const octal = e + src.slice(i, i + 2)
      if (!/^[0-3][0-7]{2}$/.test(octal)) err('unable to unescape octal sequence in string', start)
      out += String.fromCodePoint(parseInt(octal, 8))
      i += 2
      continue
    }
    err('unable to unescape string', start)
  }
}
