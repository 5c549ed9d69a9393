/**
 * Tree-walking interpreter for the expr-lang subset, with expr-lang's runtime semantics: unknown variables are nil,
 * fetching from nil is an error unless the access is optional (`?.`), `&&`/`||`/`!`/`?:` need booleans, `+` adds
 * numbers or joins strings, `/` always divides as floats, `%` needs integers. Member access reads own data
 * properties only; functions are only those in the environment (and the builtins). Every node costs a step and
 * every allocation is charged, so hostile input ends in a `ValidationError` rather than a hang.
 */
import { TugboatError, ValidationError } from '../errors.js'
import { compileRe2 } from '../regex/re2.js'
import { lookupBuiltin, toInt, type BuiltinContext } from './builtins.js'
import { ExpressionEvalError } from './errors.js'
import { RESERVED_FUNCTION_NAMES, kargoFunctions, semverMethods } from './kargo-functions.js'
import type { Node } from './parser.js'
import { compareCodePoints, utf8Bytes } from './go-strconv.js'
import {
  ExprRuntimeError,
  formatTimeString,
  formatV,
  getOwn,
  hasOwnData,
  isArray,
  isForbiddenKey,
  isMap,
  isNil,
  isSemver,
  isTime,
  setOwn,
  typeName,
  valuesEqual,
} from './values.js'

/** Options of one evaluation. */
export interface EvaluateOptions {
  /** The clock behind `now()`; defaults to the system clock. */
  now?: () => Date
  /** Most evaluation steps (nodes visited, elements walked) before giving up; default 1,000,000. */
  maxSteps?: number
  /** Most memory units (array elements, string characters) an evaluation may allocate; default 16,000,000. */
  maxMemory?: number
}

export const DEFAULT_MAX_STEPS = 1_000_000
export const DEFAULT_MAX_MEMORY = 16_000_000
/** Longest string an evaluation may build (characters). */
export const MAX_STRING_LENGTH = 8_000_000

interface PointerScope {
  item: unknown
  index: number
  acc: unknown
}

interface Ctx extends BuiltinContext {
  env: Record<string, unknown>
  pointers: PointerScope[]
  vars: { name: string; value: unknown }[]
  steps: number
  maxSteps: number
  memory: number
  maxMemory: number
}

/** Thrown by a `?.` on nil; caught by the enclosing chain node, which then yields nil. */
const CHAIN_BREAK = Object.freeze({ chainBreak: true })

const regexCache = new Map<string, { test(s: string): boolean }>()
const REGEX_CACHE_LIMIT = 256

function compileRegex(pattern: string): { test(s: string): boolean } {
  const cached = regexCache.get(pattern)
  if (cached) return cached
  let re: { test(s: string): boolean }
  try {
    re = compileRe2(pattern)
  } catch (error) {
    if (error instanceof ValidationError) throw new ExprRuntimeError(error.message)
    throw new ExprRuntimeError('invalid regular expression')
  }
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear()
  regexCache.set(pattern, re)
  return re
}

/** Checks every constant `matches` pattern up front, as expr-lang does when it compiles an expression. */
export function precompileConstantPatterns(node: Node, visit: (n: Node) => Node[]): void {
  const stack = [node]
  for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
    if (n.type === 'binary' && n.op === 'matches' && n.right.type === 'string') {
      try {
        compileRegex(n.right.value)
      } catch (error) {
        if (error instanceof ExprRuntimeError) throw new ExpressionEvalError(error.message, n.right.pos)
        throw error
      }
    }
    stack.push(...visit(n))
  }
}

/** Evaluates a parsed expression against `env`. Throws `ExpressionEvalError` (or a `TugboatError` from an env function). */
export function interpret(node: Node, env: Record<string, unknown>, options: EvaluateOptions = {}): unknown {
  const ctx: Ctx = {
    env,
    pointers: [],
    vars: [],
    steps: 0,
    maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
    memory: 0,
    maxMemory: options.maxMemory ?? DEFAULT_MAX_MEMORY,
    now: options.now ?? (() => new Date()),
    budget: {
      tick(n = 1) {
        ctx.steps += n
        if (ctx.steps > ctx.maxSteps) throw new ExprRuntimeError(`evaluation exceeded ${ctx.maxSteps} steps`)
      },
    },
    alloc(n: number) {
      ctx.memory += n
      if (ctx.memory > ctx.maxMemory) throw new ExprRuntimeError('memory budget exceeded')
    },
  }
  let result: unknown
  try {
    result = evalNode(node, ctx)
  } catch (error) {
    // A `?.` outside any chain node (the parser always adds one) still only short-circuits to nil.
    if (error === CHAIN_BREAK) return null
    throw error
  }
  return result === undefined ? null : result
}

function evalNode(n: Node, ctx: Ctx): unknown {
  try {
    ctx.budget.tick()
    return evalInner(n, ctx)
  } catch (error) {
    if (error instanceof ExprRuntimeError) throw new ExpressionEvalError(error.message, n.pos)
    if (error instanceof RangeError) {
      // "Invalid string length" / "Maximum call stack size exceeded" and the like.
      throw new ExpressionEvalError('memory or recursion limit exceeded', n.pos)
    }
    throw error
  }
}

function evalInner(n: Node, ctx: Ctx): unknown {
  switch (n.type) {
    case 'nil':
      return null
    case 'bool':
    case 'number':
    case 'string':
      return n.value
    case 'ident':
      return lookupVariable(n.name, ctx)
    case 'pointer': {
      const scope = ctx.pointers[ctx.pointers.length - 1]
      if (scope === undefined) throw new ExprRuntimeError('# used outside a predicate')
      if (n.name === '') return scope.item
      if (n.name === 'index') return scope.index
      return scope.acc ?? null
    }
    case 'array': {
      ctx.alloc(n.items.length)
      return n.items.map((item) => nil(evalNode(item, ctx)))
    }
    case 'map': {
      const out: Record<string, unknown> = {}
      ctx.alloc(n.entries.length)
      for (const { key, value } of n.entries) {
        const k = evalNode(key, ctx)
        if (typeof k !== 'string') throw new ExprRuntimeError(`map key must be a string, got ${typeName(k)}`)
        setOwn(out, k, nil(evalNode(value, ctx)))
      }
      return out
    }
    case 'member': {
      const obj = evalNode(n.object, ctx)
      if (isNil(obj) && n.optional) throw CHAIN_BREAK
      const key = evalNode(n.property, ctx)
      return fetchMember(obj, key, n.property.type === 'string' || n.property.type === 'number')
    }
    case 'chain':
      try {
        return evalNode(n.node, ctx)
      } catch (error) {
        if (error === CHAIN_BREAK) return null
        throw error
      }
    case 'slice':
      return slice(
        evalNode(n.object, ctx),
        n.from ? evalNode(n.from, ctx) : undefined,
        n.to ? evalNode(n.to, ctx) : undefined,
        ctx,
      )
    case 'call':
      return evalCall(n, ctx)
    case 'predicateCall':
      return evalPredicateCall(n.name, n.args, ctx)
    case 'predicate':
      return evalNode(n.body, ctx)
    case 'unary':
      return evalUnary(n.op, evalNode(n.operand, ctx))
    case 'binary':
      return evalBinary(n.op, n.left, n.right, ctx)
    case 'conditional': {
      const cond = evalNode(n.cond, ctx)
      if (typeof cond !== 'boolean')
        throw new ExprRuntimeError(`condition must be a bool, got ${typeName(cond)}`)
      return evalNode(cond ? n.then : n.otherwise, ctx)
    }
    case 'let': {
      const value = evalNode(n.value, ctx)
      ctx.vars.push({ name: n.name, value })
      try {
        return evalNode(n.body, ctx)
      } finally {
        ctx.vars.pop()
      }
    }
    case 'sequence': {
      let last: unknown = null
      for (const item of n.nodes) last = evalNode(item, ctx)
      return last
    }
  }
}

function nil(v: unknown): unknown {
  return v === undefined ? null : v
}

function lookupVariable(name: string, ctx: Ctx): unknown {
  for (let i = ctx.vars.length - 1; i >= 0; i--) {
    const v = ctx.vars[i]
    if (v !== undefined && v.name === name) return v.value
  }
  if (name === '$env') return ctx.env
  return nil(getOwn(ctx.env, name))
}

function describeKey(key: unknown, literal: boolean): string {
  if (!literal) return `a ${typeName(key)} key`
  return typeof key === 'string' ? JSON.stringify(key) : String(key)
}

/** expr-lang's `runtime.Fetch`, restricted to own data properties and the methods of versions and times. */
function fetchMember(obj: unknown, key: unknown, literalKey: boolean): unknown {
  if (isNil(obj)) throw new ExprRuntimeError(`cannot fetch ${describeKey(key, literalKey)} from <nil>`)
  if (typeof key === 'string' && isForbiddenKey(key)) return null
  if (isArray(obj) || typeof obj === 'string') {
    if (typeof key !== 'number')
      throw new ExprRuntimeError(`cannot use ${typeName(key)} as an index of ${typeName(obj)}`)
    let index = toInt(key)
    if (typeof obj === 'string') {
      const bytes = utf8Bytes(obj)
      if (index < 0) index += bytes.length
      if (index < 0 || index >= bytes.length)
        throw new ExprRuntimeError(`index out of range: ${index} (string length is ${bytes.length})`)
      return bytes[index] ?? null
    }
    if (index < 0) index += obj.length
    if (index < 0 || index >= obj.length)
      throw new ExprRuntimeError(`index out of range: ${index} (array length is ${obj.length})`)
    return nil(obj[index])
  }
  if (isSemver(obj)) {
    const method =
      typeof key === 'string' && Object.hasOwn(semverMethods, key) ? semverMethods[key] : undefined
    if (method === undefined)
      throw new ExprRuntimeError(`cannot fetch ${describeKey(key, literalKey)} from *semver.Version`)
    return (...args: unknown[]) => method(obj, args)
  }
  if (isTime(obj)) {
    const method = typeof key === 'string' && Object.hasOwn(timeMethods, key) ? timeMethods[key] : undefined
    if (method === undefined)
      throw new ExprRuntimeError(`cannot fetch ${describeKey(key, literalKey)} from time.Time`)
    return (...args: unknown[]) => method(obj, args)
  }
  if (isMap(obj)) {
    if (isNil(key)) return nil(getOwn(obj, ''))
    if (typeof key !== 'string') throw new ExprRuntimeError(`cannot use ${typeName(key)} as a map key`)
    return nil(getOwn(obj, key))
  }
  throw new ExprRuntimeError(`cannot fetch ${describeKey(key, literalKey)} from ${typeName(obj)}`)
}

const timeMethods: Record<string, (t: Date, args: unknown[]) => unknown> = Object.assign(
  Object.create(null) as Record<string, (t: Date, args: unknown[]) => unknown>,
  {
    Year: (t: Date) => t.getUTCFullYear(),
    Month: (t: Date) => t.getUTCMonth() + 1,
    Day: (t: Date) => t.getUTCDate(),
    Hour: (t: Date) => t.getUTCHours(),
    Minute: (t: Date) => t.getUTCMinutes(),
    Second: (t: Date) => t.getUTCSeconds(),
    Nanosecond: (t: Date) => t.getUTCMilliseconds() * 1e6,
    Weekday: (t: Date) => t.getUTCDay(),
    YearDay: (t: Date) => Math.floor((t.getTime() - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
    Unix: (t: Date) => Math.floor(t.getTime() / 1000),
    UnixMilli: (t: Date) => t.getTime(),
    UTC: (t: Date) => new Date(t.getTime()),
    String: (t: Date) => formatTimeString(t),
    Before: (t: Date, args: unknown[]) => t.getTime() < otherTime('Before', args).getTime(),
    After: (t: Date, args: unknown[]) => t.getTime() > otherTime('After', args).getTime(),
    Equal: (t: Date, args: unknown[]) => t.getTime() === otherTime('Equal', args).getTime(),
  },
)

function otherTime(name: string, args: unknown[]): Date {
  const [o] = args
  if (args.length !== 1 || !isTime(o)) throw new ExprRuntimeError(`${name}: argument must be a time`)
  return o
}

function slice(obj: unknown, from: unknown, to: unknown, ctx: Ctx): unknown {
  const isString = typeof obj === 'string'
  if (!isArray(obj) && !isString) throw new ExprRuntimeError(`cannot slice ${typeName(obj)}`)
  const bytes = isString ? utf8Bytes(obj) : undefined
  const length = bytes ? bytes.length : (obj as unknown[]).length
  let a = from === undefined ? 0 : toInt(from)
  let b = to === undefined ? length : toInt(to)
  if (a < 0) a += length
  if (a < 0) a = 0
  if (b < 0) b += length
  if (b < 0) b = 0
  if (b > length) b = length
  if (a > b) a = b
  ctx.alloc(b - a)
  if (bytes) return new TextDecoder().decode(bytes.subarray(a, b))
  return (obj as unknown[]).slice(a, b)
}

function evalCall(n: Extract<Node, { type: 'call' }>, ctx: Ctx): unknown {
  if (n.callee.type === 'ident') {
    const name = n.callee.name
    const args = n.args.map((a) => nil(evalNode(a, ctx)))
    if (RESERVED_FUNCTION_NAMES.includes(name)) return kargoFunctions[name]?.(args, ctx)
    const fromEnv = lookupVariable(name, ctx)
    if (typeof fromEnv === 'function') return callFunction(fromEnv, args, name)
    const builtin =
      lookupBuiltin(name) ?? (Object.hasOwn(kargoFunctions, name) ? kargoFunctions[name] : undefined)
    if (builtin !== undefined) return builtin(args, ctx)
    if (!isNil(fromEnv))
      throw new ExprRuntimeError(`cannot call non-function ${name} of type ${typeName(fromEnv)}`)
    throw new ExprRuntimeError(`unknown function ${name}()`)
  }
  const fn = evalNode(n.callee, ctx)
  const args = n.args.map((a) => nil(evalNode(a, ctx)))
  if (isNil(fn)) throw new ExprRuntimeError('invalid operation: cannot call nil')
  if (typeof fn !== 'function')
    throw new ExprRuntimeError(`invalid operation: cannot call non-function of type ${typeName(fn)}`)
  return callFunction(
    fn,
    args,
    n.callee.type === 'member' && n.callee.property.type === 'string' ? n.callee.property.value : 'function',
  )
}

function callFunction(fn: unknown, args: unknown[], name: string): unknown {
  let result: unknown
  try {
    result = Reflect.apply(fn as (...a: unknown[]) => unknown, undefined, args)
  } catch (error) {
    if (error instanceof ExprRuntimeError || error instanceof TugboatError) throw error
    throw new ExprRuntimeError(`${name}(): ${error instanceof Error ? error.message : 'call failed'}`)
  }
  if (result instanceof Promise) {
    void result.catch(() => undefined)
    throw new ExprRuntimeError(`${name}() returned a promise; expression functions must be synchronous`)
  }
  return nil(result)
}

function evalUnary(op: string, v: unknown): unknown {
  switch (op) {
    case '!':
      if (typeof v !== 'boolean') throw new ExprRuntimeError(`invalid operation: ! ${typeName(v)}`)
      return !v
    case '-':
      if (typeof v !== 'number') throw new ExprRuntimeError(`invalid operation: - ${typeName(v)}`)
      return -v
    default:
      return v
  }
}

function checkString(s: string, ctx: Ctx): string {
  if (s.length > MAX_STRING_LENGTH) throw new ExprRuntimeError('memory budget exceeded')
  ctx.alloc(s.length)
  return s
}

function numbers(op: string, a: unknown, b: unknown): [number, number] {
  if (typeof a !== 'number' || typeof b !== 'number')
    throw new ExprRuntimeError(`invalid operation: ${typeName(a)} ${op} ${typeName(b)}`)
  return [a, b]
}

/** expr-lang's `runtime.Less`: numbers, strings (byte order) and times. */
function compare(op: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b)
  if (isTime(a) && isTime(b)) return Math.sign(a.getTime() - b.getTime())
  throw new ExprRuntimeError(`invalid operation: ${typeName(a)} ${op} ${typeName(b)}`)
}

function evalBinary(op: string, leftNode: Node, rightNode: Node, ctx: Ctx): unknown {
  if (op === '&&' || op === '||') {
    const left = evalNode(leftNode, ctx)
    if (typeof left !== 'boolean')
      throw new ExprRuntimeError(`invalid operation: ${op} needs a bool, got ${typeName(left)}`)
    if (op === '&&' ? !left : left) return left
    return nil(evalNode(rightNode, ctx))
  }
  if (op === '??') {
    const left = evalNode(leftNode, ctx)
    return isNil(left) ? nil(evalNode(rightNode, ctx)) : left
  }
  const a = evalNode(leftNode, ctx)
  const b = evalNode(rightNode, ctx)
  switch (op) {
    case '==':
      return valuesEqual(a, b, ctx.budget)
    case '!=':
      return !valuesEqual(a, b, ctx.budget)
    case '<':
      return compare(op, a, b) < 0
    case '>':
      return compare(op, a, b) > 0
    case '<=':
      return compare(op, a, b) <= 0
    case '>=':
      return compare(op, a, b) >= 0
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return checkString(a + b, ctx)
      return add(a, b)
    case '-': {
      const [x, y] = numbers(op, a, b)
      return x - y
    }
    case '*': {
      const [x, y] = numbers(op, a, b)
      return x * y
    }
    case '/': {
      const [x, y] = numbers(op, a, b)
      return x / y
    }
    case '%': {
      const [x, y] = numbers(op, a, b)
      if (!Number.isInteger(x) || !Number.isInteger(y))
        throw new ExprRuntimeError(`invalid operation: ${typeName(a)} % ${typeName(b)}`)
      if (y === 0) throw new ExprRuntimeError('integer divide by zero')
      const r = x % y
      return r === 0 ? 0 : r
    }
    case '**': {
      const [x, y] = numbers(op, a, b)
      return Math.pow(x, y)
    }
    case '..': {
      const lo = toInt(a)
      const hi = toInt(b)
      const size = hi - lo + 1
      if (size <= 0) return []
      if (size > 1_000_000) throw new ExprRuntimeError('memory budget exceeded')
      ctx.alloc(size)
      ctx.budget.tick(size)
      return Array.from({ length: size }, (_, i) => lo + i)
    }
    case 'in':
      return membership(a, b, ctx)
    case 'matches': {
      if (isNil(a) || isNil(b)) return false
      if (typeof a !== 'string' || typeof b !== 'string')
        throw new ExprRuntimeError(`invalid operation: ${typeName(a)} matches ${typeName(b)}`)
      return compileRegex(b).test(a)
    }
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      if (isNil(a) || isNil(b)) return false
      if (typeof a !== 'string' || typeof b !== 'string')
        throw new ExprRuntimeError(`invalid operation: ${typeName(a)} ${op} ${typeName(b)}`)
      return op === 'contains' ? a.includes(b) : op === 'startsWith' ? a.startsWith(b) : a.endsWith(b)
    }
    default:
      throw new ExprRuntimeError(`unknown operator ${op}`)
  }
}

function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b
  throw new ExprRuntimeError(`invalid operation: ${typeName(a)} + ${typeName(b)}`)
}

/** expr-lang's `runtime.In`: an element of an array, a key of a map; nil on the right is false. */
function membership(needle: unknown, haystack: unknown, ctx: Ctx): boolean {
  if (isNil(haystack)) return false
  if (isArray(haystack)) {
    for (const item of haystack) if (valuesEqual(item, needle, ctx.budget)) return true
    return false
  }
  if (isSemver(haystack) || isTime(haystack)) {
    if (typeof needle !== 'string')
      throw new ExprRuntimeError(`cannot use ${typeName(needle)} as field name of ${typeName(haystack)}`)
    return false
  }
  if (isMap(haystack)) {
    if (isNil(needle)) return hasOwnData(haystack, '')
    if (typeof needle !== 'string') throw new ExprRuntimeError(`cannot use ${typeName(needle)} as a map key`)
    return hasOwnData(haystack, needle)
  }
  throw new ExprRuntimeError(`operator "in" not defined on ${typeName(haystack)}`)
}

function collection(name: string, v: unknown): unknown[] {
  if (!isArray(v)) throw new ExprRuntimeError(`${name}: cannot iterate over ${typeName(v)}`)
  return v
}

function predicateBool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean')
    throw new ExprRuntimeError(`${name}: predicate must return a bool, got ${typeName(v)}`)
  return v
}

function evalPredicateCall(name: string, argNodes: Node[], ctx: Ctx): unknown {
  const [sourceNode, predicate, extraNode] = argNodes
  if (sourceNode === undefined) throw new ExprRuntimeError(`${name}: missing arguments`)
  const items = collection(name, evalNode(sourceNode, ctx))
  const run = (item: unknown, index: number, acc: unknown = null): unknown => {
    if (predicate === undefined) return item
    ctx.pointers.push({ item, index, acc })
    try {
      return nil(evalNode(predicate, ctx))
    } finally {
      ctx.pointers.pop()
    }
  }
  switch (name) {
    case 'all':
      return items.every((x, i) => predicateBool(name, run(x, i)))
    case 'any':
      return items.some((x, i) => predicateBool(name, run(x, i)))
    case 'none':
      return !items.some((x, i) => predicateBool(name, run(x, i)))
    case 'one':
      return items.filter((x, i) => predicateBool(name, run(x, i))).length === 1
    case 'filter': {
      const out = items.filter((x, i) => predicateBool(name, run(x, i)))
      ctx.alloc(out.length)
      return out
    }
    case 'map': {
      ctx.alloc(items.length)
      return items.map((x, i) => run(x, i))
    }
    case 'count':
      return items.filter((x, i) => predicateBool(name, run(x, i))).length
    case 'sum': {
      let acc: unknown = 0
      items.forEach((x, i) => {
        acc = add(run(x, i), acc)
      })
      return acc
    }
    case 'find': {
      const i = items.findIndex((x, j) => predicateBool(name, run(x, j)))
      return i < 0 ? null : nil(items[i])
    }
    case 'findIndex':
      return items.findIndex((x, j) => predicateBool(name, run(x, j)))
    case 'findLast': {
      for (let i = items.length - 1; i >= 0; i--)
        if (predicateBool(name, run(items[i], i))) return nil(items[i])
      return null
    }
    case 'findLastIndex': {
      for (let i = items.length - 1; i >= 0; i--) if (predicateBool(name, run(items[i], i))) return i
      return -1
    }
    case 'groupBy': {
      const out: Record<string, unknown> = {}
      items.forEach((x, i) => {
        const key = run(x, i)
        const k = typeof key === 'string' ? key : formatV(key, ctx.budget)
        const group = getOwn(out, k)
        if (isArray(group)) group.push(x)
        else setOwn(out, k, [x])
      })
      ctx.alloc(items.length)
      return out
    }
    case 'sortBy': {
      const order = extraNode === undefined ? 'asc' : evalNode(extraNode, ctx)
      if (order !== 'asc' && order !== 'desc')
        throw new ExprRuntimeError('sortBy: order must be "asc" or "desc"')
      const keyed = items.map((x, i) => ({ x, k: run(x, i) }))
      ctx.budget.tick(items.length)
      ctx.alloc(items.length)
      keyed.sort((p, q) => compare('<', p.k, q.k))
      if (order === 'desc') keyed.reverse()
      return keyed.map((e) => e.x)
    }
    case 'reduce': {
      let start = 0
      let acc: unknown
      if (extraNode !== undefined) acc = evalNode(extraNode, ctx)
      else {
        if (items.length === 0) throw new ExprRuntimeError('reduce of empty array with no initial value')
        acc = items[0]
        start = 1
      }
      for (let i = start; i < items.length; i++) acc = run(items[i], i, acc)
      return nil(acc)
    }
    default:
      throw new ExprRuntimeError(`unknown function ${name}()`)
  }
}
