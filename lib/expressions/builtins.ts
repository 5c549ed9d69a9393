/**
 * expr-lang's builtin functions that take no predicate (`len`, `lower`, `split`, `string`, `toJSON`, `keys`, `now`,
 * `first`, …), with expr-lang's argument rules. Each throws `ExprRuntimeError` on bad arguments; messages name types,
 * never argument values.
 */
import { goJsonMarshal, goJsonUnmarshal } from './go-json.js'
import { compareCodePoints, parseGoFloat, parseGoInt, utf8Bytes } from './go-strconv.js'
import {
  ExprRuntimeError,
  formatV,
  getOwn,
  isArray,
  isIntLike,
  isMap,
  isNil,
  isSemver,
  isTime,
  readEntry,
  setOwn,
  sortedKeys,
  typeName,
  valuesEqual,
  type Budget,
} from './values.js'

/** What a builtin may use from the running evaluation. */
export interface BuiltinContext {
  budget: Budget
  /** Charges `n` units of memory (array elements, characters); throws when the budget is exceeded. */
  alloc(n: number): void
  now(): Date
}

export type Builtin = (args: unknown[], ctx: BuiltinContext) => unknown

function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`
    throw new ExprRuntimeError(
      `invalid number of arguments for ${name} (expected ${expected}, got ${args.length})`,
    )
  }
}

function str(name: string, v: unknown): string {
  if (typeof v !== 'string') throw new ExprRuntimeError(`invalid argument for ${name} (type ${typeName(v)})`)
  return v
}

function num(name: string, v: unknown): number {
  if (typeof v !== 'number') throw new ExprRuntimeError(`invalid argument for ${name} (type ${typeName(v)})`)
  return v
}

function arr(name: string, v: unknown): unknown[] {
  if (!isArray(v)) throw new ExprRuntimeError(`invalid argument for ${name} (type ${typeName(v)})`)
  return v
}

/** Go's `runtime.ToInt`: numbers truncate toward zero; anything else is an error. */
export function toInt(v: unknown): number {
  if (typeof v !== 'number') throw new ExprRuntimeError(`invalid operation: int(${typeName(v)})`)
  if (!Number.isFinite(v)) return 0
  return Math.trunc(v)
}

/** Go's `unicode.IsSpace`. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u

function trimSet(s: string, isCut: (c: string) => boolean): string {
  const cps = Array.from(s)
  let a = 0
  let b = cps.length
  while (a < b && isCut(cps[a] ?? '')) a++
  while (b > a && isCut(cps[b - 1] ?? '')) b--
  return cps.slice(a, b).join('')
}

/** Go's `strings.SplitN` (`n < 0`: all parts; `n == 0`: nil; `after`: keep the separator, as `SplitAfterN`). */
function goSplit(s: string, sep: string, n: number, after: boolean, ctx: BuiltinContext): unknown[] | null {
  if (n === 0) return null
  let parts: string[]
  if (sep === '') {
    parts = Array.from(s)
    if (n > 0 && parts.length > n) parts = [...parts.slice(0, n - 1), parts.slice(n - 1).join('')]
  } else {
    parts = []
    let rest = s
    while (n < 0 || parts.length < n - 1) {
      ctx.budget.tick()
      const at = rest.indexOf(sep)
      if (at < 0) break
      parts.push(rest.slice(0, at) + (after ? sep : ''))
      rest = rest.slice(at + sep.length)
    }
    parts.push(rest)
  }
  ctx.alloc(parts.length)
  return parts
}

/** Byte offset (Go string index) of a UTF-16 index, or -1. */
function byteIndex(s: string, jsIndex: number): number {
  return jsIndex < 0 ? -1 : utf8Bytes(s.slice(0, jsIndex)).length
}

function firstOrLast(v: unknown, last: boolean): unknown {
  if (isArray(v)) return v.length === 0 ? null : ((last ? v[v.length - 1] : v[0]) ?? null)
  if (typeof v === 'string') {
    const bytes = utf8Bytes(v)
    return bytes.length === 0 ? null : ((last ? bytes[bytes.length - 1] : bytes[0]) ?? null)
  }
  return null
}

function sortValues(values: unknown[], desc: boolean, ctx: BuiltinContext): unknown[] {
  const allNumbers = values.every((x) => typeof x === 'number')
  const allStrings = values.every((x) => typeof x === 'string')
  if (!allNumbers && !allStrings)
    throw new ExprRuntimeError('sort: elements must all be numbers or all be strings')
  ctx.budget.tick(values.length)
  const sorted = [...values].sort((a, b) =>
    allNumbers ? (a as number) - (b as number) : compareCodePoints(a as string, b as string),
  )
  return desc ? sorted.reverse() : sorted
}

function order(name: string, v: unknown): boolean {
  if (v === undefined) return false
  if (v === 'asc') return false
  if (v === 'desc') return true
  throw new ExprRuntimeError(`${name}: order must be "asc" or "desc"`)
}

function minMax(name: string, args: unknown[], pickMax: boolean, ctx: BuiltinContext): unknown {
  if (args.length === 0) throw new ExprRuntimeError(`not enough arguments to call ${name}`)
  const flat: number[] = []
  const visit = (v: unknown, depth: number): void => {
    ctx.budget.tick()
    if (depth > 100) throw new ExprRuntimeError(`${name}: value is nested too deeply`)
    if (isArray(v)) for (const x of v) visit(x, depth + 1)
    else if (typeof v === 'number') flat.push(v)
    else throw new ExprRuntimeError(`invalid argument for ${name} (type ${typeName(v)})`)
  }
  for (const a of args) visit(a, 0)
  if (flat.length === 0) return null
  return flat.reduce((m, x) => (pickMax ? (x > m ? x : m) : x < m ? x : m))
}

const table: Record<string, Builtin> = Object.create(null) as Record<string, Builtin>

table.len = (args) => {
  arity('len', args, 1)
  const v = args[0]
  if (typeof v === 'string') return Array.from(v).length
  if (isArray(v)) return v.length
  if (isMap(v)) return Object.keys(v).length
  throw new ExprRuntimeError(`invalid argument for len (type ${typeName(v)})`)
}
table.type = (args) => {
  arity('type', args, 1)
  const v = args[0]
  if (isNil(v)) return 'nil'
  if (typeof v === 'number') return isIntLike(v) ? 'int' : 'float'
  if (typeof v === 'function') return 'func'
  if (isArray(v)) return 'array'
  if (isTime(v)) return 'time.Time'
  if (isSemver(v)) return 'github.com/Masterminds/semver/v3.Version'
  if (typeof v === 'object') return 'map'
  return typeof v === 'boolean' ? 'bool' : 'string'
}
table.abs = (args) => {
  arity('abs', args, 1)
  return Math.abs(num('abs', args[0]))
}
table.ceil = (args) => {
  arity('ceil', args, 1)
  return Math.ceil(num('ceil', args[0]))
}
table.floor = (args) => {
  arity('floor', args, 1)
  return Math.floor(num('floor', args[0]))
}
table.round = (args) => {
  arity('round', args, 1)
  const x = num('round', args[0])
  // Go's math.Round rounds half away from zero.
  return x < 0 ? -Math.round(-x) : Math.round(x)
}
table.int = (args) => {
  arity('int', args, 1)
  const v = args[0]
  if (typeof v === 'number') return toInt(v)
  if (typeof v === 'string') {
    const n = parseGoInt(v)
    if (n === undefined) throw new ExprRuntimeError('invalid operation: int(string): not an integer')
    return n
  }
  throw new ExprRuntimeError(`invalid operation: int(${typeName(v)})`)
}
table.float = (args) => {
  arity('float', args, 1)
  const v = args[0]
  if (typeof v === 'number') return v
  if (typeof v === 'string') {
    const n = parseGoFloat(v)
    if (n === undefined) throw new ExprRuntimeError('invalid operation: float(string): not a number')
    return n
  }
  throw new ExprRuntimeError(`invalid operation: float(${typeName(v)})`)
}
table.string = (args, ctx) => {
  arity('string', args, 1)
  const s = formatV(args[0], ctx.budget)
  ctx.alloc(s.length)
  return s
}
table.trim = (args) => {
  arity('trim', args, 1, 2)
  const s = str('trim', args[0])
  if (args.length === 1) return trimSet(s, (c) => GO_SPACE.test(c))
  const cut = new Set(Array.from(str('trim', args[1])))
  return trimSet(s, (c) => cut.has(c))
}
table.trimPrefix = (args) => {
  arity('trimPrefix', args, 1, 2)
  const s = str('trimPrefix', args[0])
  const p = args.length === 2 ? str('trimPrefix', args[1]) : ' '
  return s.startsWith(p) ? s.slice(p.length) : s
}
table.trimSuffix = (args) => {
  arity('trimSuffix', args, 1, 2)
  const s = str('trimSuffix', args[0])
  const p = args.length === 2 ? str('trimSuffix', args[1]) : ' '
  return p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s
}
table.upper = (args) => {
  arity('upper', args, 1)
  return str('upper', args[0]).toUpperCase()
}
table.lower = (args) => {
  arity('lower', args, 1)
  return str('lower', args[0]).toLowerCase()
}
table.split = (args, ctx) => {
  arity('split', args, 2, 3)
  const n = args.length === 3 ? toInt(args[2]) : -1
  return goSplit(str('split', args[0]), str('split', args[1]), n, false, ctx)
}
table.splitAfter = (args, ctx) => {
  arity('splitAfter', args, 2, 3)
  const n = args.length === 3 ? toInt(args[2]) : -1
  return goSplit(str('splitAfter', args[0]), str('splitAfter', args[1]), n, true, ctx)
}
table.replace = (args, ctx) => {
  arity('replace', args, 3, 4)
  const s = str('replace', args[0])
  const from = str('replace', args[1])
  const to = str('replace', args[2])
  let n = args.length === 4 ? toInt(args[3]) : -1
  if (n === 0 || from === to) return s
  let out = ''
  let rest = s
  if (from === '') {
    // Go inserts `to` before every code point and once at the end, up to n times.
    const cps = Array.from(s)
    const count = n < 0 || n > cps.length + 1 ? cps.length + 1 : n
    for (let i = 0; i < count; i++) out += to + (cps[i] ?? '')
    out += cps.slice(count).join('')
    ctx.alloc(out.length)
    return out
  }
  while (n !== 0) {
    ctx.budget.tick()
    const at = rest.indexOf(from)
    if (at < 0) break
    out += rest.slice(0, at) + to
    rest = rest.slice(at + from.length)
    n--
    ctx.alloc(at + to.length)
  }
  return out + rest
}
table.repeat = (args, ctx) => {
  arity('repeat', args, 2)
  const s = str('repeat', args[0])
  const n = toInt(args[1])
  if (n < 0) throw new ExprRuntimeError('invalid argument for repeat (expected positive integer)')
  if (n > 1e6) throw new ExprRuntimeError('memory budget exceeded')
  ctx.alloc(s.length * n)
  return s.repeat(n)
}
table.join = (args, ctx) => {
  arity('join', args, 1, 2)
  const items = arr('join', args[0])
  const glue = args.length === 2 ? str('join', args[1]) : ''
  const parts = items.map((x) => {
    if (typeof x !== 'string')
      throw new ExprRuntimeError(`invalid argument for join (element of type ${typeName(x)})`)
    return x
  })
  const out = parts.join(glue)
  ctx.alloc(out.length)
  return out
}
table.indexOf = (args) => {
  arity('indexOf', args, 2)
  const s = str('indexOf', args[0])
  return byteIndex(s, s.indexOf(str('indexOf', args[1])))
}
table.lastIndexOf = (args) => {
  arity('lastIndexOf', args, 2)
  const s = str('lastIndexOf', args[0])
  return byteIndex(s, s.lastIndexOf(str('lastIndexOf', args[1])))
}
table.hasPrefix = (args) => {
  arity('hasPrefix', args, 2)
  return str('hasPrefix', args[0]).startsWith(str('hasPrefix', args[1]))
}
table.hasSuffix = (args) => {
  arity('hasSuffix', args, 2)
  return str('hasSuffix', args[0]).endsWith(str('hasSuffix', args[1]))
}
table.max = (args, ctx) => minMax('max', args, true, ctx)
table.min = (args, ctx) => minMax('min', args, false, ctx)
table.toJSON = (args, ctx) => {
  arity('toJSON', args, 1)
  const s = goJsonMarshal(args[0], { indent: '  ', budget: ctx.budget })
  ctx.alloc(s.length)
  return s
}
table.fromJSON = (args) => {
  arity('fromJSON', args, 1)
  const parsed = goJsonUnmarshal(str('fromJSON', args[0]))
  if (parsed === undefined) throw new ExprRuntimeError('fromJSON: invalid JSON')
  return parsed.value ?? null
}
table.toBase64 = (args) => {
  arity('toBase64', args, 1)
  return Buffer.from(str('toBase64', args[0]), 'utf8').toString('base64')
}
table.fromBase64 = (args) => {
  arity('fromBase64', args, 1)
  const s = str('fromBase64', args[0])
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new ExprRuntimeError('fromBase64: illegal base64 data')
  }
  return Buffer.from(s, 'base64').toString('utf8')
}
table.now = (args, ctx) => {
  arity('now', args, 0)
  const d = ctx.now()
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new ExprRuntimeError('now: the clock returned an invalid time')
  return new Date(d.getTime())
}
table.first = (args) => {
  arity('first', args, 1)
  return firstOrLast(args[0], false)
}
table.last = (args) => {
  arity('last', args, 1)
  return firstOrLast(args[0], true)
}
table.get = (args) => {
  arity('get', args, 2)
  const [v, i] = args
  if (isArray(v)) {
    if (typeof i !== 'number') return null
    let idx = Math.trunc(i)
    if (idx < 0) idx += v.length
    return idx >= 0 && idx < v.length ? (v[idx] ?? null) : null
  }
  if (isMap(v) && typeof i === 'string') return getOwn(v, i) ?? null
  return null
}
table.take = (args, ctx) => {
  arity('take', args, 2)
  const v = arr('take', args[0])
  const n = args[1]
  if (typeof n !== 'number' || !isIntLike(n))
    throw new ExprRuntimeError(`cannot take ${typeName(n)} elements`)
  const out = v.slice(0, Math.max(0, n))
  ctx.alloc(out.length)
  return out
}
table.keys = (args, ctx) => {
  arity('keys', args, 1)
  const v = args[0]
  if (!isMap(v)) throw new ExprRuntimeError(`cannot get keys from ${typeName(v)}`)
  const keys = sortedKeys(v)
  ctx.alloc(keys.length)
  return keys
}
table.values = (args, ctx) => {
  arity('values', args, 1)
  const v = args[0]
  if (!isMap(v)) throw new ExprRuntimeError(`cannot get values from ${typeName(v)}`)
  const keys = sortedKeys(v)
  ctx.alloc(keys.length)
  return keys.map((k) => readEntryChecked(v, k))
}
table.toPairs = (args, ctx) => {
  arity('toPairs', args, 1)
  const v = args[0]
  if (!isMap(v)) throw new ExprRuntimeError(`cannot transform ${typeName(v)} to pairs`)
  const keys = sortedKeys(v)
  ctx.alloc(keys.length * 3)
  return keys.map((k) => [k, readEntryChecked(v, k)])
}
table.fromPairs = (args, ctx) => {
  arity('fromPairs', args, 1)
  const pairs = arr('fromPairs', args[0])
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    ctx.budget.tick()
    if (!isArray(pair) || pair.length !== 2)
      throw new ExprRuntimeError('fromPairs: each pair must be an array of two')
    const [k, val] = pair
    if (typeof k !== 'string')
      throw new ExprRuntimeError(`fromPairs: key of type ${typeName(k)} is not a string`)
    setOwn(out, k, val ?? null)
  }
  ctx.alloc(pairs.length)
  return out
}
table.reverse = (args, ctx) => {
  arity('reverse', args, 1)
  const v = arr('reverse', args[0])
  ctx.alloc(v.length)
  return [...v].reverse()
}
table.uniq = (args, ctx) => {
  arity('uniq', args, 1)
  const v = arr('uniq', args[0])
  const out: unknown[] = []
  const seen = new Set<unknown>()
  for (const x of v) {
    ctx.budget.tick()
    if (x === null || x === undefined || typeof x !== 'object') {
      const key = x ?? null
      if (seen.has(key)) continue
      seen.add(key)
      out.push(x ?? null)
      continue
    }
    ctx.budget.tick(out.length)
    if (out.some((y) => valuesEqual(x, y, ctx.budget))) continue
    out.push(x)
  }
  ctx.alloc(out.length)
  return out
}
table.concat = (args, ctx) => {
  if (args.length === 0)
    throw new ExprRuntimeError('invalid number of arguments for concat (expected at least 1, got 0)')
  const out: unknown[] = []
  for (const a of args) {
    const v = arr('concat', a)
    ctx.alloc(v.length)
    out.push(...v)
  }
  return out
}
table.flatten = (args, ctx) => {
  arity('flatten', args, 1)
  const out: unknown[] = []
  const visit = (v: unknown[], depth: number): void => {
    if (depth > 100) throw new ExprRuntimeError('flatten: value is nested too deeply')
    for (const x of v) {
      ctx.budget.tick()
      if (isArray(x)) visit(x, depth + 1)
      else out.push(x)
    }
  }
  visit(arr('flatten', args[0]), 0)
  ctx.alloc(out.length)
  return out
}
table.sort = (args, ctx) => {
  arity('sort', args, 1, 2)
  const v = arr('sort', args[0])
  ctx.alloc(v.length)
  return sortValues(v, order('sort', args[1]), ctx)
}

function readEntryChecked(map: object, key: string): unknown {
  const v = readEntry(map, key)
  return v === undefined ? null : v
}

/** The builtin table (null-prototype: a name like `constructor` is simply not there). */
export const builtins: Readonly<Record<string, Builtin>> = table

/** The builtin `name`, or `undefined`. */
export function lookupBuiltin(name: string): Builtin | undefined {
  return Object.hasOwn(builtins, name) ? builtins[name] : undefined
}
