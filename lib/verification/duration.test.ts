import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { parseGoDuration } from './duration.js'

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['300ms', 300],
    ['1500us', 1.5],
    ['1µs', 0.001],
    ['2h45m30.5s', 9_930_500],
    ['+10s', 10_000],
    ['-10s', -10_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9)
  })

  it.each(['', '5', '1d', '.s', 'm', '1h 30m', ' 1s', '1hm', '--1s', '1e3s', '9999999999h'])(
    'refuses %j',
    (text) => {
      expect(() => parseGoDuration(text, 'interval')).toThrow(ValidationError)
    },
  )
})
