import { describe, expect, it } from 'vitest'
import { goFilepathMatch, ignoreMatcher, parseIgnoreRules } from './gitignore.js'

describe("goFilepathMatch (Go's filepath.Match)", () => {
  it.each([
    { pattern: 'abc', name: 'abc', match: true },
    { pattern: '*', name: 'abc', match: true },
    { pattern: '*c', name: 'abc', match: true },
    { pattern: 'a*', name: 'a', match: true },
    { pattern: 'a*/b', name: 'abc/b', match: true },
    { pattern: 'a*', name: 'ab/c', match: false },
    { pattern: 'a*b*c*d*e*/f', name: 'axbxcxdxe/f', match: true },
    { pattern: 'ab[c]', name: 'abc', match: true },
    { pattern: 'ab[b-d]', name: 'abc', match: true },
    { pattern: 'ab[^c]', name: 'abc', match: false },
    { pattern: 'ab[^b-d]', name: 'abe', match: true },
    { pattern: 'a\\*b', name: 'a*b', match: true },
    { pattern: 'a?b', name: 'a☺b', match: true },
    { pattern: '[!a]', name: '!', match: true },
    { pattern: '[', name: 'a', match: false },
    { pattern: 'a[', name: 'a', match: false },
    { pattern: '*x', name: 'xxx', match: true },
    { pattern: '*.log', name: '.log', match: true },
  ])('$pattern ~ $name', ({ pattern, name, match }) => {
    expect(goFilepathMatch(pattern, name)).toBe(match)
  })
})

describe('ignoreMatcher (go-git gitignore)', () => {
  const matcher = ignoreMatcher(
    parseIgnoreRules(
      ['# comment', '*.log', '!keep.log', 'build/', '/dist', 'docs/*.md', 'a/**/z', '', 'tmp  '].join('\n'),
    ),
  )
  it.each([
    { path: 'x.log', isDir: false, ignored: true },
    { path: 'deep/x.log', isDir: false, ignored: true },
    { path: 'keep.log', isDir: false, ignored: false },
    { path: 'build', isDir: true, ignored: true },
    { path: 'build', isDir: false, ignored: false },
    { path: 'src/build', isDir: true, ignored: true },
    { path: 'build/out.js', isDir: false, ignored: true },
    { path: 'dist', isDir: true, ignored: true },
    { path: 'dist/x', isDir: false, ignored: true },
    { path: 'src/dist', isDir: true, ignored: false },
    { path: 'docs/a.md', isDir: false, ignored: true },
    { path: 'docs/sub/a.md', isDir: false, ignored: false },
    { path: 'a/z', isDir: false, ignored: true },
    { path: 'a/b/c/z', isDir: false, ignored: true },
    { path: 'tmp', isDir: true, ignored: true },
    { path: 'main.go', isDir: false, ignored: false },
  ])('$path', ({ path, isDir, ignored }) => {
    expect(matcher(path.split('/'), isDir)).toBe(ignored)
  })

  it('trims lines when asked (the tar step)', () => {
    expect(ignoreMatcher(parseIgnoreRules('  *.tmp  ', { trim: true }))(['a.tmp'], false)).toBe(true)
    expect(ignoreMatcher(parseIgnoreRules('  *.tmp'))(['a.tmp'], false)).toBe(false)
  })
})
