import { TerminalError } from '../errors.js'
import { goJsonString } from '../expressions/go-json.js'
import { formatGoFloatF } from './go-format.js'

/*
 * A JSON editor that keeps the file's formatting: tidwall/sjson's `Set` (what Kargo's `json-update` calls), rebuilt on
 * a small position-keeping parser. An existing value is replaced in place, byte for byte around it. A missing key is
 * created the way sjson does: `,"key":value` inserted before the object's closing brace (at the top level, text
 * after that brace is dropped), missing intermediate objects built, arrays padded with `null`, `-1` appends.
 */

/** A parsed JSON value and where it sits in the text (`end` is exclusive). */
export interface JsonNode {
  kind: 'object' | 'array' | 'string' | 'number' | 'literal'
  start: number
  end: number
  entries?: Array<{ key: string; value: JsonNode }>
  items?: JsonNode[]
}

/** One component of an sjson path. */
interface PathPart {
  /** The key, with escapes removed. */
  part: string
  /** `:` prefix: a numeric-looking part is an object key, not an index. */
  force: boolean
}

/** Parses JSON text strictly, keeping positions. Throws a TerminalError naming the offset of the first problem. */
export function parseJsonWithPositions(text: string): JsonNode {
  const p = new JsonParser(text)
  p.ws()
  const node = p.value(0)
  p.ws()
  if (p.i < text.length) p.fail('unexpected data after the top-level value')
  return node
}

/** sjson's `Set(json, path, value)` for a string, number or boolean value. */
export function setJsonValue(text: string, path: string, value: string | number | boolean): string {
  if (path === '') throw new TerminalError('path cannot be empty')
  const parts = parsePath(path)
  const raw =
    typeof value === 'string'
      ? stringify(value)
      : typeof value === 'number'
        ? formatGoFloatF(value)
        : String(value)
  const root = text.trim() === '' ? undefined : parseJsonWithPositions(text)
  return setIn(text, 0, root, parts, raw)
}

/** Splits an sjson path: `.` separates, `\` escapes the next character, `:` before a part forces an object key. */
function parsePath(path: string): PathPart[] {
  const parts: PathPart[] = []
  let rest = path
  for (;;) {
    let force = false
    if (rest.startsWith(':')) {
      force = true
      rest = rest.slice(1)
    }
    let part = ''
    let more = false
    let i = 0
    for (; i < rest.length; i++) {
      const ch = rest[i] ?? ''
      if (ch === '.') {
        more = true
        break
      }
      if ('|#@*?'.includes(ch)) {
        throw new TerminalError(
          `path ${JSON.stringify(path)} uses query syntax (${ch}), which json-update does not support`,
        )
      }
      if (ch === '\\') {
        i++
        if (i < rest.length) part += rest[i]
        continue
      }
      part += ch
    }
    parts.push({ part, force })
    if (!more) return parts
    rest = rest.slice(i + 1)
  }
}

/** sjson's `appendRawPaths`: `jstr` is the text of the current value; `node` its parse (offsets from `base`). */
function setIn(
  jstr: string,
  base: number,
  node: JsonNode | undefined,
  parts: PathPart[],
  raw: string,
): string {
  const [first, ...rest] = parts
  if (!first) return jstr
  const found = node ? child(node, first) : undefined
  if (found) {
    const start = found.start - base
    const end = found.end - base
    const middle = rest.length > 0 ? setIn(jstr.slice(start, end), found.start, found, rest, raw) : raw
    return jstr.slice(0, start) + middle + jstr.slice(end)
  }

  const { n, numeric } = atoui(first)
  // gjson.Parse: an object or array runs from its bracket to the end of the text; anything else is replaced.
  let container = jstr
  let containerNode = node
  const lead = jstr.search(/[^\x00-\x20]/)
  if (lead < 0 || (jstr[lead] !== '{' && jstr[lead] !== '[')) {
    container = numeric ? '[]' : '{}'
    containerNode = { kind: numeric ? 'array' : 'object', start: 0, end: 2, entries: [], items: [] }
  } else {
    container = jstr.slice(lead)
  }
  const afterOpen = container.slice(1).search(/[^\x00-\x20]/)
  const comma = afterOpen >= 0 && container[afterOpen + 1] !== '}' && container[afterOpen + 1] !== ']'

  if (container[0] === '{') {
    const end = container.lastIndexOf('}')
    return (
      container.slice(0, end > 0 ? end : container.length) +
      (comma ? ',' : '') +
      build(false, parts, raw) +
      '}'
    )
  }
  if (!numeric) {
    if (first.part !== '-1' || first.force) {
      throw new TerminalError(`cannot set array element for non-numeric key '${first.part}'`)
    }
    let trimmed = container.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '')
    if (trimmed.endsWith(']')) trimmed = trimmed.slice(0, -1)
    return trimmed + (comma ? ',' : '') + build(true, parts, raw) + ']'
  }
  const offset = containerNode === node ? base : 0
  const source = containerNode === node ? jstr : container
  const items = (containerNode?.items ?? []).map((item) =>
    source.slice(item.start - offset, item.end - offset),
  )
  let out = `[${items.join(',')}`
  if (items.length === 0) out += 'null,'.repeat(n)
  else out += ',null'.repeat(n - items.length) + (comma ? ',' : '')
  return out + build(true, parts, raw) + ']'
}

/** gjson's lookup of one path part: the first object entry with that key, or the array element at that index. */
function child(node: JsonNode, part: PathPart): JsonNode | undefined {
  if (node.kind === 'object') return node.entries?.find((e) => e.key === part.part)?.value
  if (node.kind === 'array' && /^[0-9]+$/.test(part.part)) return node.items?.[Number(part.part)]
  return undefined
}

/** sjson's `atoui`: digits only (the empty part counts, as 0); a forced part is never numeric. */
function atoui(part: PathPart): { n: number; numeric: boolean } {
  if (part.force || !/^[0-9]*$/.test(part.part)) return { n: 0, numeric: false }
  return { n: part.part === '' ? 0 : Number(part.part), numeric: true }
}

/** sjson's `appendBuild`: the JSON for a path that does not exist yet. */
function build(inArray: boolean, parts: PathPart[], raw: string): string {
  const [first, second] = parts
  let out = inArray || !first ? '' : `${stringify(first.part)}:`
  if (second) {
    const { n, numeric } = atoui(second)
    if (numeric || (!second.force && second.part === '-1')) {
      out += `[${'null,'.repeat(n)}${build(true, parts.slice(1), raw)}]`
    } else {
      out += `{${build(false, parts.slice(1), raw)}}`
    }
  } else {
    out += raw
  }
  return out
}

/** sjson's `appendStringify`: plain quotes unless the string needs escaping, then Go's `json.Marshal`. */
function stringify(s: string): string {
  return /[\x00-\x1f"\\\u0080-\uffff]/.test(s) ? goJsonString(s) : `"${s}"`
}

class JsonParser {
  i = 0
  constructor(private readonly text: string) {}

  fail(reason: string): never {
    throw new TerminalError(`invalid JSON at offset ${this.i}: ${reason}`)
  }

  ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i] ?? '')) this.i++
  }

  value(depth: number): JsonNode {
    if (depth > 1000) this.fail('nesting too deep')
    const start = this.i
    const ch = this.text[this.i]
    if (ch === '{') return this.object(start, depth)
    if (ch === '[') return this.array(start, depth)
    if (ch === '"') {
      this.string()
      return { kind: 'string', start, end: this.i }
    }
    const lit = /^(?:true|false|null)/.exec(this.text.slice(this.i, this.i + 5))
    if (lit) {
      this.i += lit[0].length
      return { kind: 'literal', start, end: this.i }
    }
    const num = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
      this.text.slice(this.i, this.i + 400),
    )
    if (num && num[0].length > 0) {
      this.i += num[0].length
      return { kind: 'number', start, end: this.i }
    }
    return this.fail(
      ch === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(ch)}`,
    )
  }

  private object(start: number, depth: number): JsonNode {
    this.i++
    const entries: Array<{ key: string; value: JsonNode }> = []
    this.ws()
    if (this.text[this.i] === '}') {
      this.i++
      return { kind: 'object', start, end: this.i, entries }
    }
    for (;;) {
      this.ws()
      if (this.text[this.i] !== '"') this.fail('expected a string key')
      const key = this.string()
      this.ws()
      if (this.text[this.i] !== ':') this.fail('expected ":"')
      this.i++
      this.ws()
      entries.push({ key, value: this.value(depth + 1) })
      this.ws()
      const next = this.text[this.i]
      this.i++
      if (next === '}') return { kind: 'object', start, end: this.i, entries }
      if (next !== ',') {
        this.i--
        this.fail('expected "," or "}"')
      }
    }
  }

  private array(start: number, depth: number): JsonNode {
    this.i++
    const items: JsonNode[] = []
    this.ws()
    if (this.text[this.i] === ']') {
      this.i++
      return { kind: 'array', start, end: this.i, items }
    }
    for (;;) {
      this.ws()
      items.push(this.value(depth + 1))
      this.ws()
      const next = this.text[this.i]
      this.i++
      if (next === ']') return { kind: 'array', start, end: this.i, items }
      if (next !== ',') {
        this.i--
        this.fail('expected "," or "]"')
      }
    }
  }

  /** Reads a string token and returns its decoded value. */
  private string(): string {
    const start = this.i
    this.i++
    for (;;) {
      const ch = this.text[this.i]
      if (ch === undefined) this.fail('unterminated string')
      if (ch === '"') break
      if (ch === '\\') {
        const esc = this.text[this.i + 1] ?? ''
        if ('"\\/bfnrt'.includes(esc) && esc !== '') this.i += 2
        else if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) this.i += 6
        else this.fail('invalid escape in string')
        continue
      }
      if (ch < ' ') this.fail('control character in string')
      this.i++
    }
    this.i++
    return JSON.parse(this.text.slice(start, this.i)) as string
  }
}
