/*
 * `.gitignore`-style patterns as go-git v5 (`plumbing/format/gitignore`) reads them, which is what Kargo's `copy`,
 * `tar` and `untar` use for `ignore`. Paths are matched as lists of components relative to the pattern's directory.
 *   - `!` re-includes; a trailing `/` matches directories only; trailing spaces are dropped (unless escaped);
 *   - a pattern without `/` matches any one component at any depth (`*.log`, `node_modules`);
 *   - a pattern with `/` is anchored and matched component by component (`build/*.js`, `/dist`), `**` spanning any
 *     number of directories; a directory's match covers everything beneath it;
 *   - components are matched with Go's `filepath.Match` (`*`, `?`, `[a-z]`, `[^a]`, `\` escapes);
 *   - the last matching pattern decides.
 */

export interface IgnorePattern {
  parts: string[]
  inclusion: boolean
  dirOnly: boolean
  anchored: boolean
}

/** A predicate over a path's components (relative to where the rules apply): true when the path is ignored. */
export type IgnoreMatcher = (path: readonly string[], isDir: boolean) => boolean

/** go-git's `ParsePattern`. */
export function parseIgnorePattern(text: string): IgnorePattern {
  let p = text
  let inclusion = false
  if (p.startsWith('!')) {
    inclusion = true
    p = p.slice(1)
  }
  if (!p.endsWith('\\ ')) p = p.replace(/ +$/, '')
  let dirOnly = false
  if (p.endsWith('/')) {
    dirOnly = true
    p = p.slice(0, -1)
  }
  return { parts: p.split('/'), inclusion, dirOnly, anchored: p.includes('/') }
}

/**
 * Reads a multi-line `ignore` value: one pattern per line; blank lines and lines starting with `#` are skipped. With
 * `trim`, each line is trimmed first (Kargo's `tar`); otherwise only trailing spaces go (Kargo's `copy`).
 */
export function parseIgnoreRules(rules: string, options: { trim?: boolean } = {}): IgnorePattern[] {
  const out: IgnorePattern[] = []
  for (const raw of rules.split('\n')) {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (options.trim) line = line.trim()
    if (line.startsWith('#') || line.trim() === '') continue
    out.push(parseIgnorePattern(line))
  }
  return out
}

/** go-git's `Matcher`: the last pattern that matches decides (ignored, or re-included by `!`). */
export function ignoreMatcher(patterns: readonly IgnorePattern[]): IgnoreMatcher {
  return (path, isDir) => {
    for (let i = patterns.length - 1; i >= 0; i--) {
      const p = patterns[i]
      if (p && patternMatches(p, path, isDir)) return !p.inclusion
    }
    return false
  }
}

function patternMatches(p: IgnorePattern, path: readonly string[], isDir: boolean): boolean {
  if (path.length === 0) return false
  return p.anchored ? globMatch(p, path, isDir) : simpleNameMatch(p, path, isDir)
}

function simpleNameMatch(p: IgnorePattern, path: readonly string[], isDir: boolean): boolean {
  const pattern = p.parts[0] ?? ''
  for (let i = 0; i < path.length; i++) {
    if (!goFilepathMatch(pattern, path[i] ?? '')) continue
    if (p.dirOnly && !isDir && i === path.length - 1) return false
    return true
  }
  return false
}

function globMatch(p: IgnorePattern, fullPath: readonly string[], isDir: boolean): boolean {
  let path = [...fullPath]
  let matched = false
  let canTraverse = false
  for (let i = 0; i < p.parts.length; i++) {
    const pattern = p.parts[i] ?? ''
    if (pattern === '') {
      canTraverse = false
      continue
    }
    if (pattern === '**') {
      if (i === p.parts.length - 1) break
      canTraverse = true
      continue
    }
    if (pattern.includes('**')) return false
    if (path.length === 0) return false
    if (canTraverse) {
      canTraverse = false
      while (path.length > 0) {
        const e = path[0] ?? ''
        path = path.slice(1)
        if (goFilepathMatch(pattern, e)) {
          matched = true
          break
        } else if (path.length === 0) {
          matched = false
        }
      }
    } else {
      if (!goFilepathMatch(pattern, path[0] ?? '')) return false
      matched = true
      path = path.slice(1)
    }
  }
  if (matched && p.dirOnly && !isDir && path.length === 0) matched = false
  return matched
}

/** Go's `filepath.Match` on Unix; a malformed pattern matches nothing (go-git treats the error as no match). */
export function goFilepathMatch(pattern: string, name: string): boolean {
  try {
    return match(Array.from(pattern), Array.from(name))
  } catch {
    return false
  }
}

class BadPattern extends Error {}

function match(patternIn: string[], nameIn: string[]): boolean {
  let pattern = patternIn
  let name = nameIn
  outer: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern)
    pattern = rest
    if (star && chunk.length === 0) return !name.includes('/')
    const first = matchChunk(chunk, name)
    if (first !== null && (first.length === 0 || pattern.length > 0)) {
      name = first
      continue
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t = matchChunk(chunk, name.slice(i + 1))
        if (t !== null) {
          if (pattern.length === 0 && t.length > 0) continue
          name = t
          continue outer
        }
      }
    }
    // Go validates the rest of the pattern before reporting a mismatch.
    while (pattern.length > 0) {
      const next = scanChunk(pattern)
      pattern = next.rest
      matchChunk(next.chunk, [])
    }
    return false
  }
  return name.length === 0
}

function scanChunk(patternIn: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let pattern = patternIn
  let star = false
  while (pattern[0] === '*') {
    pattern = pattern.slice(1)
    star = true
  }
  let inRange = false
  let i = 0
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++
        break
      case '[':
        inRange = true
        break
      case ']':
        inRange = false
        break
      case '*':
        if (!inRange) break scan
        break
      default:
        break
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) }
}

/** The rest of `s` after `chunk` matched its start, or null. Throws BadPattern for a malformed chunk. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | null {
  let chunk = chunkIn
  let s = sIn
  let failed = false
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true
    const c = chunk[0]
    if (c === '[') {
      let r = ''
      if (!failed) {
        r = s[0] ?? ''
        s = s.slice(1)
      }
      chunk = chunk.slice(1)
      let negated = false
      if (chunk[0] === '^') {
        negated = true
        chunk = chunk.slice(1)
      }
      let matched = false
      let nrange = 0
      for (;;) {
        if (chunk[0] === ']' && nrange > 0) {
          chunk = chunk.slice(1)
          break
        }
        const lo = getEsc(chunk)
        chunk = lo.rest
        let hi = lo.r
        if (chunk[0] === '-') {
          const h = getEsc(chunk.slice(1))
          chunk = h.rest
          hi = h.r
        }
        const cp = r.codePointAt(0) ?? -1
        if ((lo.r.codePointAt(0) ?? 0) <= cp && cp <= (hi.codePointAt(0) ?? 0)) matched = true
        nrange++
      }
      if (matched === negated) failed = true
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true
        s = s.slice(1)
      }
      chunk = chunk.slice(1)
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1)
        if (chunk.length === 0) throw new BadPattern()
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true
        s = s.slice(1)
      }
      chunk = chunk.slice(1)
    }
  }
  return failed ? null : s
}

function getEsc(chunkIn: string[]): { r: string; rest: string[] } {
  let chunk = chunkIn
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPattern()
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1)
    if (chunk.length === 0) throw new BadPattern()
  }
  const r = chunk[0] ?? ''
  const rest = chunk.slice(1)
  if (rest.length === 0) throw new BadPattern()
  return { r, rest }
}
