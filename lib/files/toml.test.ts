import { describe, expect, it } from 'vitest'
import { formatTomlValue, parseToml, setTomlValues, tomlUpdateCommitMessage } from './toml.js'

describe('setTomlValues (Kargo pkg/toml)', () => {
  it.each([
    {
      name: 'a string becomes a literal string',
      in: 'title = "old"\nactive = true\n',
      key: 'title',
      value: 'new',
      out: "title = 'new'\nactive = true\n",
    },
    {
      name: 'an escaped dot key',
      in: '"example.com/version" = "1.0.0"\n',
      key: 'example\\.com/version',
      value: '2.0.0',
      out: '"example.com/version" = \'2.0.0\'\n',
    },
    {
      name: 'under a table',
      in: '[package]\nversion = "1.0.0"\n',
      key: 'package.version',
      value: '2.0.0',
      out: "[package]\nversion = '2.0.0'\n",
    },
    {
      name: 'under a nested table (numbers are float64)',
      in: '[a.b]\nc = 1\n',
      key: 'a.b.c',
      value: 99,
      out: '[a.b]\nc = 99.0\n',
    },
    { name: 'a fraction stays as it is', in: 'v = 1\n', key: 'v', value: 1.5, out: 'v = 1.5\n' },
    {
      name: 'an array item',
      in: 'values = [1, 2, 3]\n',
      key: 'values.1',
      value: true,
      out: 'values = [1, true, 3]\n',
    },
    {
      name: 'an inline table item',
      in: 'service = { name = "api", port = 8080 }\n',
      key: 'service.name',
      value: 'web',
      out: "service = { name = 'web', port = 8080 }\n",
    },
    {
      name: 'an array table item',
      in: '[[services]]\nname = "api"\nport = 8080\n\n[[services]]\nname = "web"\nport = 8081\n',
      key: 'services.1.name',
      value: 'www',
      out: '[[services]]\nname = "api"\nport = 8080\n\n[[services]]\nname = \'www\'\nport = 8081\n',
    },
    {
      name: 'keeps inline comments',
      in: 'title = "old" # keep me\n',
      key: 'title',
      value: 'new',
      out: "title = 'new' # keep me\n",
    },
    { name: 'dotted keys', in: 'a.b = "x"\n', key: 'a.b', value: 'y', out: "a.b = 'y'\n" },
    {
      name: 'a string with a quote becomes a basic string',
      in: 'v = 1\n',
      key: 'v',
      value: "it's\n",
      out: 'v = "it\'s\\n"\n',
    },
    {
      name: 'a multi-line string value is replaced whole',
      in: 'v = """\na\nb"""\nw = 1\n',
      key: 'v',
      value: 'c',
      out: "v = 'c'\nw = 1\n",
    },
    { name: 'a date', in: 'd = 1979-05-27 # c\n', key: 'd', value: 'x', out: "d = 'x' # c\n" },
  ])('$name', ({ in: text, key, value, out }) => {
    expect(setTomlValues(text, [{ key, value }])).toBe(out)
  })

  it('applies several updates; the last one for a key wins', () => {
    const text = 'threshold = 1\n\n[package]\nversion = "1.0.0"\n\n[features]\nenabled = false\n'
    expect(
      setTomlValues(text, [
        { key: 'threshold', value: 100 },
        { key: 'package.version', value: '2.0.0' },
        { key: 'features.enabled', value: true },
        { key: 'threshold', value: 7 },
      ]),
    ).toBe("threshold = 7.0\n\n[package]\nversion = '2.0.0'\n\n[features]\nenabled = true\n")
  })

  it.each([
    { name: 'invalid TOML', in: 'key = \n', key: 'key', value: 'x', error: 'error parsing input' },
    {
      name: 'a missing key',
      in: 'title = "old"\n',
      key: 'missing',
      value: 'x',
      error: 'error finding key missing: key path not found',
    },
    {
      name: 'a table',
      in: '[service]\nname = "api"\n',
      key: 'service',
      value: 'x',
      error: 'addresses Table instead of a scalar node',
    },
    {
      name: 'an array',
      in: 'a = [1]\n',
      key: 'a',
      value: 'x',
      error: 'addresses Array instead of a scalar node',
    },
    {
      name: 'a non-scalar value',
      in: 'title = "old"\n',
      key: 'title',
      value: ['a'],
      error: 'value is not a TOML scalar type',
    },
    {
      name: 'null',
      in: 'title = "old"\n',
      key: 'title',
      value: null,
      error: 'value is not a TOML scalar type',
    },
  ])('error: $name', ({ in: text, key, value, error }) => {
    expect(() => setTomlValues(text, [{ key, value }])).toThrow(error)
  })
})

describe('formatTomlValue and the commit message', () => {
  it.each([
    { value: 'value', out: "'value'" },
    { value: 42, out: '42.0' },
    { value: -0.5, out: '-0.5' },
    { value: true, out: 'true' },
    { value: 'tab\there', out: "'tab\there'" },
    { value: 'bell\u0007', out: '"bell\\u0007"' },
  ])('$value', ({ value, out }) => {
    expect(formatTomlValue(value)).toBe(out)
  })

  it('lists updates in TOML syntax', () => {
    expect(
      tomlUpdateCommitMessage('Cargo.toml', [
        { key: 'package.version', value: '1.2.3' },
        { key: 'features.enabled', value: true },
      ]),
    ).toBe("Updated Cargo.toml\n\n- package.version: '1.2.3'\n- features.enabled: true")
  })
})

describe('parseToml', () => {
  it('reads TOML 1.0 into plain data', () => {
    const doc = parseToml(
      [
        '# comment',
        'title = "TOML \\"x\\" \\u00e9"',
        "lit = 'C:\\path'",
        'ml = """',
        'one \\',
        '   two"""',
        "mll = '''",
        "raw\\n'''",
        'int = +1_000',
        'hex = 0xDEAD_beef',
        'oct = 0o755',
        'bin = 0b1101',
        'flt = 6.626e-34',
        'odt = 1979-05-27T07:32:00Z',
        'odt2 = 1979-05-27 00:32:00.999000-07:00',
        'ldt = 1979-05-27T07:32:00',
        'ld = 1979-05-27',
        'lt = 07:32:00.5',
        'arr = [ 1, [2, 3], "x", { a = 1 }, ]',
        'inline = { x = 1, y.z = 2 }',
        '[server.alpha]',
        'ip = "10.0.0.1"',
        '[[products]]',
        'name = "Hammer"',
        '[[products]]',
        '[[products]]',
        'name = "Nail"',
        '',
      ].join('\n'),
    )
    expect(doc).toEqual({
      title: 'TOML "x" é',
      lit: 'C:\\path',
      ml: 'one two',
      mll: 'raw\\n',
      int: 1000,
      hex: 0xdeadbeef,
      oct: 0o755,
      bin: 13,
      flt: 6.626e-34,
      odt: '1979-05-27T07:32:00Z',
      odt2: '1979-05-27T00:32:00.999-07:00',
      ldt: '1979-05-27T07:32:00',
      ld: '1979-05-27',
      lt: '07:32:00.5',
      arr: [1, [2, 3], 'x', { a: 1 }],
      inline: { x: 1, y: { z: 2 } },
      server: { alpha: { ip: '10.0.0.1' } },
      products: [{ name: 'Hammer' }, {}, { name: 'Nail' }],
    })
  })

  it.each([
    { name: 'a duplicate key', text: 'a = 1\na = 2\n', error: 'already defined' },
    { name: 'a redefined table', text: '[a]\nx = 1\n[a]\ny = 2\n', error: 'already defined' },
    { name: 'extending an inline table', text: 'a = { x = 1 }\n[a]\ny = 2\n', error: 'already defined' },
    { name: 'a bad value', text: 'a = nope\n', error: 'invalid value' },
    { name: 'an unterminated string', text: 'a = "x\n', error: 'unterminated string' },
    { name: 'two values on a line', text: 'a = 1 b = 2\n', error: 'expected a newline' },
    { name: 'an invalid date', text: 'a = 1979-02-30\n', error: 'invalid date' },
  ])('error: $name', ({ text, error }) => {
    expect(() => parseToml(text)).toThrow(error)
  })
})
