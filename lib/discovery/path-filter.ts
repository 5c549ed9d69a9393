import { RE2JS } from 're2js'
import { ValidationError } from '../errors.js'
import { cleanPath } from '../model/go-compat.js'
import { compileRe2 } from '../regex/re2.js'

/**
 * Git subscriptions' `includePaths` / `excludePaths` (Kargo `pkg/pattern`): an entry is a base directory, a
 * `glob:` (doublestar v4 rules) or a `regex:` / `regexp:` (RE2, unanchored). Paths use `/`.
 */

export interface PathFilterOptions {
  includePaths?: readonly string[]
  excludePaths?: readonly string[]
}

/**
 * Compile the filters into a commit predicate. A commit qualifies when some changed path is included (any path,
 * when there are no includes) and not excluded. With no filters at all every commit qualifies; once any filter is
 * set, a commit with no changed paths never does. Bad entries throw a ValidationError naming the entry.
 */
export function compilePathFilter(opts: PathFilterOptions): (changedPaths: readonly string[]) => boolean {
  const include = (opts.includePaths ?? []).map((e, i) => compilePathPattern(e, `includePaths[${i}]`))
  const exclude = (opts.excludePaths ?? []).map((e, i) => compilePathPattern(e, `excludePaths[${i}]`))
  if (include.length === 0 && exclude.length === 0) return () => true
  return (changedPaths) =>
    changedPaths.some(
      (path) => (include.length === 0 || include.some((m) => m(path))) && !exclude.some((m) => m(path)),
    )
}

/** Compile one `includePaths`/`excludePaths` entry into a path predicate. */
export function compilePathPattern(entry: string, field?: string): (path: string) => boolean {
  if (entry.startsWith('glob:')) return compileGlob(entry.slice('glob:'.length), entry, field)
  if (entry.startsWith('regex:')) return regexMatcher(entry.slice('regex:'.length), field)
  if (entry.startsWith('regexp:')) return regexMatcher(entry.slice('regexp:'.length), field)
  return baseDirMatcher(entry)
}

function regexMatcher(pattern: string, field: string | undefined): (path: string) => boolean {
  const re = compileRe2(pattern, field)
  return (path) => re.test(path)
}

// Kargo: `filepath.Rel(base, path)` succeeds and the result does not contain "..". The substring test is Kargo's
// own, so `base/a..b` is (surprisingly) not beneath `base`; kept for identical results.
function baseDirMatcher(base: string): (path: string) => boolean {
  const cleanBase = cleanPath(base)
  return (path) => {
    const rel = relPath(cleanBase, cleanPath(path))
    return rel !== null && !rel.includes('..')
  }
}

// Go's filepath.Rel (Unix) for already-cleaned paths; null where Go returns an error.
function relPath(base: string, target: string): string | null {
  if (base === target) return '.'
  const b = base === '.' ? '' : base
  if (b.startsWith('/') !== target.startsWith('/')) return null
  const split = (p: string): string[] => (p === '' ? [] : p === '/' ? [''] : p.split('/'))
  const bs = split(b)
  const ts = split(target)
  let i = 0
  while (i < bs.length && i < ts.length && bs[i] === ts[i]) i++
  if (bs[i] === '..') return null
  const ups = bs.length - i
  const rest = ts.slice(i).join('/')
  if (ups === 0) return rest
  return [...Array<string>(ups).fill('..'), ...(rest === '' ? [] : [rest])].join('/')
}

// ---- glob: doublestar v4 ----

const MAX_EXPANSIONS = 1024

function compileGlob(pattern: string, entry: string, field: string | undefined): (path: string) => boolean {
  const bad = (reason: string): ValidationError =>
    new ValidationError(`${field ? `${field}: ` : ''}invalid glob ${JSON.stringify(entry)}: ${reason}`, {
      data: { pattern: entry },
      ...(field ? { path: field } : {}),
    })
  if (!validGlob(pattern)) throw bad('unterminated `[`, `{` or `\\`, an empty `[]`, or a stray `}`')
  const alternatives = expandBraces(pattern)
  if (alternatives === null) throw bad(`more than ${MAX_EXPANSIONS} brace alternatives`)
  const source = alternatives.map(globToRe2).join('|')
  // Generated RE2 (not JS RegExp): linear time, whatever the number of `*`.
  const re = RE2JS.compile(`(?s)^(?:${source})$`)
  return (path) => re.test(path)
}

// doublestar's ValidatePattern.
function validGlob(s: string): boolean {
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') {
      i++
      if (i >= s.length) return false
    } else if (c === '[') {
      i++
      if (i >= s.length) return false
      if (s[i] === '^' || s[i] === '!') i++
      if (i >= s.length || s[i] === ']') return false
      for (; i < s.length; i++) {
        if (s[i] === '\\') i++
        else if (s[i] === ']') break
      }
      if (i >= s.length) return false
    } else if (c === '{') {
      depth++
    } else if (c === '}') {
      if (depth === 0) return false
      depth--
    }
  }
  return depth === 0
}

// Index just past the character class starting at `i` (which is `[`), for a valid pattern.
function skipClass(s: string, i: number): number {
  let j = i + 1
  if (s[j] === '^' || s[j] === '!') j++
  // (validGlob has ruled out an empty class, so a `]` here closes it)
  for (; j < s.length; j++) {
    if (s[j] === '\\') j++
    else if (s[j] === ']') return j + 1
  }
  return s.length
}

// `{a,b}` alternatives, expanded (nested too) as doublestar substitutes them; null when there are too many.
function expandBraces(pattern: string): string[] | null {
  let open = -1
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') i++
    else if (c === '[') i = skipClass(pattern, i) - 1
    else if (c === '{') {
      open = i
      break
    }
  }
  if (open < 0) return [pattern]
  let depth = 0
  let close = -1
  const commas: number[] = []
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') i++
    else if (c === '[') i = skipClass(pattern, i) - 1
    else if (c === '{') depth++
    else if (c === '}') {
      depth--
      if (depth === 0) {
        close = i
        break
      }
    } else if (c === ',' && depth === 1) commas.push(i)
  }
  if (close < 0) return [pattern]
  const bounds = [open, ...commas, close]
  const head = pattern.slice(0, open)
  const tail = pattern.slice(close + 1)
  const out: string[] = []
  for (let k = 0; k + 1 < bounds.length; k++) {
    const alt = pattern.slice((bounds[k] ?? 0) + 1, bounds[k + 1])
    const expanded = expandBraces(head + alt + tail)
    if (expanded === null) return null
    out.push(...expanded)
    if (out.length > MAX_EXPANSIONS) return null
  }
  return out
}

function lit(ch: string): string {
  return /^[A-Za-z0-9]$/.test(ch) ? ch : `\\x{${(ch.codePointAt(0) ?? 0).toString(16)}}`
}

// What doublestar accepts as a whole remaining pattern once the name is used up.
const ZERO_LENGTH = new Set(['', '*', '**', '/**', '**/', '/**/'])

/** One brace-free doublestar pattern as an RE2 fragment (to be anchored by the caller). */
function globToRe2(p: string): string {
  const pieces: { at: number; re: string }[] = []
  let i = 0
  let segmentStart = true
  while (i < p.length) {
    const at = i
    const c = p[i] ?? ''
    if (c === '*') {
      if (p[i + 1] === '*' && segmentStart) {
        if (i + 2 >= p.length) {
          pieces.push({ at, re: '.*' }) // trailing `**`: everything below
          i += 2
          continue
        }
        if (p[i + 2] === '/') {
          pieces.push({ at, re: '(?:.*/)?' }) // `**/`: zero or more directories
          i += 3
          continue
        }
      }
      // `*`, or a `**` that is not a whole segment (bash globstar: same as `*`)
      i += p[i + 1] === '*' ? 2 : 1
      pieces.push({ at, re: '[^/]*' })
      segmentStart = false
    } else if (c === '?') {
      pieces.push({ at, re: '[^/]' })
      i++
      segmentStart = false
    } else if (c === '[') {
      const end = skipClass(p, i)
      pieces.push({ at, re: classToRe2(p.slice(i + 1, end - 1)) })
      i = end
      segmentStart = false
    } else {
      if (c === '\\') i++
      const ch = String.fromCodePoint(p.codePointAt(i) ?? 0)
      pieces.push({ at, re: lit(ch) })
      i += ch.length
      segmentStart = ch === '/'
    }
  }
  // Build from the end: wherever the rest of the pattern may match nothing, the match may stop there.
  let tail = ''
  for (let k = pieces.length - 1; k >= 0; k--) {
    const piece = pieces[k]
    if (!piece) continue
    tail = piece.re + tail
    if (ZERO_LENGTH.has(p.slice(piece.at))) tail = `(?:${tail})?`
  }
  return tail
}

// The inside of a doublestar `[...]`: `!`/`^` negates, `a-z` ranges, `\` escapes.
function classToRe2(body: string): string {
  let i = 0
  let negate = false
  if (body[0] === '!' || body[0] === '^') {
    negate = true
    i = 1
  }
  const items: string[] = []
  let last: number | null = null
  while (i < body.length) {
    let cp = body.codePointAt(i) ?? 0
    i += cp > 0xffff ? 2 : 1
    if (cp === 0x2d /* - */ && last !== null && i < body.length) {
      if (body[i] === '\\') i++
      const hi = body.codePointAt(i) ?? 0
      i += hi > 0xffff ? 2 : 1
      if (last <= hi) {
        items.pop()
        items.push(`\\x{${last.toString(16)}}-\\x{${hi.toString(16)}}`)
      }
      last = null
      continue
    }
    if (cp === 0x5c /* \ */ && i < body.length) {
      cp = body.codePointAt(i) ?? 0
      i += cp > 0xffff ? 2 : 1
    }
    items.push(`\\x{${cp.toString(16)}}`)
    last = cp
  }
  if (items.length === 0) return negate ? '[\\x{0}-\\x{10ffff}]' : '[^\\x{0}-\\x{10ffff}]'
  return `[${negate ? '^' : ''}${items.join('')}]`
}
