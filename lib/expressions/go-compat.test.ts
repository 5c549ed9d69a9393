import { describe, expect, it } from 'vitest'
import { goJsonMarshal, goJsonUnmarshal } from './go-json.js'
import { formatGoFloatG, goQuote, parseGoBool, parseGoFloat, parseGoInt } from './go-strconv.js'
import { goYamlMarshal, yamlKeyCompare } from './go-yaml.js'
import { formatV, makeSemver } from './values.js'

describe('strconv.ParseFloat', () => {
  it.each<[string, number | undefined]>([
    ['1e3', 1000],
    ['+5', 5],
    ['-5', -5],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
    ['1_000', 1000],
    ['1_000.5', 1000.5],
    ['0x1p-2', 0.25],
    ['0X1.8P1', 3],
    ['0x_1p4', 16],
    ['inf', Infinity],
    ['-Infinity', -Infinity],
    ['0x10', undefined],
    ['1__000', undefined],
    ['_1', undefined],
    ['1_', undefined],
    ['1e', undefined],
    ['e3', undefined],
    ['.', undefined],
    ['', undefined],
    [' 1', undefined],
    ['1 ', undefined],
    ['1e400', undefined],
    ['--1', undefined],
    ['0b101', undefined],
    ['true', undefined],
  ])('%j → %j', (text, expected) => {
    expect(parseGoFloat(text)).toBe(expected)
  })

  it('parses nan', () => {
    expect(Number.isNaN(parseGoFloat('NaN'))).toBe(true)
  })
})

describe('strconv.ParseBool and Atoi', () => {
  it.each<[string, boolean | undefined]>([
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
    ['tRUE', undefined],
    ['yes', undefined],
    ['', undefined],
  ])('ParseBool(%j) → %j', (text, expected) => {
    expect(parseGoBool(text)).toBe(expected)
  })

  it.each<[string, number | undefined]>([
    ['42', 42],
    ['-42', -42],
    ['+7', 7],
    ['1_000', undefined],
    ['0x10', undefined],
    ['1.0', undefined],
    ['9223372036854775808', undefined],
  ])('Atoi(%j) → %j', (text, expected) => {
    expect(parseGoInt(text)).toBe(expected)
  })
})

describe('%q and %v', () => {
  it.each<[string, string]>([
    ['foo', '"foo"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\n\t\r\x07\b\f\v', '"\\n\\t\\r\\a\\b\\f\\v"'],
    ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
    ['é中😀', '"é中😀"'],
    ['\u00a0', '"\\u00a0"'],
    ['\u200b', '"\\u200b"'],
    ['\ud800', '"\\xed\\xa0\\x80"'],
  ])('%%q of %j is %s', (text, expected) => {
    expect(goQuote(text)).toBe(expected)
  })

  it.each<[number, string]>([
    [0, '0'],
    [1, '1'],
    [2.5, '2.5'],
    [100000.5, '100000.5'],
    [1234567.5, '1.2345675e+06'],
    [1e21, '1e+21'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-1.5e-7, '-1.5e-07'],
    [1e100, '1e+100'],
    [Infinity, '+Inf'],
  ])('FormatFloat(%d, g, -1) is %s', (n, expected) => {
    expect(formatGoFloatG(n)).toBe(expected)
  })

  it.each<[unknown, string]>([
    [null, '<nil>'],
    [42, '42'],
    [1e6, '1000000'],
    [0.5, '0.5'],
    ['s', 's'],
    [[1, 'a', [true]], '[1 a [true]]'],
    [{ b: 1, a: { c: null } }, 'map[a:map[c:<nil>] b:1]'],
    [
      makeSemver({ major: 1n, minor: 2n, patch: 3n, prerelease: 'rc', metadata: '', original: 'v1.2.3-rc' }),
      '1.2.3-rc',
    ],
  ])('%%v of case %#', (value, expected) => {
    expect(formatV(value)).toBe(expected)
  })
})

describe('encoding/json', () => {
  it.each<[unknown, string]>([
    [null, 'null'],
    [true, 'true'],
    [42, '42'],
    [-0, '-0'],
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [123456789012, '123456789012'],
    ['<a & b>', '"\\u003ca \\u0026 b\\u003e"'],
    ['\u2028\u2029', '"\\u2028\\u2029"'],
    ['\x01\b\f\n\r\t"\\', '"\\u0001\\b\\f\\n\\r\\t\\"\\\\"'],
    ['é😀', '"é😀"'],
    ['\udc00', '"\\ufffd"'],
    [{ b: 1, a: 2, A: 3, é: 4, _: 5 }, '{"A":3,"_":5,"a":2,"b":1,"é":4}'],
    [[1, [2, {}], []], '[1,[2,{}],[]]'],
    [new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), '"2024-01-02T03:04:05Z"'],
  ])('Marshal(%j) is %s', (value, expected) => {
    expect(goJsonMarshal(value)).toBe(expected)
  })

  it('MarshalIndent uses two spaces and keeps empty containers inline', () => {
    expect(goJsonMarshal({ a: [1, { b: [] }], c: {} }, { indent: '  ' })).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": []\n    }\n  ],\n  "c": {}\n}',
    )
  })

  it.each([NaN, Infinity, -Infinity])('refuses %d', (n) => {
    expect(() => goJsonMarshal({ n })).toThrow(/unsupported value/)
  })

  it('Unmarshal refuses what Go refuses', () => {
    expect(goJsonUnmarshal('[1, 2]')).toEqual({ value: [1, 2] })
    expect(goJsonUnmarshal(' "x" ')).toEqual({ value: 'x' })
    expect(goJsonUnmarshal('1e400')).toBeUndefined()
    expect(goJsonUnmarshal('{a: 1}')).toBeUndefined()
    expect(goJsonUnmarshal("'x'")).toBeUndefined()
    expect(goJsonUnmarshal('')).toBeUndefined()
  })
})

describe('go-yaml v3 Marshal', () => {
  // The first cases are go-yaml's own encode tests (encode_test.go, v3.0.4).
  it.each<[unknown, string]>([
    [{ v: ['A', 'B'] }, 'v:\n    - A\n    - B\n'],
    [{ v: ['A', 'B\nC'] }, 'v:\n    - A\n    - |-\n      B\n      C\n'],
    [{ v: ['A', 1, { B: [2, 3] }] }, 'v:\n    - A\n    - 1\n    - B:\n        - 2\n        - 3\n'],
    [{ a: { b: 'c' } }, 'a:\n    b: c\n'],
    [{ a: { b: [{ c: 1, d: 2 }] } }, 'a:\n    b:\n        - c: 1\n          d: 2\n'],
    [{ a: [1, 2] }, 'a:\n    - 1\n    - 2\n'],
    [null, 'null\n'],
    ['foo', 'foo\n'],
    [{}, '{}\n'],
    [[], '[]\n'],
    [{ a: {}, b: [] }, 'a: {}\nb: []\n'],
    [[['a', 'b'], ['c']], '- - a\n  - b\n- - c\n'],
    [[{ a: 1, b: { c: 2 } }], '- a: 1\n  b:\n    c: 2\n'],
    [
      { f: 0.5, g: 1e21, h: 1234567.5, i: -3, t: true, n: null },
      'f: 0.5\ng: 1e+21\nh: 1.2345675e+06\ni: -3\n"n": null\nt: true\n',
    ],
    [{ s: 'multi\nline\n' }, 's: |\n    multi\n    line\n'],
    [{ s: 'keep\n\n' }, 's: |+\n    keep\n\n'],
    [{ s: ' lead\nx' }, 's: |4-\n     lead\n    x\n'],
    [{ s: 'trailing \nx' }, 's: "trailing \\nx"\n'],
    [{ a: 1, b: { c: 'x\ny' } }, 'a: 1\nb:\n    c: |-\n        x\n        y\n'],
  ])('%j', (value, expected) => {
    expect(goYamlMarshal(value)).toBe(expected)
  })

  it.each<[string, string]>([
    ['plain words', 'plain words'],
    ['', '""'],
    ['true', '"true"'],
    ['True', '"True"'],
    ['yes', '"yes"'],
    ['Off', '"Off"'],
    ['null', '"null"'],
    ['~', '"~"'],
    ['42', '"42"'],
    ['-1', '"-1"'],
    ['1_000', '"1_000"'],
    ['0x1F', '"0x1F"'],
    ['0o17', '"0o17"'],
    ['1.5', '"1.5"'],
    ['1e3', '"1e3"'],
    ['.5', '".5"'],
    ['.inf', '".inf"'],
    ['1:20', '"1:20"'],
    ['2024-01-02', '"2024-01-02"'],
    ['2024-01-02T03:04:05Z', '"2024-01-02T03:04:05Z"'],
    ['1.2.3', '1.2.3'],
    ['v1.2.3', 'v1.2.3'],
    ['a: b', "'a: b'"],
    ['a:b', 'a:b'],
    ['- x', "'- x'"],
    ['-x', '-x'],
    ['#c', "'#c'"],
    ['a #c', "'a #c'"],
    ['a#c', 'a#c'],
    ['*ref', "'*ref'"],
    ['{x}', "'{x}'"],
    ["it's", "it's"],
    ["'quoted'", "'''quoted'''"],
    [' lead', "' lead'"],
    ['trail ', "'trail '"],
    ['tab\there', '"tab\\there"'],
    ['bell\x07', '"bell\\a"'],
    ['é中', 'é中'],
    ['😀', '"\\U0001F600"'],
    ['https://example.com/x?y=1', 'https://example.com/x?y=1'],
    ['---', "'---'"],
  ])('the string %j is written %s', (text, expected) => {
    expect(goYamlMarshal(text)).toBe(`${expected}\n`)
  })

  it('orders keys the way go-yaml does (digit runs by value)', () => {
    expect(['a10', 'a2', 'b', 'A', 'a1', '10', '9', 'a'].sort(yamlKeyCompare)).toEqual([
      '9',
      '10',
      'A',
      'a',
      'a1',
      'a2',
      'a10',
      'b',
    ])
  })

  it('refuses functions', () => {
    expect(() => goYamlMarshal({ f: () => 1 })).toThrow(/cannot marshal/)
  })
})
