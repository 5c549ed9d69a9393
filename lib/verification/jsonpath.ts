/**
 * The subset of Kubernetes JSONPath (the syntax of a web metric's `jsonPath`, e.g. `{$.data.ok}`) that Tugboat
 * evaluates. One `{…}` expression holding, after an optional `$` root:
 *
 * - `.name` — a member of an object (names may contain `-`, `/`, `:` …; not spaces, dots or brackets)
 * - `['name']` / `["name"]` — a member whose name needs quoting (`['app.kubernetes.io/name']`)
 * - `[n]` — an array element; negative counts from the end (`[-1]` is the last)
 * - `[*]` — every element of an array
 *
 * `{$}` (also the default when `jsonPath` is empty) is the whole document. Recursive descent (`..`), filters
 * (`[?(…)]`), slices (`[0:2]`), unions (`[0,1]`), `range`/`end`, several `{…}` blocks and literal text around
 * them are refused when the run starts. Matching follows client-go: a missing member is an error
 * (`x is not found`), an index past the end is an error, and `[*]` over an empty array matches nothing.
 */
import { ValidationError } from '../errors.js'

type Segment = { kind: 'member'; name: string } | { kind: 'index'; index: number } | { kind: 'wildcard' }

/** A compiled path: `find` returns every match in document order (throws `JsonPathError` when a step fails). */
export interface JsonPath {
  readonly source: string
  find(document: unknown): unknown[]
}

/** A path that does not match the document (a missing member, an index out of bounds, a non-array). */
export class JsonPathError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JsonPathError'
  }
}

const NAME = /^[^\s.,{}[\]|'"()?@*$]+/

function unsupported(source: string, what: string): never {
  throw new ValidationError(
    `jsonPath ${JSON.stringify(source)}: ${what}; Tugboat supports {$.a.b}, {$.a[0]}, {$.a[-1]}, {$.a[*].b} and {$['a.b']}`,
    { path: 'jsonPath' },
  )
}

/** Parses a Kubernetes JSONPath template of the supported subset; throws a `ValidationError` otherwise. */
export function compileJsonPath(template: string): JsonPath {
  const source = template === '' ? '{$}' : template
  const trimmed = source.trim()
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
    unsupported(source, 'the expression must be wrapped in braces')
  }
  let rest = trimmed.slice(1, -1).trim()
  if (rest.includes('{') || rest.includes('}')) unsupported(source, 'only one {…} expression is supported')
  if (/^(range|end)\b/.test(rest)) unsupported(source, 'range/end is not supported')
  if (rest.startsWith('$')) rest = rest.slice(1)
  const segments: Segment[] = []
  while (rest !== '') {
    if (rest.startsWith('..')) unsupported(source, 'recursive descent (..) is not supported')
    if (rest.startsWith('.')) {
      rest = rest.slice(1)
      if (rest === '') break // `{.}` and `{$.}` are the root, as in client-go
      if (rest.startsWith('*')) unsupported(source, '.* is not supported (use [*] on arrays)')
      const name = NAME.exec(rest)?.[0]
      if (name === undefined) unsupported(source, `unexpected ${JSON.stringify(rest[0])}`)
      segments.push({ kind: 'member', name: name ?? '' })
      rest = rest.slice((name ?? '').length)
      continue
    }
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']')
      if (close < 0) unsupported(source, 'unclosed [')
      const inner = rest.slice(1, close).trim()
      rest = rest.slice(close + 1)
      const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner)
      if (quoted) segments.push({ kind: 'member', name: quoted[1] ?? quoted[2] ?? '' })
      else if (inner === '*') segments.push({ kind: 'wildcard' })
      else if (/^-?[0-9]+$/.test(inner)) segments.push({ kind: 'index', index: Number(inner) })
      else if (inner.startsWith('?')) unsupported(source, 'filters ([?(…)]) are not supported')
      else if (inner.includes(':')) unsupported(source, 'slices ([a:b]) are not supported')
      else if (inner.includes(',')) unsupported(source, 'unions ([a,b]) are not supported')
      else unsupported(source, `unsupported subscript [${inner}]`)
      continue
    }
    unsupported(source, `unexpected ${JSON.stringify(rest[0])}`)
  }
  return { source, find: (document) => walk(segments, document) }
}

function ownMember(value: unknown, name: string): { found: boolean; value?: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { found: false }
  const desc = Object.getOwnPropertyDescriptor(value, name)
  return desc !== undefined && 'value' in desc ? { found: true, value: desc.value } : { found: false }
}

function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '<nil>'
  if (Array.isArray(value)) return '[]interface {}'
  switch (typeof value) {
    case 'string':
      return 'string'
    case 'number':
      return 'float64'
    case 'boolean':
      return 'bool'
    default:
      return 'map[string]interface {}'
  }
}

function walk(segments: readonly Segment[], document: unknown): unknown[] {
  let current: unknown[] = [document]
  for (const segment of segments) {
    const next: unknown[] = []
    for (const value of current) {
      switch (segment.kind) {
        case 'member': {
          const member = ownMember(value, segment.name)
          if (member.found) next.push(member.value)
          break
        }
        case 'index': {
          if (value === null || value === undefined) break // client-go skips nil values
          if (!Array.isArray(value)) throw new JsonPathError(`${goTypeName(value)} is not array or slice`)
          const index = segment.index < 0 ? segment.index + value.length : segment.index
          if (index < 0 || index >= value.length) {
            throw new JsonPathError(`array index out of bounds: index ${index}, length ${value.length}`)
          }
          next.push(value[index])
          break
        }
        case 'wildcard': {
          if (value === null || value === undefined) break
          if (!Array.isArray(value)) throw new JsonPathError(`${goTypeName(value)} is not array or slice`)
          next.push(...value)
          break
        }
      }
    }
    if (segment.kind === 'member' && next.length === 0 && current.length > 0) {
      throw new JsonPathError(`${segment.name} is not found`)
    }
    current = next
  }
  return current
}
