import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { evaluate, evaluateDeep, evaluateTemplate } from './index.js'
import { interpret } from './interpreter.js'
import type { Node } from './parser.js'

/** Names an attacker would try, mixed with names that exist in the environment. */
const NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'process',
  'globalThis',
  'global',
  'Function',
  'Object',
  'eval',
  'require',
  'import',
  'this',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'call',
  'apply',
  'bind',
  'length',
  'polluted',
  '$env',
  'a',
  'arr',
  'm',
  's',
  'n',
  'fn',
  'semver',
  'when',
]
const FUNCTIONS = [
  ...NAMES,
  'len',
  'lower',
  'split',
  'join',
  'string',
  'int',
  'float',
  'toJSON',
  'fromJSON',
  'fromPairs',
  'keys',
  'values',
  'first',
  'last',
  'get',
  'quote',
  'unsafeQuote',
  'asJSON',
  'asYAML',
  'semverParse',
  'semverDiff',
  'now',
  'repeat',
  'replace',
]
const PREDICATES = [
  'filter',
  'map',
  'all',
  'any',
  'none',
  'one',
  'count',
  'find',
  'sum',
  'reduce',
  'groupBy',
  'sortBy',
]
const BINARY = [
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '&&',
  '||',
  'in',
  'contains',
  'startsWith',
  'endsWith',
  'matches',
  '??',
  '..',
]
const UNARY = ['!', '-', '+']

let calls = 0
const makeEnv = (): Record<string, unknown> => ({
  a: { b: { c: 1 }, list: [1, 2, 3], constructor: 'own-data', 'x-y': 'z' },
  arr: [3, 1, 2, 'x', null, { k: 'v' }],
  m: JSON.parse('{"__proto__": {"polluted": 1}, "k": [1, {"deep": true}]}') as unknown,
  s: 'Hello, World',
  n: 42,
  fn: (...args: unknown[]) => {
    calls++
    return args.length
  },
  semver: 'v1.2.3-rc.1',
  when: new Date(Date.UTC(2024, 0, 1)),
})

const P = 0 // node positions are irrelevant here

const leaf: fc.Arbitrary<Node> = fc.oneof(
  fc.constantFrom<Node>(
    { type: 'nil', pos: P },
    { type: 'bool', value: true, pos: P },
    { type: 'bool', value: false, pos: P },
  ),
  fc
    .oneof(
      fc.integer({ min: -5, max: 1000 }),
      fc.double({ noNaN: false }),
      fc.constantFrom(0, -1, 2 ** 53, 1e21),
    )
    .map<Node>((value) => ({ type: 'number', value, pos: P })),
  fc
    .oneof(
      fc.constantFrom(...NAMES),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('(', '[a-z]+', '^v', '}}', '%}', '${{', '"'),
    )
    .map<Node>((value) => ({ type: 'string', value, pos: P })),
  fc.constantFrom(...NAMES).map<Node>((name) => ({ type: 'ident', name, pos: P })),
  fc.constantFrom('', 'index', 'acc').map<Node>((name) => ({ type: 'pointer', name, pos: P })),
)

const { node: nodeArb } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 6, depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      type: fc.constant('unary' as const),
      op: fc.constantFrom(...UNARY),
      operand: tie('node'),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('binary' as const),
      op: fc.constantFrom(...BINARY),
      left: tie('node'),
      right: tie('node'),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('member' as const),
      object: tie('node'),
      property: fc.oneof(
        fc.constantFrom(...NAMES).map<Node>((value) => ({ type: 'string', value, pos: P })),
        tie('node'),
      ),
      optional: fc.boolean(),
      pos: fc.constant(P),
    }),
    fc.record({ type: fc.constant('chain' as const), node: tie('node'), pos: fc.constant(P) }),
    fc.record({
      type: fc.constant('slice' as const),
      object: tie('node'),
      from: fc.option(tie('node'), { nil: null }),
      to: fc.option(tie('node'), { nil: null }),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('call' as const),
      callee: fc.oneof(
        fc.constantFrom(...FUNCTIONS).map<Node>((name) => ({ type: 'ident', name, pos: P })),
        tie('node'),
      ),
      args: fc.array(tie('node'), { maxLength: 3 }),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('predicateCall' as const),
      name: fc.constantFrom(...PREDICATES),
      args: fc
        .tuple(
          tie('node'),
          tie('node').map<Node>((body) => ({ type: 'predicate', body, pos: P })),
        )
        .map((t) => [...t]),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('array' as const),
      items: fc.array(tie('node'), { maxLength: 4 }),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('map' as const),
      entries: fc.array(
        fc.record({
          key: fc.oneof(
            fc.constantFrom(...NAMES).map<Node>((value) => ({ type: 'string', value, pos: P })),
            tie('node'),
          ),
          value: tie('node'),
        }),
        { maxLength: 3 },
      ),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('conditional' as const),
      cond: tie('node'),
      then: tie('node'),
      otherwise: tie('node'),
      pos: fc.constant(P),
    }),
    fc.record({
      type: fc.constant('let' as const),
      name: fc.constantFrom(...NAMES),
      value: tie('node'),
      body: tie('node'),
      pos: fc.constant(P),
    }),
  ),
}))

/** Prints an AST back to expression source (fully parenthesised). */
function print(n: Node): string {
  switch (n.type) {
    case 'nil':
      return 'nil'
    case 'bool':
      return String(n.value)
    case 'number':
      return Number.isFinite(n.value) ? (n.value < 0 ? `(${n.value})` : String(n.value)) : '0'
    case 'string':
      return JSON.stringify(n.value)
    case 'ident':
      return n.name
    case 'pointer':
      return `#${n.name}`
    case 'unary':
      return `(${n.op}${print(n.operand)})`
    case 'binary':
      return `(${print(n.left)} ${n.op} ${print(n.right)})`
    case 'member':
      return n.property.type === 'string' && /^[A-Za-z_$][\w$]*$/.test(n.property.value)
        ? `(${print(n.object)})${n.optional ? '?.' : '.'}${n.property.value}`
        : `(${print(n.object)})${n.optional ? '?.' : ''}[${print(n.property)}]`
    case 'chain':
      return print(n.node)
    case 'slice':
      return `(${print(n.object)})[${n.from ? print(n.from) : ''}:${n.to ? print(n.to) : ''}]`
    case 'call':
      return n.callee.type === 'ident'
        ? `${n.callee.name}(${n.args.map(print).join(', ')})`
        : `(${print(n.callee)})(${n.args.map(print).join(', ')})`
    case 'predicateCall':
      return `${n.name}(${n.args.map(print).join(', ')})`
    case 'predicate':
      return `{${print(n.body)}}`
    case 'array':
      return `[${n.items.map(print).join(', ')}]`
    case 'map':
      return `{${n.entries.map((e) => `(${print(e.key)}): ${print(e.value)}`).join(', ')}}`
    case 'conditional':
      return `(${print(n.cond)} ? ${print(n.then)} : ${print(n.otherwise)})`
    case 'let':
      return `(let ${n.name} = ${print(n.value)}; ${print(n.body)})`
    case 'sequence':
      return `(${n.nodes.map(print).join('; ')})`
  }
}

const DANGEROUS: unknown[] = [
  Function,
  Object,
  Array,
  String,
  Number,
  Boolean,
  Symbol,
  Promise,
  Reflect,
  Proxy,
  globalThis,
  process,
  eval,
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Object.prototype.toString,
  Object.prototype.hasOwnProperty,
  Object.prototype.valueOf,
  Function.prototype.call,
  Function.prototype.apply,
  Function.prototype.bind,
]

/** Fails when a dangerous object is reachable from the result (arrays and own properties, a few levels deep). */
function assertSafeResult(value: unknown, depth = 0): void {
  if (depth > 8 || value === null || value === undefined) return
  expect(DANGEROUS.includes(value)).toBe(false)
  if (Array.isArray(value)) value.forEach((v) => assertSafeResult(v, depth + 1))
  else if (typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const desc = Object.getOwnPropertyDescriptor(value, key)
      if (desc && 'value' in desc) assertSafeResult(desc.value, depth + 1)
    }
  }
}

let objectKeys: string[]
let arrayKeys: string[]
let functionKeys: string[]
let stringKeys: string[]

beforeAll(() => {
  objectKeys = Object.getOwnPropertyNames(Object.prototype)
  arrayKeys = Object.getOwnPropertyNames(Array.prototype)
  functionKeys = Object.getOwnPropertyNames(Function.prototype)
  stringKeys = Object.getOwnPropertyNames(String.prototype)
})

function assertNoPollution(): void {
  expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(objectKeys)
  expect(Object.getOwnPropertyNames(Array.prototype)).toEqual(arrayKeys)
  expect(Object.getOwnPropertyNames(Function.prototype)).toEqual(functionKeys)
  expect(Object.getOwnPropertyNames(String.prototype)).toEqual(stringKeys)
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
}

/** Runs `fn`; it may return or throw a ValidationError, nothing else, and must finish quickly. */
function check(fn: () => unknown): void {
  const start = performance.now()
  let result: unknown
  try {
    result = fn()
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
  }
  expect(performance.now() - start).toBeLessThan(3_000)
  assertSafeResult(result)
  assertNoPollution()
}

const OPTIONS = { maxSteps: 200_000, now: () => new Date(Date.UTC(2025, 0, 1)) }

describe('fuzz', () => {
  afterAll(() => {
    assertNoPollution()
  })

  it('random strings only ever return or throw a ValidationError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: 'grapheme' }), (text) => {
        check(() => evaluate(text, makeEnv(), OPTIONS))
      }),
      { numRuns: 1_500 },
    )
  })

  it('random token soup only ever returns or throws a ValidationError', () => {
    const token = fc.constantFrom(
      ...NAMES,
      ...FUNCTIONS.slice(0, 12),
      ...PREDICATES,
      ...BINARY,
      ...UNARY,
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      ';',
      '.',
      '?.',
      '?',
      '#',
      '#index',
      '#acc',
      'not',
      'let',
      'if',
      'else',
      '=',
      '|',
      '1',
      '0.5',
      '"s"',
      "'__proto__'",
      '`raw`',
      'nil',
      'true',
      '0..1000',
      ' ',
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), (tokens) => {
        check(() => evaluate(tokens.join(' '), makeEnv(), OPTIONS))
      }),
      { numRuns: 3_000 },
    )
  })

  it('random ASTs, interpreted directly and printed and parsed, only ever return or throw a ValidationError', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        check(() => {
          try {
            return interpret(node, makeEnv(), OPTIONS)
          } catch (error) {
            // The interpreter's own positioned errors become ValidationErrors at the public boundary.
            if (error instanceof Error && error.name === 'ExpressionEvalError')
              throw new ValidationError(error.message)
            throw error
          }
        })
        check(() => evaluate(print(node), makeEnv(), OPTIONS))
      }),
      { numRuns: 3_000 },
    )
  })

  it('random templates only ever return or throw a ValidationError', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(
        '${{',
        '}}',
        '${%',
        '%}',
        '"',
        '\n',
        'a.b',
        "quote('x')",
        'asJSON(m)',
        'asYAML(a)',
        '[1]',
        '{"k": 1}',
      ),
      nodeArb.map((n) => `\${{ ${print(n)} }}`),
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        const text = pieces.join('')
        check(() => evaluateTemplate(text, makeEnv(), OPTIONS))
        check(() => evaluateDeep({ k: text, l: [text] }, makeEnv(), OPTIONS))
      }),
      { numRuns: 1_000 },
    )
  })

  it('known escape attempts stay inside the sandbox', () => {
    const attempts = [
      "''.constructor",
      "''.constructor.constructor('return process')()",
      '[].constructor.constructor("return process")()',
      'a.__proto__.polluted',
      "a['__proto__']['polluted']",
      'a.constructor.prototype',
      'fn.constructor("return globalThis")',
      'fn.call',
      'fn.apply(nil, [1])',
      'fn.bind',
      '$env.constructor',
      "$env['__proto__']",
      'let constructor = 1; constructor',
      'm.__proto__.polluted',
      'toJSON(m)',
      'fromJSON(\'{"__proto__": {"polluted": 1}}\').polluted',
      'fromPairs([["__proto__", {"polluted": 1}]]).polluted',
      '{__proto__: {polluted: 1}}.polluted',
      'semverParse(semver).constructor',
      'when.constructor',
      'when.getTime()',
      'map([1], #.constructor)',
      'process.exit(1)',
      'globalThis.process',
      'Function("return 1")()',
      'eval("1")',
      'require("fs")',
    ]
    for (const expression of attempts) {
      check(() => {
        const result = evaluate(expression, makeEnv(), OPTIONS)
        expect(typeof result === 'function' ? 'function' : 'ok').toBe('ok')
        return result
      })
    }
    expect(calls).toBeGreaterThanOrEqual(0)
  })
})
