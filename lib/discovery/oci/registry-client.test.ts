import { describe, expect, it } from 'vitest'
import { nextLink, parseChallenge, parseRetryAfter } from './registry-client.js'

describe('parseChallenge', () => {
  it('reads a bearer challenge with a quoted, comma-holding scope', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull,push',
      },
    })
  })
  it('reads basic and unquoted forms, and ignores other schemes', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    })
    expect(parseChallenge('bearer realm=http://x/token, service=svc')).toEqual({
      scheme: 'bearer',
      params: { realm: 'http://x/token', service: 'svc' },
    })
    expect(parseChallenge('Negotiate abc')).toBeUndefined()
    expect(parseChallenge(null)).toBeUndefined()
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00Z')
  it.each([
    ['3', 3000],
    ['0', 0],
    ['Mon, 01 Jan 2024 00:00:10 GMT', 10_000],
    ['Sun, 31 Dec 2023 23:59:00 GMT', 0],
  ])('%s → %d ms', (value, ms) => expect(parseRetryAfter(value, now)).toBe(ms))
  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})

describe('nextLink', () => {
  const base = 'http://127.0.0.1:5000'
  it('takes the rel="next" target as a path', () => {
    expect(nextLink('</v2/demo/app/tags/list?n=5&last=b>; rel="next"', base)).toBe(
      '/v2/demo/app/tags/list?n=5&last=b',
    )
    expect(nextLink('<http://127.0.0.1:5000/v2/x/tags/list?last=a>; rel=next', base)).toBe(
      '/v2/x/tags/list?last=a',
    )
  })
  it('keeps a link to another origin absolute, and picks next among several', () => {
    expect(nextLink('<https://cdn.example/v2/x/tags/list?last=a>; rel="next"', base)).toBe(
      'https://cdn.example/v2/x/tags/list?last=a',
    )
    expect(nextLink('</a>; rel="prev", </b>; rel="next"', base)).toBe('/b')
  })
  it('is undefined without a next link', () => {
    expect(nextLink(null, base)).toBeUndefined()
    expect(nextLink('</a>; rel="prev"', base)).toBeUndefined()
  })
})
