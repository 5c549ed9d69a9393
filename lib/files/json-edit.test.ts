import { describe, expect, it } from 'vitest'
import { parseJsonWithPositions, setJsonValue } from './json-edit.js'

const pkg = `{
  "name": "app",
  "version": "1.0.0",
  "deps": { "a": 1 },
  "list": [1, 2],
  "dotted.key": "x",
  "0": "zero"
}
`

describe('setJsonValue (sjson Set)', () => {
  it.each([
    {
      name: 'replaces a string in place, keeping the formatting',
      path: 'version',
      value: '2.0.0',
      out: pkg.replace('"1.0.0"', '"2.0.0"'),
    },
    { name: 'a number', path: 'deps.a', value: 2.5, out: pkg.replace('"a": 1', '"a": 2.5') },
    {
      name: 'a float64 in plain notation',
      path: 'deps.a',
      value: 1e21,
      out: pkg.replace('"a": 1', '"a": 1000000000000000000000'),
    },
    { name: 'a bool over a string', path: 'name', value: true, out: pkg.replace('"app"', 'true') },
    { name: 'an array element', path: 'list.1', value: 'b', out: pkg.replace('[1, 2]', '[1, "b"]') },
    { name: 'an escaped dot', path: 'dotted\\.key', value: 'y', out: pkg.replace('"x"', '"y"') },
    { name: 'a numeric object key', path: '0', value: 'nil', out: pkg.replace('"zero"', '"nil"') },
    {
      name: 'a string needing escapes goes through json.Marshal',
      path: 'name',
      value: 'a "b" <c>',
      out: pkg.replace('"app"', '"a \\"b\\" \\u003cc\\u003e"'),
    },
    {
      name: 'a new key in a nested object',
      path: 'deps.b',
      value: 2,
      out: pkg.replace('{ "a": 1 }', '{ "a": 1 ,"b":2}'),
    },
    {
      name: 'a new top-level key (sjson drops what follows the closing brace)',
      path: 'new.x',
      value: 'y',
      out: pkg.slice(0, pkg.lastIndexOf('}')) + ',"new":{"x":"y"}}',
    },
    {
      name: 'pads an array with nulls',
      path: 'list.4',
      value: 5,
      out: pkg.replace('[1, 2]', '[1,2,null,null,5]'),
    },
    { name: 'appends with -1', path: 'list.-1', value: 3, out: pkg.replace('[1, 2]', '[1, 2,3]') },
    {
      name: 'builds arrays for numeric parts',
      path: 'deps.b.1',
      value: 'x',
      out: pkg.replace('{ "a": 1 }', '{ "a": 1 ,"b":[null,"x"]}'),
    },
    {
      name: 'a forced key builds an object',
      path: 'deps.b.:1',
      value: 'x',
      out: pkg.replace('{ "a": 1 }', '{ "a": 1 ,"b":{"1":"x"}}'),
    },
    {
      name: 'replaces a scalar it must descend into',
      path: 'name.first',
      value: 'x',
      out: pkg.replace('"app"', '{"first":"x"}'),
    },
  ])('$name', ({ path, value, out }) => {
    expect(setJsonValue(pkg, path, value)).toBe(out)
  })

  it('creates a document from an empty file', () => {
    expect(setJsonValue('', 'a.b', 1)).toBe('{"a":{"b":1}}')
    expect(setJsonValue('  \n', '0', 'x')).toBe('["x"]')
  })

  it.each([
    {
      name: 'a non-numeric key into an array',
      path: 'list.x',
      error: "cannot set array element for non-numeric key 'x'",
    },
    { name: 'query syntax', path: 'list.#', error: 'query syntax' },
    { name: 'an empty path', path: '', error: 'path cannot be empty' },
  ])('error: $name', ({ path, error }) => {
    expect(() => setJsonValue(pkg, path, 1)).toThrow(error)
  })

  it('rejects invalid JSON', () => {
    expect(() => setJsonValue('{"a": 1,}', 'a', 2)).toThrow('invalid JSON')
    expect(() => parseJsonWithPositions('{"a" 1}')).toThrow('expected ":"')
  })
})
