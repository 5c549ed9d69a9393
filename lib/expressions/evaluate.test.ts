import { describe, expect, it } from 'vitest'
import { TerminalError, ValidationError } from '../errors.js'
import {
  compileExpression,
  evaluate,
  evaluateCondition,
  evaluateDeep,
  evaluateTemplate,
  hasExpression,
  parseBoolResult,
  requireBoolean,
} from './index.js'

const env = {
  ctx: { stage: 'test', project: 'kargo-demo', meta: { promotion: { rollback: false } } },
  vars: {
    gitopsRepo: 'https://github.com/example/repo.git',
    trueString: 'true',
    numberString: '42',
    obj: { b: 2, a: 1 },
    list: ['one', 'two'],
    empty: '',
  },
  outputs: {
    commit: { commit: 'abc123' },
    'update-image': { commit: 'def456', commitMessage: 'Updated image' },
  },
  result: [0.97, 0.5],
}

describe('seed expressions', () => {
  it.each([
    ['stage/${{ ctx.stage }}', 'stage/test'],
    ['${{ outputs.commit.commit }}', 'abc123'],
    ['${{ vars.gitopsRepo }}', 'https://github.com/example/repo.git'],
    ["${{ outputs['update-image'].commit }}", 'def456'],
  ])('evaluateTemplate(%j) is %j', (template, expected) => {
    expect(evaluateTemplate(template, env)).toBe(expected)
  })

  it.each([
    ['result[0] >= 0.95', { result: [0.97] }, true],
    ['result[0] >= 0.95', { result: [0.9] }, false],
    ['result == "ok"', { result: 'ok' }, true],
    ['result == "ok"', { result: 'nok' }, false],
    ['result == "ok"', {}, false],
  ])('evaluate(%j) with %j is %j', (expression, scope, expected) => {
    expect(evaluate(expression, scope)).toBe(expected)
  })
})

describe('§8 the type of a template result', () => {
  it.each<[string, unknown]>([
    // No delimiter: verbatim, whatever it looks like.
    ['42', '42'],
    ['true', 'true'],
    ['{"a": 1}', '{"a": 1}'],
    ['"quoted"', '"quoted"'],
    ['plain ${ text } and {{ braces }}', 'plain ${ text } and {{ braces }}'],
    // Strings raw, other values JSON-encoded, then typed.
    ['${{ 40 + 2 }}', 42],
    ['${{ "42" }}', 42],
    ['${{ vars.numberString }}', 42],
    ['${{ quote(40 + 2) }}', '42'],
    ['${{ quote(vars.numberString) }}', '42'],
    ['${{ vars.trueString }}', true],
    ['${{ quote(true) }}', 'true'],
    ['${{ quote(null) }}', 'null'],
    ['${{ nil }}', null],
    ['${{ "null" }}', null],
    ['${{ "[1]" }}', [1]],
    ['${{ [1, "a"] }}', [1, 'a']],
    ['${{ vars.obj }}', { a: 1, b: 2 }],
    ['${{ quote(vars.obj) }}', '{"a":1,"b":2}'],
    ['${{ vars.list }}', ['one', 'two']],
    ['${{ ctx.meta.promotion.rollback }}', false],
    ['x${{ 1 }}y${{ 2 }}', 'x1y2'],
    ['${{ 1 }}${{ 2 }}', 12],
    ['${{ "a" }}-${{ [1] }}', 'a-[1]'],
    ['${{ vars.empty }}', ''],
    // Go float literals.
    ['${{ "1e3" }}', 1000],
    ['${{ "+5" }}', 5],
    ['${{ ".5" }}', 0.5],
    ['${{ "5." }}', 5],
    ['${{ "007" }}', 7],
    ['${{ "1_000" }}', 1000],
    ['${{ "-0.25" }}', -0.25],
    ['${{ "0x1p4" }}', 16],
    ['${{ "0x10" }}', '0x10'],
    ['${{ "1__0" }}', '1__0'],
    ['${{ "_1" }}', '_1'],
    ['${{ "1e400" }}', '1e400'],
    // Go's JSON accepts surrounding whitespace, so this is the number 1 (ParseFloat alone would refuse it).
    [' ${{ 1 }}', 1],
    [' ${{ "x" }}', ' x'],
    // Numbers first: "1" and "0" are numbers, not booleans.
    ['${{ "1" }}', 1],
    ['${{ "0" }}', 0],
    // Go bool literals.
    ['${{ "t" }}', true],
    ['${{ "T" }}', true],
    ['${{ "TRUE" }}', true],
    ['${{ "True" }}', true],
    ['${{ "f" }}', false],
    ['${{ "F" }}', false],
    ['${{ "FALSE" }}', false],
    ['${{ "False" }}', false],
    ['${{ "tRUE" }}', 'tRUE'],
    ['${{ "yes" }}', 'yes'],
    // Wrapped in double quotes: stripped, and a string.
    ['"${{ 42 }}"', '42'],
    ['${{ "\\"true\\"" }}', 'true'],
    ['${{ "\\"" }}', '"'],
    ['${{ "\\"\\"" }}', ''],
    // Other strings.
    ['${{ "hello world" }}', 'hello world'],
    ['${{ "{not json" }}', '{not json'],
  ])('%j → %j', (template, expected) => {
    expect(evaluateTemplate(template, env)).toEqual(expected)
  })

  it.each<[string, unknown]>([
    ['${{ 42 }}\n', 42],
    ['${{ true }}\n', true],
    ['${{ {"foo": "bar"} }}\n', { foo: 'bar' }],
    // The newline is dropped only to decide the type; strings keep it.
    ['${{ quote({"foo": "bar"}) }}\n', '{"foo":"bar"}\n'],
    ['${{ quote(42) }}\n', '42\n'],
    ['${{ "hello" }}\n', 'hello\n'],
    ['${{ "hello" }}\n\n', 'hello\n\n'],
    // Only one newline is dropped: "42\n" is no Go float, but it is valid JSON.
    ['${{ 42 }}\n\n', 42],
  ])('one trailing newline: %j → %j', (template, expected) => {
    expect(evaluateTemplate(template, env)).toEqual(expected)
  })

  it('evaluates ${% %} like ${{ }}, so an expression may contain }}', () => {
    expect(evaluateTemplate('${% {"labels": {"app": "nginx"}} %}', env)).toEqual({ labels: { app: 'nginx' } })
    expect(evaluateTemplate("${% '{{.domain}}' %}", env)).toBe('{{.domain}}')
    expect(evaluateTemplate("foo ${{ ctx.stage }} and ${% 'bar' %}", env)).toBe('foo test and bar')
    expect(evaluateTemplate("${% '%' %}${{ '}' }}", env)).toBe('%}')
  })

  it('cuts an expression at the first closing delimiter, as Kargo does', () => {
    expect(() => evaluateTemplate("${{ '{{.domain}}' }}", env)).toThrow(/literal not terminated/)
  })

  it('rejects an unclosed expression', () => {
    expect(() => evaluateTemplate('${{ ctx.stage ', env)).toThrow(ValidationError)
    expect(() => evaluateTemplate('${{ ctx.stage ', env)).toThrow(/unclosed expression: expected "}}"/)
    expect(() => evaluateTemplate('a ${% 1 }}', env)).toThrow(/expected "%}"/)
  })

  it('refuses a result that is Inf or NaN, which Kargo cannot re-encode as JSON', () => {
    expect(() => evaluateTemplate('${{ "inf" }}', env)).toThrow(ValidationError)
    expect(() => evaluateTemplate('${{ "NaN" }}', env)).toThrow(ValidationError)
    expect(() => evaluateTemplate('${{ 1 / 0 }}', env)).toThrow(/cannot be encoded as JSON/)
  })

  it('names the failing expression and position, never env values', () => {
    const secretEnv = { secret: { token: 's3cr3t-value' } }
    let error: unknown
    try {
      evaluateTemplate('prefix ${{ secret.token + 1 }}', secretEnv)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    const message = (error as Error).message
    expect(message).toContain('invalid operation: string + int')
    expect(message).toContain('(1:15)')
    expect(message).toContain('secret.token + 1')
    expect(message).not.toContain('s3cr3t')
    expect(JSON.stringify((error as ValidationError).toJSON())).not.toContain('s3cr3t')
  })

  it('hasExpression sees either delimiter', () => {
    expect(hasExpression('a ${{ b }}')).toBe(true)
    expect(hasExpression('a ${% b %}')).toBe(true)
    expect(hasExpression('a {{ b }}')).toBe(false)
    expect(hasExpression('$ {{')).toBe(false)
  })
})

describe('§9 serialising', () => {
  it.each<[string, unknown, unknown]>([
    ['${{ quote(x) }}', 'foo', 'foo'],
    ['${{ quote(x) }}', 'a"b', 'a\\"b'],
    ['${{ quote(x) }}', 'line\nbreak', 'line\\nbreak'],
    ['${{ quote(x) }}', 'tab\there', 'tab\\there'],
    ['${{ quote(x) }}', 'é', 'é'],
    ['${{ quote(x) }}', '\u0007', '\\a'],
    ['${{ quote(x) }}', 42, '42'],
    ['${{ quote(x) }}', 1.5, '1.5'],
    ['${{ quote(x) }}', true, 'true'],
    ['${{ quote(x) }}', null, 'null'],
    ['${{ quote(x) }}', { b: [1, 2], a: '<x>' }, '{"a":"\\u003cx\\u003e","b":[1,2]}'],
    ['${{ quote(x) }}', ['b', 'a'], '["b","a"]'],
    ['${{ unsafeQuote(x) }}', 'foo', '"foo"'],
    ['${{ unsafeQuote(x) }}', 42, '42'],
    ['${{ unsafeQuote(x) }}', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['${{ asJSON(x) }}', { foo: 'bar', count: 2 }, '{\n  "count": 2,\n  "foo": "bar"\n}\n'],
    ['${{ asJSON(x) }}', [], '[]\n'],
    [
      '${{ asJSON(x) }}',
      { a: { c: [1, { e: null }], b: {} } },
      '{\n  "a": {\n    "b": {},\n    "c": [\n      1,\n      {\n        "e": null\n      }\n    ]\n  }\n}\n',
    ],
    ['${{ asYAML(x) }}', { foo: 'bar', count: 2 }, 'count: 2\nfoo: bar\n'],
    ['${{ asYAML(x) }}', ['one', 'two'], '- one\n- two\n'],
    ['${{ asYAML(x) }}', { a: { b: [1, { c: 'x' }] } }, 'a:\n    b:\n        - 1\n        - c: x\n'],
  ])('%s with x = %j → %j', (template, x, expected) => {
    expect(evaluateTemplate(template, { x })).toEqual(expected)
  })

  it('keeps the wrapping quotes when the call is only part of the value', () => {
    expect(evaluateTemplate('v=${{ quote("x") }}', {})).toBe('v="x"')
    expect(evaluateTemplate('v=${{ asJSON([1]) }}', {})).toBe('v="[\n  1\n]\n"')
  })

  it('exposes the quoted text to a bare expression, as Kargo does', () => {
    expect(evaluate('quote("x")', {})).toBe('"x"')
    expect(evaluate('unsafeQuote("x")', {})).toBe('""x""')
    expect(evaluate('asJSON({})', {})).toBe('"{}\n"')
  })

  it('does not let the env override quote, unsafeQuote, asJSON or asYAML', () => {
    expect(evaluateTemplate('${{ quote(1) }}', { quote: () => 'hijacked' })).toBe('1')
    expect(evaluateTemplate('${{ unsafeQuote(1) }}', { unsafeQuote: () => 'hijacked' })).toBe('1')
  })
})

describe('§10 step if', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['${{ true }}', {}, true],
    ['${{ false }}', {}, false],
    ['${{ vars.flag }}', { vars: { flag: 'true' } }, true],
    [
      '${{ success() && status("build") == "Succeeded" }}',
      { success: () => true, status: () => 'Succeeded' },
      true,
    ],
    ['${{ failure() }}', { failure: () => false }, false],
    ['${{ always() }}', { always: () => true }, true],
    ["${{ semverDiff('1.2.3', '2.0.0') != 'Major' }}", {}, false],
    ['${{ "t" }}', {}, true],
  ])('%s is %j', (template, scope, expected) => {
    expect(evaluateCondition(template, scope)).toBe(expected)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['true', {}, 'string'],
    ['${{ 1 }}', {}, 'int'],
    ['${{ 0.5 }}', {}, 'float64'],
    ['${{ "yes" }}', {}, 'string'],
    ['${{ nil }}', {}, '<nil>'],
    ['${{ [true] }}', {}, '[]interface {}'],
    ['${{ vars }}', { vars: { a: 1 } }, 'map[string]interface {}'],
  ])('%s is an error (got %s)', (template, scope, type) => {
    expect(() => evaluateCondition(template, scope)).toThrow(ValidationError)
    expect(() => evaluateCondition(template, scope)).toThrow(
      `expression must evaluate to a boolean, got ${type}`,
    )
  })

  it('requireBoolean passes booleans through', () => {
    expect(requireBoolean(true)).toBe(true)
    expect(requireBoolean(false)).toBe(false)
    expect(() => requireBoolean('true')).toThrow(ValidationError)
  })
})

describe('§11 ParseBool of the printed result', () => {
  it.each<[unknown, boolean]>([
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ['1', true],
    ['0', false],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['true', true],
    ['True', true],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['false', false],
    ['False', false],
    [1.0, true],
  ])('%j → %j', (value, expected) => {
    expect(parseBoolResult(value)).toBe(expected)
  })

  it.each<[unknown]>([[2], [-1], [0.5], ['yes'], ['tRuE'], [''], [' true'], [null], [[]], [[true]], [{}]])(
    '%j is an error',
    (value) => {
      expect(() => parseBoolResult(value)).toThrow(ValidationError)
    },
  )

  it('composes with a tag filter expression', () => {
    const filter = compileExpression("tag startsWith 'v' ? 1 : 0")
    expect(parseBoolResult(filter({ tag: 'v1.0.0' }))).toBe(true)
    expect(parseBoolResult(filter({ tag: 'nightly' }))).toBe(false)
    expect(() => parseBoolResult(evaluate('tag', { tag: 'v1' }))).toThrow(ValidationError)
  })
})

describe('evaluateDeep', () => {
  it('evaluates strings at any depth, never keys, and leaves the input alone', () => {
    const config = {
      repoURL: '${{ vars.gitopsRepo }}',
      checkout: [
        { branch: 'main', path: './src' },
        { branch: 'stage/${{ ctx.stage }}', create: true, path: '${{ 40 + 2 }}' },
      ],
      '${{ key }}': '${{ "true" }}',
      n: 1,
      nothing: null,
    }
    const before = JSON.stringify(config)
    expect(evaluateDeep(config, env)).toEqual({
      repoURL: 'https://github.com/example/repo.git',
      checkout: [
        { branch: 'main', path: './src' },
        { branch: 'stage/test', create: true, path: 42 },
      ],
      '${{ key }}': true,
      n: 1,
      nothing: null,
    })
    expect(JSON.stringify(config)).toBe(before)
  })

  it('keeps a "__proto__" key as data without touching any prototype', () => {
    const config = JSON.parse('{"__proto__": {"polluted": "${{ 1 }}"}, "a": "${{ 2 }}"}') as Record<
      string,
      unknown
    >
    const out = evaluateDeep(config, {}) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: 1 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it.each(['quote', 'asYAML', 'asJSON'])('refuses an env that defines %s', (name) => {
    expect(() => evaluateDeep({}, { [name]: null })).toThrow(`"${name}" is a forbidden key`)
  })
})

describe('errors', () => {
  it('reports syntax errors with line, column and a snippet', () => {
    let error: unknown
    try {
      evaluate('a +\n  * b', {})
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toMatch(
      /^syntax error in expression: unexpected token "\*" \(2:3\)\n \|   \* b\n \|   \^$/,
    )
    expect((error as ValidationError).data).toMatchObject({ line: 2, column: 3 })
  })

  it('passes a TugboatError from an env function through unchanged', () => {
    const boom = new TerminalError('no such freight')
    expect(() =>
      evaluate('commitFrom("x")', {
        commitFrom: () => {
          throw boom
        },
      }),
    ).toThrow(boom)
  })

  it('wraps other errors from env functions', () => {
    expect(() =>
      evaluate('f()', {
        f: () => {
          throw new Error('kaput')
        },
      }),
    ).toThrow(ValidationError)
    expect(() =>
      evaluate('f()', {
        f: () => {
          throw new Error('kaput')
        },
      }),
    ).toThrow(/f\(\): kaput/)
  })

  it('refuses async env functions', () => {
    expect(() => evaluate('f()', { f: async () => 1 })).toThrow(/must be synchronous/)
  })

  it('compiles once and evaluates many times', () => {
    const check = compileExpression('x > 1')
    expect(check({ x: 2 })).toBe(true)
    expect(check({ x: 0 })).toBe(false)
    expect(() => compileExpression('x >')).toThrow(ValidationError)
  })
})
