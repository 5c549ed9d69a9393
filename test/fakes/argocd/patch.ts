/** RFC 7386 JSON merge patch and RFC 6902 JSON patch, as Argo CD's PATCH applies them to the whole app JSON. */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
type JsonObject = { [key: string]: JsonValue }

export class PatchError extends Error {}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** RFC 7386: objects merge key by key, `null` deletes, everything else (arrays included) replaces. */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return structuredClone(patch)
  const result: JsonObject = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`)
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function parentOf(doc: JsonValue, tokens: string[], pointer: string): { parent: JsonValue; key: string } {
  let node: JsonValue = doc
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] as JsonValue
    else if (isObject(node)) node = node[token] as JsonValue
    else node = undefined as unknown as JsonValue
    if (node === undefined) throw new PatchError(`path "${pointer}" does not exist`)
  }
  return { parent: node, key: tokens[tokens.length - 1] ?? '' }
}

function getAt(doc: JsonValue, pointer: string): JsonValue {
  let node: JsonValue | undefined = doc
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)]
    else if (isObject(node)) node = node[token]
    else node = undefined
    if (node === undefined) throw new PatchError(`path "${pointer}" does not exist`)
  }
  return node
}

function remove(doc: JsonValue, pointer: string): JsonValue {
  const { parent, key } = parentOf(doc, parsePointer(pointer), pointer)
  if (Array.isArray(parent)) {
    const index = Number(key)
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) {
      throw new PatchError(`path "${pointer}" does not exist`)
    }
    return parent.splice(index, 1)[0]!
  }
  if (isObject(parent) && key in parent) {
    const old = parent[key]!
    delete parent[key]
    return old
  }
  throw new PatchError(`path "${pointer}" does not exist`)
}

function add(doc: JsonValue, pointer: string, value: JsonValue, replace: boolean): JsonValue {
  const tokens = parsePointer(pointer)
  if (tokens.length === 0) return structuredClone(value)
  const { parent, key } = parentOf(doc, tokens, pointer)
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key)
    if (
      !Number.isInteger(index) ||
      index < 0 ||
      index > parent.length ||
      (replace && index >= parent.length)
    ) {
      throw new PatchError(`path "${pointer}" is out of range`)
    }
    parent.splice(index, replace ? 1 : 0, structuredClone(value))
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw new PatchError(`path "${pointer}" does not exist`)
    parent[key] = structuredClone(value)
  } else {
    throw new PatchError(`path "${pointer}" does not exist`)
  }
  return doc
}

function deepEqual(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (!isObject(value)) return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k]!)]),
  )
}

export interface JsonPatchOp {
  op: string
  path: string
  value?: JsonValue
  from?: string
}

/** RFC 6902 on a copy of `doc`; throws PatchError (Argo CD: HTTP 500 "error applying patch") on failure. */
export function applyJsonPatch(doc: JsonValue, ops: JsonPatchOp[]): JsonValue {
  let out = structuredClone(doc)
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        out = add(out, op.path, op.value ?? null, false)
        break
      case 'replace':
        out = add(out, op.path, op.value ?? null, true)
        break
      case 'remove':
        remove(out, op.path)
        break
      case 'test':
        if (!deepEqual(getAt(out, op.path), op.value ?? null)) {
          throw new PatchError(`testing value ${op.path} failed`)
        }
        break
      case 'move': {
        const value = remove(out, op.from ?? '')
        out = add(out, op.path, value, false)
        break
      }
      case 'copy':
        out = add(out, op.path, getAt(out, op.from ?? ''), false)
        break
      default:
        throw new PatchError(`unexpected kind of operation "${op.op}"`)
    }
  }
  return out
}
