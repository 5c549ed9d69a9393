import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { JsonPathError, compileJsonPath } from './jsonpath.js'

const doc = {
  data: { ok: true, successPercent: 0.95, nothing: null, 'app.kubernetes.io/name': 'web', 'with-dash': 1 },
  items: [{ name: 'a', v: 1 }, { name: 'b', v: 2 }, { v: 3 }],
  empty: [],
  status: 'ok',
}

describe('compileJsonPath', () => {
  it.each([
    ['', [doc]],
    ['{$}', [doc]],
    ['{$.status}', ['ok']],
    ['{.status}', ['ok']],
    ['{ $.data.ok }', [true]],
    ['{$.data}', [doc.data]],
    ['{$.data.nothing}', [null]],
    ['{$.data.with-dash}', [1]],
    ["{$.data['app.kubernetes.io/name']}", ['web']],
    ['{$.data["ok"]}', [true]],
    ['{$.items[0].name}', ['a']],
    ['{$.items[-1].v}', [3]],
    ['{$.items[*].v}', [1, 2, 3]],
    ['{$.items[*].name}', ['a', 'b']],
    ['{$.empty[*].name}', []],
    ['{$.items[*]}', doc.items],
  ])('%s', (path, expected) => {
    expect(compileJsonPath(path).find(doc)).toEqual(expected)
  })

  it.each([
    ['{$.missing}', 'missing is not found'],
    ['{$.data.ok.deeper}', 'deeper is not found'],
    ['{$.items[3]}', 'array index out of bounds: index 3, length 3'],
    ['{$.items[-4]}', 'array index out of bounds: index -1, length 3'],
    ['{$.empty[0]}', 'array index out of bounds: index 0, length 0'],
    ['{$.status[0]}', 'string is not array or slice'],
    ['{$.data[*]}', 'map[string]interface {} is not array or slice'],
  ])('%s does not match: %s', (path, message) => {
    const compiled = compileJsonPath(path)
    expect(() => compiled.find(doc)).toThrow(JsonPathError)
    expect(() => compiled.find(doc)).toThrow(message)
  })

  it.each([
    ['$.data.ok', 'braces'],
    ['{$.a}{$.b}', 'one {…}'],
    ['x{$.a}', 'braces'],
    ['{$..ok}', 'recursive descent'],
    ['{$.items[?(@.v > 1)]}', 'filters'],
    ['{$.items[0:2]}', 'slices'],
    ['{$.items[0,1]}', 'unions'],
    ['{range .items[*]}{.name}{end}', 'one {…}'],
    ['{$.data.*}', '.*'],
    ['{$.items[0}', 'unclosed'],
  ])('refuses %s (%s)', (path, reason) => {
    expect(() => compileJsonPath(path)).toThrow(ValidationError)
    expect(() => compileJsonPath(path)).toThrow(reason)
  })

  it('reads only own members, so __proto__ is just a key', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}')
    expect(compileJsonPath('{$.__proto__.polluted}').find(parsed)).toEqual([1])
    expect(() => compileJsonPath('{$.constructor}').find({ a: 1 })).toThrow('constructor is not found')
  })
})
