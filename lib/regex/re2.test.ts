import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { compileRe2, tagFilter } from './re2.js'

describe('compileRe2', () => {
  it.each([
    // unanchored search, like Go's MatchString
    ['^v1', 'v1.2.3', true],
    ['1\\.2', 'v1.2.3', true],
    ['^1\\.2', 'v1.2.3', false],
    ['alpha', 'v1.0.0-alpha.1', true],
    // RE2 features Node's RegExp rejects or reads differently
    ['(?i)^RELEASE-', 'release-1', true],
    ['(?i)abc', 'xABCx', true],
    ['abc\\z', 'xxabc', true],
    ['abc\\z', 'abc\n', false],
    ['abc$', 'abc\n', false], // Go's `$` without (?m) is end of text, not before a final newline
    ['\\Aabc', 'abc', true],
    ['^[[:digit:]]+$', '20231001', true],
    ['^[[:digit:]]+$', '2023-10-01', false],
    ['^[[:^alpha:]]+$', '123', true],
    ['^\\pL+$', 'héllo', true],
    ['^\\p{Greek}+$', 'αβγ', true],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['(?m)^b$', 'a\nb\nc', true],
    ['(?U)a+', 'aaa', true],
    ['(?P<name>x)', 'x', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['^\\x{1F600}$', '\u{1f600}', true],
    ['', 'anything', true],
  ])('%j on %j → %s', (pattern, input, expected) => {
    expect(compileRe2(pattern).test(input)).toBe(expected)
  })

  it.each([
    ['(?=a)', 'lookahead'],
    ['(?!a)b', 'negative lookahead'],
    ['(?<=a)b', 'lookbehind'],
    ['(?<!a)b', 'negative lookbehind'],
    ['(a)\\1', 'backreference'],
    ['(', 'unbalanced'],
    ['a**', 'nested repetition'],
    ['x++', 'possessive'],
    ['a{1001}', 'repeat count'],
    ['\\Z', 'JS-only escape'],
    ['[a-\\d]', 'bad class range'],
    ['[z-a]', 'reversed range'],
  ])('rejects %j (%s) with a ValidationError naming field and pattern', (pattern) => {
    let error: unknown
    try {
      compileRe2(pattern, 'spec.subscriptions[0].image.allowTagsRegexes[0]')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    const v = error as ValidationError
    expect(v.message).toContain('spec.subscriptions[0].image.allowTagsRegexes[0]')
    expect(v.message).toContain(JSON.stringify(pattern))
    expect(v.data).toMatchObject({ pattern, path: 'spec.subscriptions[0].image.allowTagsRegexes[0]' })
  })

  it('keeps the source', () => {
    expect(compileRe2('^a').source).toBe('^a')
  })
})

describe('tagFilter', () => {
  const tags = ['v1.0.0', 'v1.1.0-rc.1', 'v2.0.0', 'latest', 'nightly-2024', 'sha-abc']

  it.each([
    [{}, tags],
    [{ allowTagsRegexes: [] }, tags],
    [{ allowTagsRegexes: ['^v'] }, ['v1.0.0', 'v1.1.0-rc.1', 'v2.0.0']],
    [{ allowTagsRegexes: ['^v1', '^nightly'] }, ['v1.0.0', 'v1.1.0-rc.1', 'nightly-2024']],
    [{ ignoreTagsRegexes: ['-rc', '^latest$'] }, ['v1.0.0', 'v2.0.0', 'nightly-2024', 'sha-abc']],
    [{ allowTagsRegexes: ['^v'], ignoreTagsRegexes: ['-rc'] }, ['v1.0.0', 'v2.0.0']],
    // ignore wins over allow
    [{ allowTagsRegexes: ['^v2'], ignoreTagsRegexes: ['^v2'] }, []],
    [{ allowTagsRegexes: ['(?i)^LATEST$'] }, ['latest']],
  ])('%j', (opts, expected) => {
    expect(tags.filter(tagFilter(opts))).toEqual(expected)
  })

  it('names the offending entry', () => {
    expect(() => tagFilter({ allowTagsRegexes: ['^v'], ignoreTagsRegexes: ['ok', '(?!rc)'] })).toThrow(
      /ignoreTagsRegexes\[1\]: invalid regular expression "\(\?!rc\)"/,
    )
    expect(() => tagFilter({ allowTagsRegexes: ['(a)\\1'] })).toThrow(ValidationError)
  })
})
