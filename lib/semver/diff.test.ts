import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { semverDiff, semverParse } from './index.js'

describe('semverDiff', () => {
  it.each([
    ['1.0.0', '2.0.0', 'Major'],
    ['1.0.0', '1.1.0', 'Minor'],
    ['1.0.0', '1.0.1', 'Patch'],
    ['1.0.0', '1.0.0', 'None'],
    ['v1.0.0', '1.0.0', 'None'],
    ['1.0', '1.0.0', 'None'],
    ['1.0.0-alpha', '1.0.0-beta', 'None'],
    ['1.0.0-alpha', '1.0.0', 'None'],
    ['1.0.0+a', '1.0.0+b', 'Metadata'],
    ['1.2.3', '2.0.0-rc.1', 'Major'],
    ['20231001', '20231002', 'Major'],
    ['not-a-version', '1.0.0', 'Incomparable'],
    ['1.0.0', '', 'Incomparable'],
    ['1.2.3.4', '1.2.3', 'Incomparable'],
  ])('semverDiff(%j, %j) = %s', (a, b, expected) => {
    expect(semverDiff(a, b)).toBe(expected)
  })
})

describe('semverParse', () => {
  it('parses loosely and exposes the parts', () => {
    expect(semverParse('v1.2-rc.1+build.7')).toEqual({
      major: 1,
      minor: 2,
      patch: 0,
      prerelease: 'rc.1',
      metadata: 'build.7',
      original: 'v1.2-rc.1+build.7',
    })
    expect(semverParse('20231001').major).toBe(20231001)
  })

  it('throws a ValidationError naming the text', () => {
    expect(() => semverParse('banana')).toThrow(ValidationError)
    expect(() => semverParse('banana')).toThrow(/"banana"/)
  })
})
