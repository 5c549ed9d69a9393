import { describe, expect, it } from 'vitest'
import { formatGoFloatF, goFormatV, quoteIfNecessary } from './go-format.js'

describe('formatGoFloatF', () => {
  it.each([
    { f: 0, out: '0' },
    { f: -0, out: '-0' },
    { f: 1, out: '1' },
    { f: 1.5, out: '1.5' },
    { f: 1e21, out: '1000000000000000000000' },
    { f: 1.5e-7, out: '0.00000015' },
    { f: -123.456, out: '-123.456' },
  ])('$f', ({ f, out }) => {
    expect(formatGoFloatF(f)).toBe(out)
  })
})

describe('goFormatV', () => {
  it.each([
    { v: null, out: '<nil>' },
    { v: 1000000, out: '1e+06' },
    { v: 123456, out: '123456' },
    { v: ['a', 1], out: '[a 1]' },
    { v: { b: 2, a: 'x' }, out: 'map[a:x b:2]' },
  ])('$out', ({ v, out }) => {
    expect(goFormatV(v)).toBe(out)
  })
})

describe('quoteIfNecessary', () => {
  it.each([
    { v: '42', out: '"42"' },
    { v: '1e3', out: '"1e3"' },
    { v: 'inf', out: '"inf"' },
    { v: '0x10', out: '0x10' },
    { v: 'true', out: '"true"' },
    { v: 'F', out: '"F"' },
    { v: 'yes', out: 'yes' },
    { v: '[1, 2]', out: '"[1, 2]"' },
    { v: 'v1.2.3', out: 'v1.2.3' },
    { v: 42, out: 42 },
  ])('$v', ({ v, out }) => {
    expect(quoteIfNecessary(v)).toBe(out)
  })
})
