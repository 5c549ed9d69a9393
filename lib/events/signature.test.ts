import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sameToken, sign, verifySignature } from './signature.js'

describe('signatures', () => {
  const body = '{"specversion":"1.0","id":"x"}'

  it('signs like GitHub: sha256=<hex HMAC-SHA256 of the raw body>', () => {
    expect(sign('s3cret', body)).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`)
  })

  it.each([
    ['the right signature', sign('s3cret', body), true],
    ['upper-case hex', sign('s3cret', body).toUpperCase().replace('SHA256=', 'sha256='), true],
    ['another secret', sign('other', body), false],
    ['another body', sign('s3cret', `${body} `), false],
    ['no header', undefined, false],
    ['a malformed header', 'sha1=abc', false],
  ])('verifies %s → %s', (_name, header, expected) => {
    expect(verifySignature('s3cret', body, header)).toBe(expected)
  })

  it('compares tokens in constant time, and exactly', () => {
    expect(sameToken('token', 'token')).toBe(true)
    expect(sameToken('token', 'token ')).toBe(false)
    expect(sameToken('token', undefined)).toBe(false)
  })
})
