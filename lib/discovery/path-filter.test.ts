import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { compilePathFilter, compilePathPattern } from './path-filter.js'

describe('compilePathPattern: base directories (no prefix)', () => {
  it.each([
    ['configs', 'configs', true],
    ['configs', 'configs/app.yaml', true],
    ['configs', 'configs/a/b/c.yaml', true],
    ['configs', 'configurations/x', false],
    ['configs', 'configs.yaml', false],
    ['configs', 'other/configs/x', false],
    ['configs/', 'configs/x', true],
    ['./configs', 'configs/x', true],
    ['configs', './configs/x', true],
    ['configs/app', 'configs', false],
    ['a/b', 'a/b/c', true],
    ['a/b', 'a/bc', false],
    ['.', 'anything/at/all', true],
    ['', 'anything', true],
    ['a/../b', 'b/x', true],
    ['/abs', 'abs/x', false],
    ['/abs', '/abs/x', true],
    ['/', '/x/y', true],
    // Kargo's own check is "the relative path contains no `..`", so such names are never beneath a base
    ['configs', 'configs/a..b', false],
  ])('%j vs %j → %s', (entry, path, expected) => {
    expect(compilePathPattern(entry)(path)).toBe(expected)
  })
})

describe('compilePathPattern: glob: (doublestar)', () => {
  it.each([
    // `*` stays in one segment
    ['*', 'abc', true],
    ['*', '', true],
    ['*', '/', false],
    ['*', 'a/b', false],
    ['/*', '/', true],
    ['/*', '//', false],
    ['*.yaml', 'app.yaml', true],
    ['*.yaml', 'dir/app.yaml', false],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['*/', 'a/', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    // dotfiles match `*`
    ['*', '.hidden', true],
    ['config/*', 'config/.env', true],
    ['**/*.yaml', '.github/workflows/ci.yaml', true],
    // `**` crosses `/`
    ['**', '', true],
    ['**', 'a/b/c', true],
    ['**/c', 'c', true],
    ['**/c', 'a/b/c', true],
    ['**/c', 'abcd', false],
    ['**/c', 'a/abc', false],
    ['a/**', 'a', true],
    ['a/**', 'a/', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'ab', false],
    ['a/**/', 'a', true],
    ['a/**/', 'a/', true],
    ['a/**/b', 'a/b', true],
    ['a/**/d', 'a/b/c/d', true],
    ['a/**/d', 'a/b/c/e', false],
    ['apps/**/values.yaml', 'apps/guestbook/envs/prod/values.yaml', true],
    ['apps/**/values.yaml', 'apps/values.yaml', true],
    ['apps/**/values.yaml', 'other/apps/values.yaml', false],
    // a `**` that is not a whole segment acts as `*`
    ['abc**', 'abc/b', false],
    ['abc**', 'abcdef', true],
    ['a/\\**', 'a/b/c', false],
    // `?` and classes
    ['a?b', 'a☺b', true],
    ['a?b', 'a/b', false],
    ['a???b', 'a☺b', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[!c]', 'abd', true],
    ['ab[^e-g]', 'abc', true],
    ['a[!a]b', 'a/b', true],
    ['[a-z]*.yaml', 'values.yaml', true],
    ['[a-z]*.yaml', 'Values.yaml', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[-]', '-', true],
    ['[x-]', '-', true],
    ['[x-]', 'z', false],
    ['[-x]', 'x', true],
    ['[a-b-d]', '-', true],
    ['[a-b-d]', 'c', false],
    ['[a-b-x]', 'x', true],
    ['[z-a]', 'z', true], // an empty range keeps its low end, as doublestar matches it
    ['[z-a]', 'm', false],
    // escapes
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['e/\\[x\\]/*', 'e/[x]/[y]', true],
    ['e/]', 'e/]', true],
    ['e/\\{', 'e/{', true],
    // `{a,b}`
    ['ab{c,d}', 'abc', true],
    ['ab{c,d,*}', 'abcde', true],
    ['a{,bc}', 'a', true],
    ['a{,bc}', 'abc', true],
    ['a/{b/c,c/b}', 'a/c/b', true],
    ['{a/{b,c},abc}', 'a/c', true],
    ['{a/{b,c},abc}', 'a/b/c', false],
    ['**/{a,b}', 'a/b', true],
    ['charts/{app,db}/**', 'charts/db/templates/x.yaml', true],
    ['charts/{app,db}/**', 'charts/web/x.yaml', false],
    ['*.{yaml,yml}', 'kustomization.yml', true],
    // literal characters are literal
    ['a.b', 'axb', false],
    ['a+b(c)', 'a+b(c)', true],
    ['a/b/c', 'a/b//c', false],
    ['a/', 'a', false],
    ['x', 'x\ny', false],
    ['**', 'x\ny', true],
  ])('glob:%s vs %j → %s', (pattern, path, expected) => {
    expect(compilePathPattern(`glob:${pattern}`)(path)).toBe(expected)
  })

  it.each(['[', '[^', '[^bc', 'a[', '[]a]', '\\', 'ab{c,d}[', '{a', 'a}', 'a/[]'])(
    'rejects glob:%s with a ValidationError naming the entry',
    (pattern) => {
      expect(() => compilePathPattern(`glob:${pattern}`, 'includePaths[2]')).toThrow(ValidationError)
      expect(() => compilePathPattern(`glob:${pattern}`, 'includePaths[2]')).toThrow(
        `includePaths[2]: invalid glob ${JSON.stringify(`glob:${pattern}`)}`,
      )
    },
  )

  it('caps brace expansion', () => {
    expect(() => compilePathPattern(`glob:${'{a,b}'.repeat(11)}`)).toThrow(ValidationError)
    expect(compilePathPattern(`glob:${'{a,b}'.repeat(10)}`)('a'.repeat(10))).toBe(true)
  })

  it('stays linear on patterns with many stars', () => {
    const match = compilePathPattern(`glob:${'*a'.repeat(30)}b`)
    const started = Date.now()
    expect(match('a'.repeat(5000))).toBe(false)
    expect(Date.now() - started).toBeLessThan(2000)
  })
})

describe('compilePathPattern: regex: and regexp: (RE2, unanchored)', () => {
  it.each([
    ['regex:\\.yaml$', 'a/b/c.yaml', true],
    ['regex:\\.yaml$', 'a/b/c.yaml.bak', false],
    ['regexp:^apps/', 'apps/x', true],
    ['regexp:^apps/', 'other/apps/x', false],
    ['regex:apps', 'other/apps/x', true],
    ['regex:(?i)README', 'docs/readme.md', true],
    ['regex:^[[:digit:]]+/', '2024/notes', true],
    ['regex:x\\z', 'x', true],
  ])('%s vs %j → %s', (entry, path, expected) => {
    expect(compilePathPattern(entry)(path)).toBe(expected)
  })

  it('rejects lookaround, naming the entry', () => {
    expect(() => compilePathPattern('regex:^(?!vendor/)', 'excludePaths[0]')).toThrow(
      /excludePaths\[0\]: invalid regular expression "\^\(\?!vendor\/\)"/,
    )
    expect(() => compilePathPattern('regexp:(a)\\1')).toThrow(ValidationError)
  })
})

describe('compilePathFilter', () => {
  it.each([
    // no filters: everything qualifies, even a commit with no changed paths
    [{}, [], true],
    [{}, ['x'], true],
    [{ includePaths: [], excludePaths: [] }, [], true],
    // once any filter is set, a commit with no changed paths never qualifies
    [{ includePaths: ['apps'] }, [], false],
    [{ excludePaths: ['docs'] }, [], false],
    // includes
    [{ includePaths: ['apps'] }, ['docs/readme.md', 'apps/x.yaml'], true],
    [{ includePaths: ['apps'] }, ['docs/readme.md'], false],
    [{ includePaths: ['configs'] }, ['configurations/x'], false],
    [{ includePaths: ['apps', 'glob:*.md'] }, ['README.md'], true],
    // excludes only
    [{ excludePaths: ['docs'] }, ['docs/a.md'], false],
    [{ excludePaths: ['docs'] }, ['docs/a.md', 'src/x.ts'], true],
    // both: some path must be included and not excluded
    [{ includePaths: ['apps'], excludePaths: ['glob:**/*.md'] }, ['apps/README.md'], false],
    [{ includePaths: ['apps'], excludePaths: ['glob:**/*.md'] }, ['apps/README.md', 'apps/x.yaml'], true],
    [{ includePaths: ['apps'], excludePaths: ['glob:**/*.md'] }, ['apps/README.md', 'lib/x.yaml'], false],
    [{ includePaths: ['regex:^apps/'], excludePaths: ['regexp:test'] }, ['apps/test/x', 'apps/prod/x'], true],
  ])('%j with %j → %s', (opts, paths, expected) => {
    expect(compilePathFilter(opts)(paths)).toBe(expected)
  })

  it('names the bad entry', () => {
    expect(() => compilePathFilter({ includePaths: ['apps', 'glob:[oops'] })).toThrow(/includePaths\[1\]/)
    expect(() => compilePathFilter({ excludePaths: ['regex:('] })).toThrow(/excludePaths\[0\]/)
  })
})
