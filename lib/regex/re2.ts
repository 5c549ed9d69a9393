import { RE2JS, RE2JSException } from 're2js'
import { ValidationError } from '../errors.js'

/**
 * Go `regexp` (RE2) semantics for user-supplied patterns: `allowTagsRegexes`, `ignoreTagsRegexes`, `regex:` paths.
 * Matching is a search (unanchored) and runs in linear time. JS `RegExp` would accept lookaround and backreferences
 * and reject `(?i)`, `\z` or `[[:digit:]]`; RE2 does the opposite.
 */

/** A compiled RE2 pattern. */
export interface Re2 {
  readonly source: string
  /** True when the pattern matches anywhere in `s` (Go's `MatchString`). */
  test(s: string): boolean
}

/** Compile `pattern` with Go's syntax; a bad pattern throws a ValidationError naming `field` and the pattern. */
export function compileRe2(pattern: string, field?: string): Re2 {
  let re: RE2JS
  try {
    re = RE2JS.compile(pattern)
  } catch (error) {
    const reason = error instanceof RE2JSException ? error.message : String(error)
    throw new ValidationError(
      `${field ? `${field}: ` : ''}invalid regular expression ${JSON.stringify(pattern)}: ${reason}`,
      { data: { pattern }, cause: error, ...(field ? { path: field } : {}) },
    )
  }
  return { source: pattern, test: (s: string) => re.test(s) }
}

export interface TagFilterOptions {
  allowTagsRegexes?: readonly string[]
  ignoreTagsRegexes?: readonly string[]
}

/**
 * Kargo's tag filter: a tag matching any ignore regex is dropped; otherwise it is kept when there are no allow
 * regexes or when any of them matches. Compiles eagerly, so a bad pattern throws (ValidationError) here.
 */
export function tagFilter(opts: TagFilterOptions): (tag: string) => boolean {
  const allow = (opts.allowTagsRegexes ?? []).map((p, i) => compileRe2(p, `allowTagsRegexes[${i}]`))
  const ignore = (opts.ignoreTagsRegexes ?? []).map((p, i) => compileRe2(p, `ignoreTagsRegexes[${i}]`))
  return (tag: string): boolean => {
    if (ignore.some((re) => re.test(tag))) return false
    return allow.length === 0 || allow.some((re) => re.test(tag))
  }
}
