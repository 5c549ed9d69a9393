import { TerminalError } from '../errors.js'
import { formatGoFloatF } from './go-format.js'
import { splitKey } from './key-path.js'

/*
 * A small TOML 1.0 reader that keeps positions, for `toml-update` (Kargo's `pkg/toml`: replace the bytes of scalar
 * values, everything else untouched) and `toml-parse` (go-toml's `Unmarshal` into `any`).
 */

export type TomlScalarKind =
  'String' | 'Bool' | 'Float' | 'Integer' | 'LocalDate' | 'LocalTime' | 'LocalDateTime' | 'DateTime'

/** A value in the text; `start`/`end` (exclusive) cover the whole token, quotes included. */
export type TomlValueNode =
  | { kind: TomlScalarKind; start: number; end: number; value: string | number | boolean }
  | { kind: 'Array'; start: number; end: number; items: TomlValueNode[] }
  | {
      kind: 'InlineTable'
      start: number
      end: number
      entries: Array<{ keys: string[]; value: TomlValueNode }>
    }

/** One top-level expression: a `[table]` or `[[array.table]]` header, or a `key = value` line. */
export type TomlExpression =
  | { kind: 'Table' | 'ArrayTable'; keys: string[]; line: number }
  | { kind: 'KeyValue'; keys: string[]; value: TomlValueNode; line: number }

/** A syntax or structure error; the message names the line. */
export class TomlError extends TerminalError {}

const BARE_KEY = /[A-Za-z0-9_-]/
const DATE = /^\d{4}-\d{2}-\d{2}$/
const TIME = /^\d{2}:\d{2}:\d{2}(?:\.\d+)?$/
const DATETIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)((?:[Zz])|(?:[+-]\d{2}:\d{2}))?$/
const DEC_INT = /^[+-]?(?:0|[1-9](?:_?\d)*)$/
const HEX_INT = /^0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*$/
const OCT_INT = /^0o[0-7](?:_?[0-7])*$/
const BIN_INT = /^0b[01](?:_?[01])*$/
const FLOAT = /^[+-]?(?:0|[1-9](?:_?\d)*)(?:(?:\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|[eE][+-]?\d(?:_?\d)*)$/
const SPECIAL_FLOAT = /^[+-]?(?:inf|nan)$/

/** Parses TOML text into its expressions (syntax only, like go-toml's `unstable.Parser`). */
export function parseTomlExpressions(text: string): TomlExpression[] {
  return new TomlParser(text).document()
}

// ---- toml-update ----

/** One change: a dotted key (Kargo's key syntax) and a string, number or boolean. */
export interface TomlUpdate {
  key: string
  value: unknown
}

/**
 * Kargo's `toml.SetValuesInBytes`: each key must address an existing scalar (a table, array or inline table is an
 * error); its token is replaced by the new value in TOML syntax; comments, spacing and everything else stay.
 */
export function setTomlValues(text: string, updates: readonly TomlUpdate[]): string {
  let index: TomlIndex
  try {
    index = indexToml(parseTomlExpressions(text))
  } catch (error) {
    throw new TerminalError(`error parsing input: ${(error as Error).message}`, { cause: error })
  }
  const changes = new Map<string, { start: number; end: number; replacement: string }>()
  for (const update of updates) {
    let parts: string[]
    try {
      parts = splitKey(update.key)
    } catch (error) {
      throw new TerminalError(`error splitting key ${update.key}: ${(error as Error).message}`)
    }
    const encoded = encodePath(parts)
    const scalar = index.scalars.get(encoded)
    if (!scalar) {
      const other = index.nodes.get(encoded)
      if (other) {
        throw new TerminalError(
          `error finding key ${update.key}: key path addresses ${other} instead of a scalar node`,
        )
      }
      throw new TerminalError(`error finding key ${update.key}: key path not found`)
    }
    let replacement: string
    try {
      replacement = formatTomlValue(update.value)
    } catch (error) {
      throw new TerminalError(`error formatting value for key ${update.key}: ${(error as Error).message}`)
    }
    changes.set(encoded, { start: scalar.start, end: scalar.end, replacement })
  }
  let out = text
  for (const change of [...changes.values()].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, change.start) + change.replacement + out.slice(change.end)
  }
  return out
}

/**
 * A value as go-toml v2 marshals it (what Kargo writes): strings as literal strings (`'v'`) unless they hold `'`, a
 * newline or a control character (then a basic string with escapes); numbers as float64 (`100` becomes `100.0`,
 * `1.5` stays); booleans as `true`/`false`. Anything else throws.
 */
export function formatTomlValue(value: unknown): string {
  if (typeof value === 'string') return tomlString(value)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan'
    if (value === Infinity) return 'inf'
    if (value === -Infinity) return '-inf'
    if (Number.isInteger(value)) {
      return `${Object.is(value, -0) ? '-0' : BigInt(value).toString()}.0`
    }
    return formatGoFloatF(value)
  }
  throw new Error('value is not a TOML scalar type')
}

/** Kargo's toml-update commit message: `Updated <path>`, a blank line, `- key: value` in TOML syntax. */
export function tomlUpdateCommitMessage(path: string, updates: readonly TomlUpdate[]): string {
  if (updates.length === 0) return ''
  const lines = updates.map((u) => {
    let formatted: string
    try {
      formatted = formatTomlValue(u.value)
    } catch {
      formatted = String(u.value)
    }
    return `\n- ${u.key}: ${formatted}`
  })
  return `Updated ${path}\n${lines.join('')}`
}

function tomlString(s: string): string {
  // go-toml: a literal string unless the text has `'`, CR, LF or a control character other than tab.
  if (!/['\r\n\x00-\x08\x0b-\x1f\x7f]/.test(s)) return `'${s}'`
  let out = '"'
  for (const ch of s) {
    const c = ch.charCodeAt(0)
    if (ch === '\\') out += '\\\\'
    else if (ch === '"') out += '\\"'
    else if (c === 0x08) out += '\\b'
    else if (c === 0x0c) out += '\\f'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else if (c < 0x20 || c === 0x7f) out += `\\u00${c.toString(16).toUpperCase().padStart(2, '0')}`
    else out += ch
  }
  return `${out}"`
}

interface TomlIndex {
  /** Every addressable node's kind, by encoded path. */
  nodes: Map<string, string>
  /** Scalars' token ranges, by encoded path. */
  scalars: Map<string, { start: number; end: number }>
}

/**
 * Kargo's `indexNodes`: tables and array tables set the current path (the n-th `[[a]]` is `a.n`), key/values and the
 * contents of arrays (`a.0`) and inline tables (`a.b`) are indexed beneath it.
 */
function indexToml(expressions: TomlExpression[]): TomlIndex {
  const index: TomlIndex = { nodes: new Map(), scalars: new Map() }
  const arrayTableCounts = new Map<string, number>()
  let current: string[] = []
  const visit = (node: TomlValueNode, path: string[]): void => {
    index.nodes.set(encodePath(path), node.kind)
    if (node.kind === 'Array') node.items.forEach((item, i) => visit(item, [...path, String(i)]))
    else if (node.kind === 'InlineTable') node.entries.forEach((e) => visit(e.value, [...path, ...e.keys]))
    else index.scalars.set(encodePath(path), { start: node.start, end: node.end })
  }
  for (const expr of expressions) {
    if (expr.kind === 'Table') {
      current = expr.keys
      index.nodes.set(encodePath(current), 'Table')
    } else if (expr.kind === 'ArrayTable') {
      const key = encodePath(expr.keys)
      index.nodes.set(key, 'ArrayTable')
      const n = arrayTableCounts.get(key) ?? 0
      arrayTableCounts.set(key, n + 1)
      current = [...expr.keys, String(n)]
      index.nodes.set(encodePath(current), 'ArrayTable')
    } else if (expr.kind === 'KeyValue') {
      visit(expr.value, [...current, ...expr.keys])
    }
  }
  return index
}

function encodePath(parts: readonly string[]): string {
  return parts.map((p) => `${p.length}:${p}|`).join('')
}

// ---- toml-parse ----

interface TableMeta {
  /** Defined by a `[header]` of its own. */
  explicit: boolean
  /** Created by dotted keys (`a.b = 1`). */
  dotted: boolean
  /** An inline table: closed to additions. */
  inline: boolean
}

/**
 * Parses TOML into plain data the way go-toml's `Unmarshal` into `any` sees it: tables are objects, arrays of tables
 * are arrays, integers and floats are numbers, and dates and times are strings in RFC 3339 form (`1979-05-27T07:32:00Z`,
 * `1979-05-27`, `07:32:00`). Duplicate keys and redefined tables are errors.
 */
export function parseToml(text: string): Record<string, unknown> {
  const expressions = parseTomlExpressions(text)
  const meta = new WeakMap<object, TableMeta>()
  const staticArrays = new WeakSet<object>()
  const arrayTables = new WeakSet<object>()
  const newTable = (m: Partial<TableMeta> = {}): Record<string, unknown> => {
    const t: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    meta.set(t, { explicit: false, dotted: false, inline: false, ...m })
    return t
  }
  const root = newTable({ explicit: true })
  let current = root

  const isTable = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && meta.has(v)
  const fail = (line: number, reason: string): never => {
    throw new TomlError(`toml: line ${line}: ${reason}`)
  }

  /** Walks a header's parent keys from the root, creating implicit tables; the last element of an array table is used. */
  const descend = (keys: string[], line: number) => {
    let table = root
    for (const key of keys) {
      const existing = own(table, key)
      if (existing === undefined) {
        const created = newTable()
        table[key] = created
        table = created
        continue
      }
      if (Array.isArray(existing) && arrayTables.has(existing)) {
        const last: unknown = existing[existing.length - 1]
        if (!isTable(last)) return fail(line, `key ${JSON.stringify(key)} is not a table`)
        table = last
        continue
      }
      if (!isTable(existing)) return fail(line, `key ${JSON.stringify(key)} is already defined as a value`)
      if (meta.get(existing)?.inline) return fail(line, `cannot extend inline table ${JSON.stringify(key)}`)
      table = existing
    }
    return table
  }

  /** Where a `[table]` or `[[array.table]]` header lands: its parent table, its last key, and what is there now. */
  const headerSlot = (expr: { keys: string[]; line: number }) => {
    const parent = descend(expr.keys.slice(0, -1), expr.line)
    const last = expr.keys[expr.keys.length - 1] ?? ''
    return { parent, last, existing: own(parent, last) }
  }

  const toData = (node: TomlValueNode, line: number): unknown => {
    if (node.kind === 'Array') {
      const arr = node.items.map((item) => toData(item, line))
      staticArrays.add(arr)
      return arr
    }
    if (node.kind === 'InlineTable') {
      const t = newTable({ inline: true })
      for (const entry of node.entries) assign(t, entry.keys, toData(entry.value, line), line, true)
      return t
    }
    return node.value
  }

  const assign = (
    table: Record<string, unknown>,
    keys: string[],
    value: unknown,
    line: number,
    inInline = false,
  ) => {
    const parents = keys.slice(0, -1)
    const last = keys[keys.length - 1] ?? ''
    let target = table
    for (const key of parents) {
      const existing = own(target, key)
      if (existing === undefined) {
        const created = newTable({ dotted: true })
        target[key] = created
        target = created
      } else if (
        isTable(existing) &&
        !meta.get(existing)?.inline &&
        (inInline || !meta.get(existing)?.explicit)
      ) {
        target = existing
      } else {
        return fail(
          line,
          `cannot define key ${JSON.stringify(keys.join('.'))}: ${JSON.stringify(key)} is already defined`,
        )
      }
    }
    if (Object.prototype.hasOwnProperty.call(target, last)) {
      return fail(line, `key ${JSON.stringify(keys.join('.'))} is already defined`)
    }
    target[last] = value
    return undefined
  }

  for (const expr of expressions) {
    if (expr.kind === 'Table') {
      const { parent, last, existing } = headerSlot(expr)
      if (existing === undefined) {
        const t = newTable({ explicit: true })
        parent[last] = t
        current = t
      } else if (
        isTable(existing) &&
        !meta.get(existing)?.explicit &&
        !meta.get(existing)?.dotted &&
        !meta.get(existing)?.inline
      ) {
        const m = meta.get(existing)
        if (m) m.explicit = true
        current = existing
      } else {
        fail(expr.line, `table ${JSON.stringify(expr.keys.join('.'))} is already defined`)
      }
    } else if (expr.kind === 'ArrayTable') {
      const { parent, last, existing } = headerSlot(expr)
      const t = newTable({ explicit: true })
      if (existing === undefined) {
        const arr = [t]
        arrayTables.add(arr)
        parent[last] = arr
      } else if (Array.isArray(existing) && arrayTables.has(existing)) {
        existing.push(t)
      } else {
        fail(
          expr.line,
          `key ${JSON.stringify(expr.keys.join('.'))} is already defined and is not an array of tables`,
        )
      }
      current = t
    } else if (expr.kind === 'KeyValue') {
      assign(current, expr.keys, toData(expr.value, expr.line), expr.line)
    }
  }
  return plain(root) as Record<string, unknown>
}

/** `table[key]` if the table has it as its own key (never an inherited one), else undefined. */
function own(table: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined
}

/** Copies into ordinary objects (the parser uses prototype-less ones so `__proto__` is just a key). */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: plain(v), enumerable: true, writable: true, configurable: true })
    return out
  }
  return value
}

// ---- the parser ----

class TomlParser {
  private i = 0
  private line = 1

  constructor(private readonly text: string) {}

  document(): TomlExpression[] {
    const out: TomlExpression[] = []
    for (;;) {
      this.ws()
      if (this.eof()) return out
      const ch = this.peek()
      if (ch === '#') {
        this.comment()
      } else if (ch === '\n' || ch === '\r') {
        this.newline()
        continue
      } else if (ch === '[') {
        const array = this.text.startsWith('[[', this.i)
        this.i += array ? 2 : 1
        this.ws()
        const keys = this.key()
        this.ws()
        if (!this.text.startsWith(array ? ']]' : ']', this.i)) this.fail(`expected ${array ? "']]'" : "']'"}`)
        this.i += array ? 2 : 1
        out.push({ kind: array ? 'ArrayTable' : 'Table', keys, line: this.line })
      } else {
        const line = this.line
        const keys = this.key()
        this.ws()
        if (this.peek() !== '=') this.fail("expected '=' after a key")
        this.i++
        this.ws()
        const value = this.value()
        out.push({ kind: 'KeyValue', keys, value, line })
      }
      this.ws()
      if (this.peek() === '#') this.comment()
      if (this.eof()) return out
      if (this.peek() !== '\n' && this.peek() !== '\r') this.fail('expected a newline after the expression')
      this.newline()
    }
  }

  private fail(reason: string): never {
    throw new TomlError(`toml: line ${this.line}: ${reason}`)
  }

  private eof(): boolean {
    return this.i >= this.text.length
  }

  private peek(offset = 0): string {
    return this.text[this.i + offset] ?? ''
  }

  private ws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++
  }

  private newline(): void {
    if (this.peek() === '\r') {
      if (this.peek(1) !== '\n') this.fail('a carriage return must be followed by a newline')
      this.i++
    }
    this.i++
    this.line++
  }

  private comment(): void {
    while (!this.eof() && this.peek() !== '\n') {
      const c = this.text.charCodeAt(this.i)
      if (c === 0x0d && this.peek(1) === '\n') break
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.fail('control character in a comment')
      this.i++
    }
  }

  /** Whitespace, newlines and comments (inside arrays). */
  private gap(): void {
    for (;;) {
      this.ws()
      if (this.peek() === '#') this.comment()
      if (this.peek() === '\n' || this.peek() === '\r') this.newline()
      else return
    }
  }

  private key(): string[] {
    const keys = [this.simpleKey()]
    for (;;) {
      const save = this.i
      this.ws()
      if (this.peek() !== '.') {
        this.i = save
        return keys
      }
      this.i++
      this.ws()
      keys.push(this.simpleKey())
    }
  }

  private simpleKey(): string {
    const ch = this.peek()
    if (ch === '"') {
      if (this.text.startsWith('"""', this.i)) this.fail('a key cannot be a multi-line string')
      return this.basicString().value
    }
    if (ch === "'") {
      if (this.text.startsWith("'''", this.i)) this.fail('a key cannot be a multi-line string')
      return this.literalString().value
    }
    const start = this.i
    while (BARE_KEY.test(this.peek())) this.i++
    if (this.i === start)
      this.fail(
        ch === ''
          ? 'expected a key, found the end of the file'
          : `invalid character ${JSON.stringify(ch)} in a key`,
      )
    return this.text.slice(start, this.i)
  }

  private value(): TomlValueNode {
    const start = this.i
    const ch = this.peek()
    if (ch === '"') {
      const s = this.text.startsWith('"""', this.i) ? this.multilineString('"') : this.basicString()
      return { kind: 'String', start, end: this.i, value: s.value }
    }
    if (ch === "'") {
      const s = this.text.startsWith("'''", this.i) ? this.multilineString("'") : this.literalString()
      return { kind: 'String', start, end: this.i, value: s.value }
    }
    if (ch === '[') return this.array()
    if (ch === '{') return this.inlineTable()
    if (this.text.startsWith('true', this.i) && !BARE_KEY.test(this.peek(4))) {
      this.i += 4
      return { kind: 'Bool', start, end: this.i, value: true }
    }
    if (this.text.startsWith('false', this.i) && !BARE_KEY.test(this.peek(5))) {
      this.i += 5
      return { kind: 'Bool', start, end: this.i, value: false }
    }
    return this.atom()
  }

  /** Numbers, dates and times. */
  private atom(): TomlValueNode {
    const start = this.i
    while (/[0-9A-Za-z_+\-.:]/.test(this.peek())) this.i++
    let token = this.text.slice(start, this.i)
    // A date may be followed by a space and a time.
    if (DATE.test(token) && this.peek() === ' ' && /^\d{2}:/.test(this.text.slice(this.i + 1, this.i + 4))) {
      this.i++
      while (/[0-9A-Za-z_+\-.:]/.test(this.peek())) this.i++
      token = this.text.slice(start, this.i)
    }
    const end = this.i
    if (token === '')
      this.fail(
        this.eof()
          ? 'expected a value, found the end of the file'
          : `invalid value starting with ${JSON.stringify(this.peek())}`,
      )
    const dt = DATETIME.exec(token)
    if (dt) {
      const [, date = '', time = '', offset] = dt
      if (!validDate(date) || !validTime(time)) this.fail(`invalid date-time ${token}`)
      const normalized = `${date}T${trimFraction(time)}${offset ? offset.toUpperCase() : ''}`
      if (offset) {
        if (!validOffset(offset)) this.fail(`invalid date-time ${token}`)
        return { kind: 'DateTime', start, end, value: normalized }
      }
      return { kind: 'LocalDateTime', start, end, value: normalized }
    }
    if (DATE.test(token)) {
      if (!validDate(token)) this.fail(`invalid date ${token}`)
      return { kind: 'LocalDate', start, end, value: token }
    }
    if (TIME.test(token)) {
      if (!validTime(token)) this.fail(`invalid time ${token}`)
      return { kind: 'LocalTime', start, end, value: trimFraction(token) }
    }
    if (DEC_INT.test(token)) return { kind: 'Integer', start, end, value: Number(token.replace(/_/g, '')) }
    if (HEX_INT.test(token) || OCT_INT.test(token) || BIN_INT.test(token)) {
      return { kind: 'Integer', start, end, value: Number(BigInt(token.replace(/_/g, ''))) }
    }
    if (FLOAT.test(token)) return { kind: 'Float', start, end, value: Number(token.replace(/_/g, '')) }
    if (SPECIAL_FLOAT.test(token)) {
      const neg = token.startsWith('-')
      return { kind: 'Float', start, end, value: token.endsWith('nan') ? NaN : neg ? -Infinity : Infinity }
    }
    return this.fail(`invalid value ${JSON.stringify(token)}`)
  }

  private array(): TomlValueNode {
    const start = this.i
    this.i++
    const items: TomlValueNode[] = []
    for (;;) {
      this.gap()
      if (this.peek() === ']') break
      items.push(this.value())
      this.gap()
      if (this.peek() === ',') {
        this.i++
        continue
      }
      if (this.peek() !== ']') this.fail("expected ',' or ']' in an array")
      break
    }
    this.i++
    return { kind: 'Array', start, end: this.i, items }
  }

  private inlineTable(): TomlValueNode {
    const start = this.i
    this.i++
    const entries: Array<{ keys: string[]; value: TomlValueNode }> = []
    this.ws()
    if (this.peek() === '}') {
      this.i++
      return { kind: 'InlineTable', start, end: this.i, entries }
    }
    for (;;) {
      this.ws()
      const keys = this.key()
      this.ws()
      if (this.peek() !== '=') this.fail("expected '=' in an inline table")
      this.i++
      this.ws()
      entries.push({ keys, value: this.value() })
      this.ws()
      if (this.peek() === ',') {
        this.i++
        continue
      }
      if (this.peek() !== '}') this.fail("expected ',' or '}' in an inline table")
      this.i++
      return { kind: 'InlineTable', start, end: this.i, entries }
    }
  }

  private basicString(): { value: string } {
    this.i++
    let value = ''
    for (;;) {
      const ch = this.peek()
      if (ch === '' || ch === '\n' || ch === '\r') this.fail('unterminated string')
      if (ch === '"') {
        this.i++
        return { value }
      }
      if (ch === '\\') {
        value += this.escape()
        continue
      }
      this.checkControl(ch)
      value += ch
      this.i++
    }
  }

  /** A multi-line basic (`"""`) or literal (`'''`) string; only a basic one has escapes and line-ending backslashes. */
  private multilineString(quote: '"' | "'"): { value: string } {
    const basic = quote === '"'
    const delimiter = quote.repeat(3)
    this.i += 3
    this.skipFirstNewline()
    let value = ''
    for (;;) {
      if (this.eof())
        this.fail(basic ? 'unterminated multi-line string' : 'unterminated multi-line literal string')
      if (this.text.startsWith(delimiter, this.i)) {
        // Up to two quotes right before the closing delimiter belong to the string.
        let extra = 0
        while (extra < 2 && this.peek(3 + extra) === quote) extra++
        value += quote.repeat(extra)
        this.i += 3 + extra
        return { value }
      }
      const ch = this.peek()
      if (basic && ch === '\\') {
        // A line-ending backslash trims the newline and the whitespace that follows.
        const rest = /^\\[ \t]*\r?\n/.exec(this.text.slice(this.i, this.i + 200))
        if (rest) {
          this.i += rest[0].length
          this.line++
          for (;;) {
            const c = this.peek()
            if (c === ' ' || c === '\t') this.i++
            else if (c === '\n' || (c === '\r' && this.peek(1) === '\n')) this.newline()
            else break
          }
          continue
        }
        value += this.escape()
        continue
      }
      if (ch === '\n' || ch === '\r') {
        const crlf = ch === '\r'
        this.newline()
        value += crlf ? '\r\n' : '\n'
        continue
      }
      this.checkControl(ch)
      value += ch
      this.i++
    }
  }

  private literalString(): { value: string } {
    const start = ++this.i
    for (;;) {
      const ch = this.peek()
      if (ch === '' || ch === '\n' || ch === '\r') this.fail('unterminated literal string')
      if (ch === "'") {
        const value = this.text.slice(start, this.i)
        this.i++
        return { value }
      }
      this.checkControl(ch)
      this.i++
    }
  }

  private skipFirstNewline(): void {
    if (this.peek() === '\n' || (this.peek() === '\r' && this.peek(1) === '\n')) this.newline()
  }

  private checkControl(ch: string): void {
    const c = ch.charCodeAt(0)
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.fail('control character in a string')
  }

  private escape(): string {
    const esc = this.peek(1)
    const simple: Record<string, string> = {
      b: '\b',
      t: '\t',
      n: '\n',
      f: '\f',
      r: '\r',
      '"': '"',
      '\\': '\\',
    }
    const mapped = simple[esc]
    if (mapped !== undefined) {
      this.i += 2
      return mapped
    }
    if (esc === 'u' || esc === 'U') {
      const width = esc === 'u' ? 4 : 8
      const hex = this.text.slice(this.i + 2, this.i + 2 + width)
      if (!new RegExp(`^[0-9A-Fa-f]{${width}}$`).test(hex)) this.fail('invalid unicode escape')
      const cp = parseInt(hex, 16)
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('invalid unicode scalar value in escape')
      this.i += 2 + width
      return String.fromCodePoint(cp)
    }
    return this.fail(`invalid escape sequence \\${esc}`)
  }
}

function validDate(date: string): boolean {
  const [y = 0, m = 0, d = 0] = date.split('-').map(Number)
  if (m < 1 || m > 12 || d < 1) return false
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ]
  return d <= (days[m - 1] ?? 0)
}

function validTime(time: string): boolean {
  const [h = 0, m = 0, s = 0] = time.slice(0, 8).split(':').map(Number)
  return h <= 23 && m <= 59 && s <= 60
}

function validOffset(offset: string): boolean {
  if (offset === 'Z' || offset === 'z') return true
  const [h = 0, m = 0] = offset.slice(1).split(':').map(Number)
  return h <= 23 && m <= 59
}

/** Go's RFC 3339 printing drops trailing zeros of a fraction (and a fraction of zeros entirely). */
function trimFraction(time: string): string {
  if (!time.includes('.')) return time
  const trimmed = time.replace(/0+$/, '')
  return trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed
}
