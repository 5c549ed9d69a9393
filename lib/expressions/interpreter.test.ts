import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { evaluate } from './index.js'

const env = {
  n: 7,
  f: 2.5,
  s: 'Hello',
  b: true,
  nothing: null,
  arr: [1, 2, 3, 4],
  strs: ['b', 'a', 'c'],
  users: [
    { Name: 'Ann', Age: 31, Tags: ['x'] },
    { Name: 'Bob', Age: 17, Tags: [] },
    { Name: 'Joe', Age: 42, Tags: ['y', 'z'] },
  ],
  m: { a: 1, 'b-c': 2, nested: { deep: { value: 'v' } }, list: [{ x: 1 }] },
  outputs: { 'update-image': { commit: 'def' } },
  add: (x: unknown, y: unknown) => (x as number) + (y as number),
  greet: (name: unknown) => `hi ${String(name)}`,
  obj: { method: (x: unknown) => `m:${String(x)}`, value: 3 },
  metadata: (_name: unknown) => ({ region: 'eu', config: null }),
  fixed: new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 120)),
}

const ok: [string, unknown][] = [
  // Literals.
  ['42', 42],
  ['0x2A', 42],
  ['0o52', 42],
  ['0b101010', 42],
  ['1_000_000', 1_000_000],
  ['0.5', 0.5],
  ['.5', 0.5],
  ['1e3', 1000],
  ['2.5e-3', 0.0025],
  ['"dq"', 'dq'],
  ["'sq'", 'sq'],
  ['`raw\\n`', 'raw\\n'],
  ['"a\\tb\\n\\"c\\" \\u00e9 \\x41 \\101 \\u{1F600}"', 'a\tb\n"c" é A A 😀'],
  ["'it\\'s'", "it's"],
  ['true', true],
  ['false', false],
  ['nil', null],
  ['[1, "two", [3], nil]', [1, 'two', [3], null]],
  ['[1, 2,]', [1, 2]],
  ['[]', []],
  ['{a: 1, "b": 2, 3: "c", (s + "!"): true}', { a: 1, b: 2, 3: 'c', 'Hello!': true }],
  ['{}', {}],
  ['{a: 1,}', { a: 1 }],
  // Comments.
  ['1 + /* two */ 2 // trailing', 3],
  // Member access.
  ['m.a', 1],
  ["m['b-c']", 2],
  ['m["nested"].deep.value', 'v'],
  ['m.list[0].x', 1],
  ['arr[0]', 1],
  ['arr[-1]', 4],
  ['arr[1.9]', 2],
  ['m.missing', null],
  ['unknown', null],
  ['m.missing?.deeper', null],
  ['nothing?.a.b.c', null],
  ['nothing?.["a"]', null],
  ['nothing?.method()', null],
  ['m?.a', 1],
  ["outputs['update-image'].commit", 'def'],
  ['$env.n', 7],
  ["$env['s']", 'Hello'],
  ["'n' in $env", true],
  ['s[0]', 72],
  // Slices and ranges.
  ['arr[1:3]', [2, 3]],
  ['arr[:2]', [1, 2]],
  ['arr[2:]', [3, 4]],
  ['arr[:]', [1, 2, 3, 4]],
  ['arr[-2:]', [3, 4]],
  ['arr[3:1]', []],
  ['s[1:3]', 'el'],
  ['1..3', [1, 2, 3]],
  ['3..1', []],
  // Arithmetic.
  ['1 + 2 * 3', 7],
  ['(1 + 2) * 3', 9],
  ['7 / 2', 3.5],
  ['4 / 2', 2],
  ['7 % 3', 1],
  ['-7 % 3', -1],
  ['2 ** 3 ** 2', 512],
  ['2 ^ 10', 1024],
  ['-2 ** 2', -4],
  ['-n', -7],
  ['+n', 7],
  ['n - 10', -3],
  ['f * 2', 5],
  ['1 / 0', Infinity],
  ['"a" + "b"', 'ab'],
  ['s + ", " + "world"', 'Hello, world'],
  // Comparison.
  ['1 == 1.0', true],
  ['1 != 2', true],
  ['"a" == "a"', true],
  ['"1" == 1', false],
  ['nil == nil', true],
  ['nothing == nil', true],
  ['unknown == nil', true],
  ['[1, [2]] == [1, [2]]', true],
  ['{a: 1} == {a: 1}', true],
  ['{a: 1} == {a: 2}', false],
  ['arr == [1, 2, 3, 4]', true],
  ['1 < 2', true],
  ['2 <= 2', true],
  ['3 > 4', false],
  ['"abc" < "abd"', true],
  ['"Z" < "a"', true],
  ['1 < 2 < 3', true],
  ['1 < 3 < 2', false],
  ['not true in [false]', true],
  ['!true == false', true],
  ['1 in [1] == true', true],
  ['1 + 2 == 3 && "a" < "b" || false', true],
  ['1 + 2 ?? 3', 3],
  ['-1 ** 2', -1],
  ['2 * 3 % 4', 2],
  ['10 - 2 - 3', 5],
  ['2 ** -1', 0.5],
  ['fixed < now()', true],
  // Logic.
  ['true && false', false],
  ['true and true', true],
  ['false || true', true],
  ['false or false', false],
  ['!true', false],
  ['not false', true],
  ['not (1 > 2)', true],
  ['false && unknown.field', false],
  ['true || unknown.field', true],
  ['true && "raw"', 'raw'],
  // Membership and strings.
  ['2 in arr', true],
  ['5 in arr', false],
  ['5 not in arr', true],
  ['"a" in m', true],
  ['"zz" in m', false],
  ['"x" in nothing', false],
  ['{Name: "Ann", Age: 31, Tags: ["x"]} in users', true],
  ['s contains "ell"', true],
  ['s not contains "xyz"', true],
  ['s startsWith "He"', true],
  ['s endsWith "lo"', true],
  ['s not startsWith "lo"', true],
  ['nothing contains "x"', false],
  ['s matches "^H.*o$"', true],
  ['s matches "(?i)^hello$"', true],
  ['"v1.2.3" matches "^v[[:digit:]]+"', true],
  ['s not matches "^x"', true],
  ['nothing matches "x"', false],
  // Conditionals and nil coalescing.
  ['b ? "yes" : "no"', 'yes'],
  ['!b ? "yes" : n > 5 ? "big" : "small"', 'big'],
  ['b ?: false', true],
  ['nothing ?? "default"', 'default'],
  ['m.missing ?? m.a', 1],
  ['0 ?? 1', 0],
  ['"" ?? "x"', ''],
  ['metadata("x")?.config?.timeout ?? 300', 300],
  ["metadata('x')['region'] ?? 'none'", 'eu'],
  ['if b { "then" } else { "else" }', 'then'],
  ['if !b { 1 } else if n > 1 { 2 } else { 3 }', 2],
  ['let x = 2; x * n', 14],
  ['let x = 1; let y = x + 1; [x, y]', [1, 2]],
  ['1; 2; 3', 3],
  // Calls.
  ['add(1, 2)', 3],
  ['greet(s)', 'hi Hello'],
  ['obj.method(1)', 'm:1'],
  ['obj.value', 3],
  ['arr | len()', 4],
  ['s | lower() | split("l")', ['he', '', 'o']],
  ['arr | filter(# > 2)', [3, 4]],
  // Predicates.
  ['filter(arr, # % 2 == 0)', [2, 4]],
  ['filter(users, .Age >= 18)', [env.users[0], env.users[2]]],
  ['map(users, .Name)', ['Ann', 'Bob', 'Joe']],
  ['map(users, {#.Name + "!"})', ['Ann!', 'Bob!', 'Joe!']],
  ['map(arr, #index)', [0, 1, 2, 3]],
  ['map(arr, {let x = #; x * x})', [1, 4, 9, 16]],
  ['all(arr, # > 0)', true],
  ['all([], false)', true],
  ['any(arr, # > 3)', true],
  ['any([], true)', false],
  ['none(arr, # > 4)', true],
  ['one(arr, # == 2)', true],
  ['count(arr, # > 1)', 3],
  ['count([true, false, true])', 2],
  ['sum(arr)', 10],
  ['sum(users, .Age)', 90],
  ['find(arr, # > 2)', 3],
  ['find(arr, # > 9)', null],
  ['findIndex(arr, # > 2)', 2],
  ['findLast(arr, # < 3)', 2],
  ['findLastIndex(arr, # < 3)', 1],
  ['reduce(arr, #acc + #)', 10],
  ['reduce(arr, #acc + #, 10)', 20],
  ['sortBy(users, .Age)[0].Name', 'Bob'],
  ['sortBy(users, .Name, "desc")[0].Name', 'Joe'],
  ['groupBy(users, .Age >= 18)["true"][0].Name', 'Ann'],
  ['map(filter(users, len(.Tags) > 0), {map(.Tags, upper(#))})', [['X'], ['Y', 'Z']]],
  ['filter(map(arr, # * 2), # > 4)', [6, 8]],
  // Builtins.
  ['len(arr)', 4],
  ['len(m)', 4],
  ['len("héllo")', 5],
  ['lower("ABC")', 'abc'],
  ['upper("abc")', 'ABC'],
  ['trim("  x  ")', 'x'],
  ['trim("__x__", "_")', 'x'],
  ['trimPrefix("v1.2", "v")', '1.2'],
  ['trimSuffix("a.git", ".git")', 'a'],
  ['split("a,b,c", ",")', ['a', 'b', 'c']],
  ['split("a,b,c", ",", 2)', ['a', 'b,c']],
  ['split("abc", "")', ['a', 'b', 'c']],
  ['split("", ",")', ['']],
  ['splitAfter("a,b", ",")', ['a,', 'b']],
  ['replace("aaa", "a", "b")', 'bbb'],
  ['replace("ab", "", "-")', '-a-b-'],
  ['repeat("ab", 3)', 'ababab'],
  ['join(["a", "b"], "-")', 'a-b'],
  ['join(["a", "b"])', 'ab'],
  ['indexOf("héllo", "l")', 3],
  ['lastIndexOf("hello", "l")', 3],
  ['hasPrefix("hello", "he")', true],
  ['hasSuffix("hello", "lo")', true],
  ['string(42)', '42'],
  ['string(2.5)', '2.5'],
  ['string(1e21)', '1e+21'],
  ['string(0.00001)', '1e-05'],
  ['string(1234567.5)', '1.2345675e+06'],
  ['string(true)', 'true'],
  ['string(nil)', '<nil>'],
  ['string([1, "a", nil])', '[1 a <nil>]'],
  ['string({b: 1, a: [2]})', 'map[a:[2] b:1]'],
  ['int("42")', 42],
  ['int(3.9)', 3],
  ['int(-3.9)', -3],
  ['float("1.5")', 1.5],
  ['float(2)', 2],
  ['abs(-2)', 2],
  ['ceil(1.2)', 2],
  ['floor(1.8)', 1],
  ['round(2.5)', 3],
  ['round(-2.5)', -3],
  ['max(1, 5, 3)', 5],
  ['min([4, 2, 8])', 2],
  ['toJSON({b: [1, 2], a: "<&>"})', '{\n  "a": "\\u003c\\u0026\\u003e",\n  "b": [\n    1,\n    2\n  ]\n}'],
  ['toJSON("x")', '"x"'],
  ['fromJSON(\'{"a": [1, true, null]}\')', { a: [1, true, null] }],
  ['fromJSON("12")', 12],
  ['keys({b: 1, a: 2})', ['a', 'b']],
  ['values({b: 1, a: 2})', [2, 1]],
  [
    'toPairs({b: 1, a: 2})',
    [
      ['a', 2],
      ['b', 1],
    ],
  ],
  ['fromPairs([["a", 1], ["b", 2]])', { a: 1, b: 2 }],
  ['first(arr)', 1],
  ['last(arr)', 4],
  ['first([])', null],
  ['first(nothing)', null],
  ['get(arr, 10)', null],
  ['get(m, "a")', 1],
  ['take(arr, 2)', [1, 2]],
  ['reverse(arr)', [4, 3, 2, 1]],
  ['uniq([1, 2, 1, "a", "a", [1], [1]])', [1, 2, 'a', [1]]],
  ['concat([1], [2, 3])', [1, 2, 3]],
  ['flatten([1, [2, [3]]])', [1, 2, 3]],
  ['sort(strs)', ['a', 'b', 'c']],
  ['sort([3, 1, 2], "desc")', [3, 2, 1]],
  ['toBase64("hi")', 'aGk='],
  ['fromBase64("aGk=")', 'hi'],
  ['type(1)', 'int'],
  ['type(1.5)', 'float'],
  ['type("")', 'string'],
  ['type(nil)', 'nil'],
  ['type([])', 'array'],
  ['type({})', 'map'],
  // Times.
  ['fixed.Year()', 2024],
  ['fixed.Month()', 2],
  ['fixed.Day()', 29],
  ['fixed.Hour()', 12],
  ['fixed.YearDay()', 60],
  ['fixed.Unix()', 1709209845],
  ['string(fixed)', '2024-02-29 12:30:45.12 +0000 UTC'],
  ['toJSON(fixed)', '"2024-02-29T12:30:45.12Z"'],
  ['fixed.Before(now())', true],
  // Versions (Kargo's semverParse / semverDiff).
  ['semverParse("1.2.3").Major()', 1],
  ['semverParse("v1.2.3-rc.1+b7").Prerelease()', 'rc.1'],
  ['semverParse("v1.2.3-rc.1+b7").Metadata()', 'b7'],
  ['semverParse("v1.2.3").IncMajor().String()', '2.0.0'],
  ['semverParse("v1.2.3").IncMinor().String()', '1.3.0'],
  ['semverParse("1.2.3").IncPatch().String()', '1.2.4'],
  ['semverParse("1.2.3-rc.1").IncPatch().String()', '1.2.3'],
  ['semverParse("v1.2.3").IncPatch().Original()', 'v1.2.4'],
  ['semverParse("v1.2.3").Original()', 'v1.2.3'],
  ['semverParse("1.2").String()', '1.2.0'],
  ['semverParse("1.0.0-alpha").LessThan(semverParse("1.0.0"))', true],
  ['toJSON(semverParse("v1.2.3"))', '"1.2.3"'],
  ['string(semverParse("v1.2.3"))', '1.2.3'],
  ['semverDiff("1.2.3", "2.0.0")', 'Major'],
  ['semverDiff("1.2.3", "1.3.0")', 'Minor'],
  ['semverDiff("1.2.3", "1.2.4")', 'Patch'],
  ['semverDiff("1.0.0-alpha", "1.0.0-beta")', 'None'],
  ['semverDiff("1.0.0+a", "1.0.0+b")', 'Metadata'],
  ['semverDiff("1.0.0", "bogus")', 'Incomparable'],
  // Kargo's quoting helpers (evaluated bare, so their wrapping quotes show).
  ['quote("a\\"b")', '"a\\"b"'],
  ['quote(1)', '"1"'],
  ['unsafeQuote("x")', '""x""'],
]

describe('evaluate', () => {
  it.each(ok)('%s', (expression, expected) => {
    expect(evaluate(expression, env, { now: () => new Date(Date.UTC(2030, 0, 1)) })).toEqual(expected)
  })

  it('uses the injected clock for now()', () => {
    const at = new Date(Date.UTC(2025, 5, 1, 8))
    expect(evaluate('now().Hour()', {}, { now: () => at })).toBe(8)
    expect(evaluate('toJSON(now())', {}, { now: () => at })).toBe('"2025-06-01T08:00:00Z"')
  })

  it('lets an env function take precedence over a non-reserved builtin of the same name', () => {
    expect(evaluate('lower("X")', { lower: () => 'custom' })).toBe('custom')
    expect(evaluate('len("abc")', { len: 3 })).toBe(3)
  })

  it('returns the env objects themselves for member reads', () => {
    expect(evaluate('m.nested', env)).toBe(env.m.nested)
  })
})

const errors: [string, RegExp][] = [
  // Syntax.
  ['1 +', /syntax error.*unexpected end of expression \(1:4\)/],
  ['(1', /syntax error.*unexpected end of expression/],
  ['1 2', /syntax error.*unexpected token "2" \(1:3\)/],
  ['"abc', /syntax error.*literal not terminated \(1:1\)/],
  ['"\\q"', /unable to unescape string/],
  ['1a', /bad number syntax/],
  ['@', /unrecognized character/],
  ['a ?? b || c', /cannot be mixed/],
  ['# > 1', /syntax error.*unexpected token "#"/],
  ['filter(arr)', /expects at least 2 arguments/],
  ['map(arr, #foo)', /unknown pointer #foo/],
  ['a.', /expected name/],
  ['{a b}', /unexpected token "b"/],
  ['{[1]: 2}', /a map key must be/],
  ['/* open', /unclosed comment/],
  ['9223372036854775808', /integer literal is too large/],
  ['1 not 2', /unexpected token "2"/],
  // Evaluation.
  ['nothing.a', /cannot fetch "a" from <nil> \(1:9\)/],
  ['unknown.a.b', /cannot fetch "a" from <nil>/],
  ['arr[10]', /index out of range: 10 \(array length is 4\)/],
  ['arr["x"]', /cannot use string as an index/],
  ['m[1]', /cannot use int as a map key/],
  ['n.x', /cannot fetch "x" from int/],
  ['"a" + 1', /invalid operation: string \+ int/],
  ['1 - "a"', /invalid operation: int - string/],
  ['2.5 % 2', /invalid operation: float64 % int/],
  ['1 % 0', /integer divide by zero/],
  ['"a" < 1', /invalid operation: string < int/],
  ['nil < 1', /invalid operation: <nil> < int/],
  ['!1', /invalid operation: ! int/],
  ['-"a"', /invalid operation: - string/],
  ['1 && true', /&& needs a bool, got int/],
  ['nothing || true', /\|\| needs a bool, got <nil>/],
  ['1 ? 2 : 3', /condition must be a bool, got int/],
  ['1 in 2', /operator "in" not defined on int/],
  ['1 in m', /cannot use int as a map key/],
  ['1 contains "a"', /invalid operation: int contains string/],
  ['s matches "("', /invalid regular expression/],
  ['s matches "(?=x)"', /invalid regular expression/],
  ['filter(m, true)', /cannot iterate over map/],
  ['filter(arr, 1)', /predicate must return a bool, got int/],
  ['count([1])', /predicate must return a bool/],
  ['undefinedFn(1)', /unknown function undefinedFn\(\)/],
  ['n(1)', /cannot call non-function n of type int/],
  ['obj.value(1)', /cannot call non-function of type int/],
  ['obj.missing()', /cannot call nil/],
  ['len(1)', /invalid argument for len \(type int\)/],
  ['len()', /invalid number of arguments for len/],
  ['lower(1)', /invalid argument for lower/],
  ['int("x")', /int\(string\)/],
  ['join([1])', /element of type int/],
  ['keys([])', /cannot get keys from \[\]interface \{\}/],
  ['fromJSON("{")', /invalid JSON/],
  ['semverParse("bogus")', /invalid semantic version/],
  ['semverParse(1)', /argument must be string, got int/],
  ['semverParse("1.2.3").Nope()', /cannot fetch "Nope" from \*semver.Version/],
  ['fixed.Nope()', /cannot fetch "Nope" from time.Time/],
  ['reduce([], #acc)', /reduce of empty array/],
  ['{(1): 2}', /map key must be a string, got int/],
  ['toJSON(add)', /unsupported type: func/],
  ['0..2000000', /memory budget exceeded/],
  ['repeat("x", 2000000)', /memory budget exceeded/],
]

describe('evaluation errors', () => {
  it.each(errors)('%s', (expression, pattern) => {
    let error: unknown
    try {
      evaluate(expression, env)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toMatch(pattern)
  })
})

describe('safety', () => {
  const hostile: [string, Record<string, unknown>][] = [
    ["''.constructor", {}],
    ['"".constructor.constructor', {}],
    ['[].constructor', {}],
    ['{}.constructor', {}],
    ['x.__proto__', { x: {} }],
    ["x['__proto__']", { x: {} }],
    ['x.prototype', { x: {} }],
    ['x.constructor', { x: { constructor: 'own' } }],
    ['f.constructor', { f: () => 1 }],
    ['constructor', {}],
    ['__proto__', {}],
    ['process', {}],
    ['globalThis', {}],
    ['Function', {}],
    ['this', {}],
    ['toString', {}],
    ['hasOwnProperty', {}],
    ['valueOf', {}],
    ['x.toString', { x: {} }],
    ['x.hasOwnProperty', { x: {} }],
    ['arr.length', { arr: [1] }],
    ['arr.map', { arr: [1] }],
    ['s.length', { s: 'abc' }],
  ]

  it.each(hostile)('%s yields nil or a ValidationError', (expression, scope) => {
    let result: unknown
    try {
      result = evaluate(expression, scope)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      return
    }
    expect(result).toBeNull()
  })

  it.each([
    ['[].constructor.constructor("return process")()', {}],
    ['"".constructor.constructor("return globalThis")()', {}],
    ['x.__proto__.polluted = 1', { x: {} }],
    ['constructor("return process")', {}],
    ['Function("return process")()', {}],
    ['toString()', {}],
    ['x.toString()', { x: {} }],
    ['__proto__.polluted', {}],
    ['x.__proto__.__proto__', { x: {} }],
  ] as [string, Record<string, unknown>][])('%s cannot reach a function or global', (expression, scope) => {
    let result: unknown = 'unset'
    try {
      result = evaluate(expression, scope)
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
    }
    expect(typeof result).not.toBe('function')
    expect(result === null || result === 'unset').toBe(true)
  })

  it('never runs getters or reads inherited properties', () => {
    let called = false
    const scope = Object.create({ inherited: 'from-proto' }) as Record<string, unknown>
    Object.defineProperty(scope, 'getter', {
      get() {
        called = true
        return 'gotten'
      },
      enumerable: true,
    })
    scope.own = 'mine'
    expect(evaluate('inherited', scope)).toBeNull()
    expect(evaluate('getter', scope)).toBeNull()
    expect(evaluate('own', scope)).toBe('mine')
    expect(called).toBe(false)
  })

  it('builds maps whose "__proto__" key is plain data', () => {
    const result = evaluate('{"__proto__": {"polluted": true}}', {}) as Record<string, unknown>
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const pairs = evaluate('fromPairs([["__proto__", 1]])', {}) as Record<string, unknown>
    expect(Object.getPrototypeOf(pairs)).toBe(Object.prototype)
    const parsed = evaluate('fromJSON(\'{"__proto__": {"polluted": 1}}\')', {}) as Record<string, unknown>
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('calls env functions without a receiver', () => {
    const receivers: unknown[] = []
    const scope = {
      obj: {
        fn: function (this: unknown) {
          receivers.push(this)
          return 1
        },
      },
    }
    expect(evaluate('obj.fn()', scope)).toBe(1)
    expect(receivers).toEqual([undefined])
  })

  it.each([
    ['a'.repeat(10_001), /longer than 10000 characters/],
    ['('.repeat(200) + '1' + ')'.repeat(200), /nested too deeply/],
    ['-'.repeat(200) + '1', /nested too deeply/],
    ['1' + ' + 1'.repeat(600), /nested too deeply/],
    ['a' + '.b'.repeat(600), /nested too deeply/],
  ])('bounds hostile input (%#)', (expression, pattern) => {
    expect(() => evaluate(expression, {})).toThrow(ValidationError)
    expect(() => evaluate(expression, {})).toThrow(pattern)
  })

  it('stops runaway evaluations', () => {
    const start = Date.now()
    expect(() => evaluate('map(0..999999, map(0..999999, #))', {})).toThrow(/memory budget exceeded|steps/)
    expect(() => evaluate('reduce(1..60, #acc + #acc, "xy")', {})).toThrow(/memory budget exceeded/)
    expect(() =>
      evaluate('count(0..999999, # >= 0) + count(0..999999, # >= 0)', {}, { maxSteps: 100_000 }),
    ).toThrow(/exceeded 100000 steps/)
    expect(Date.now() - start).toBeLessThan(10_000)
  })

  it('refuses values nested too deeply', () => {
    let deep: unknown = 1
    for (let i = 0; i < 2_000; i++) deep = [deep]
    expect(() => evaluate('toJSON(x)', { x: deep })).toThrow(/nested too deeply/)
    expect(() => evaluate('x == x', { x: deep })).toThrow(/nested too deeply/)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => evaluate('string(x)', { x: cyclic })).toThrow(ValidationError)
  })
})
