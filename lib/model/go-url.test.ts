import { describe, expect, it } from 'vitest'
import { formatGoURL, hasQueryParams, parseGoURL } from './go-url.js'

describe('parseGoURL + formatGoURL (Go net/url round trip)', () => {
  it.each([
    ['https://github.com/a/b', 'https://github.com/a/b'],
    ['HTTPS://github.com/a', 'https://github.com/a'],
    ['https://user:p%40ss@host:8443/p?q=1#f', 'https://user:p%40ss@host:8443/p?q=1#f'],
    ['https://host/a b', 'https://host/a%20b'],
    ['https://host/a%2Fb', 'https://host/a%2Fb'],
    ['https://host/ä', 'https://host/%C3%A4'],
    ['https://host/p?', 'https://host/p?'],
    ['https:/p', 'https:/p'],
    ['https:///p', 'https:///p'],
    ['mailto:x@y', 'mailto:x@y'],
    ['org/repo', 'org/repo'],
    ['/abs', '/abs'],
    ['//host/p', '//host/p'],
    ['ssh://a:b:22/p', 'ssh://a:b:22/p'],
    ['http://[::1]:80/x', 'http://[::1]:80/x'],
    ['x#a b', 'x#a%20b'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    const u = parseGoURL(input)
    expect(u).not.toBeNull()
    if (u) expect(formatGoURL(u)).toBe(expected)
  })

  it.each([
    'https://not a url',
    'https://a:b:c/x', // Go 1.26: a second colon in an http(s) host
    'https://host:port/x',
    'http://[1.2.3.4]/x',
    'http://[::1/x',
    'http://a[b]/x',
    'https://host/%zz',
    ':b/c', // missing scheme
    'fir st:seg/x', // a colon in the first segment of a relative path
    'https://us er@host/x',
    'https://host/\x01',
  ])('rejects %j', (input) => {
    expect(parseGoURL(input)).toBeNull()
  })

  it('splits the parts', () => {
    expect(parseGoURL('https://u:p@h.example:1/a%2fb?x=1#y')).toMatchObject({
      scheme: 'https',
      user: { username: 'u', password: 'p' },
      host: 'h.example:1',
      path: '/a/b',
      rawPath: '/a%2fb',
      rawQuery: 'x=1',
      fragment: 'y',
    })
  })
})

describe('hasQueryParams (Go len(URL.Query()) > 0)', () => {
  it.each([
    ['', false],
    ['&', false],
    ['a', true],
    ['a=1', true],
    ['=1', true],
    ['a;b', false],
    ['%zz', false],
    ['%zz&b=2', true],
    [Array.from({ length: 10_001 }, () => 'a=1').join('&'), false],
  ])('%j → %s', (raw, expected) => {
    expect(hasQueryParams(raw)).toBe(expected)
  })
})
