import { Document, isMap, isNode, isScalar, isSeq, Pair, parseAllDocuments, visit, type Node } from 'yaml'
import { TerminalError } from '../errors.js'

/*
 * Kargo's `yaml.MergeFiles` (kyaml `merge2.Merge`, applied file by file, later files winning), for files without a
 * Kubernetes `apiVersion`/`kind` (Helm values and the like):
 *   - mappings merge key by key; keys only in a later file are appended, in sorted order;
 *   - a later scalar or list replaces the earlier one whole (lists are never merged element by element);
 *   - a `null` (or `~`, or an empty value) removes the key; a mapping holding `$patch: delete` removes it, and one
 *     holding `$patch: replace` replaces the earlier mapping instead of merging into it;
 *   - a key holding a mapping in one file and a scalar or list in another is an error.
 * The first file's comments and key order are kept; comments of a later file win where both have one.
 */

const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/
const PATCH_KEY = '$patch'

/** One input: its name (for messages) and its text. */
export interface YamlMergeInput {
  name: string
  text: string
}

/** Merges the first document of each input, in order; returns the merged YAML text ('' when nothing is left). */
export function mergeYamlFiles(inputs: readonly YamlMergeInput[]): string {
  let target: Document | undefined
  for (const input of inputs) {
    const docs = parseAllDocuments(input.text)
    const doc = Array.isArray(docs) ? docs[0] : undefined
    if (doc && doc.errors.length > 0) {
      throw new TerminalError(
        `error reading input file ${input.name}: ${doc.errors[0]?.message ?? 'invalid YAML'}`,
      )
    }
    // An empty file (no document, or only comments) is skipped.
    if (!doc || doc.contents === null) continue
    if (!target) {
      target = doc
      target.contents = prune(target.contents)
      if (target.contents === null) target = undefined
      continue
    }
    let merged: Node | null
    try {
      merged = mergeNodes(target.contents, doc.contents)
    } catch (error) {
      throw new TerminalError(`error merging in file ${input.name}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (merged === null) {
      target = undefined
      continue
    }
    target.contents = merged
  }
  if (!target || target.contents === null) return ''
  // yaml.v3 as kyaml configures it writes YAML 1.1 booleans held as strings (`yes`, `on`) double-quoted.
  visit(target, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.type === 'PLAIN' && YAML11_BOOL.test(node.value)) {
        node.type = 'QUOTE_DOUBLE'
      }
    },
  })
  return target.toString({ indentSeq: false, lineWidth: 0 })
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null)
}

function kindOf(node: unknown): string {
  if (isMap(node)) return 'MappingNode'
  if (isSeq(node)) return 'SequenceNode'
  return 'ScalarNode'
}

/** The merged node, or null when the key is to be removed. */
function mergeNodes(dest: unknown, src: unknown): Node | null {
  const destMissing = isNull(dest)
  const srcMissing = src === undefined
  if (!destMissing && !isNull(src) && kindOf(dest) !== kindOf(src)) {
    throw new Error(`wrong node kind: expected ${kindOf(dest)} but got ${kindOf(src)}`)
  }
  if (!srcMissing && isNull(src)) return null // an explicit null clears the field
  if (srcMissing) return prune(dest)
  if (destMissing) {
    if (isMap(src) && directive(src) === 'delete') return null
    return prune(src)
  }
  copyComments(dest, src)
  if (isMap(dest) && isMap(src)) {
    const d = directive(src)
    if (d === 'delete') return null
    if (d === 'replace') return prune(src)
    const keys = new Set<string>()
    for (const pair of [...dest.items, ...src.items]) keys.add(keyOf(pair.key))
    for (const key of [...keys].sort()) {
      const destPair = dest.items.find((p) => keyOf(p.key) === key)
      const srcPair = src.items.find((p) => keyOf(p.key) === key)
      const merged = mergeNodes(destPair?.value, srcPair ? (srcPair.value ?? null) : undefined)
      if (merged === null) {
        if (destPair) dest.items.splice(dest.items.indexOf(destPair), 1)
      } else if (destPair) {
        destPair.value = merged
      } else if (srcPair) {
        dest.items.push(new Pair(srcPair.key, merged))
      }
    }
    return dest as Node
  }
  // Scalars and (non-associative) lists: the later one wins.
  return src as Node
}

/** Removes null-valued keys (recursively through mappings) and `$patch` keys, as kyaml's field setter does. */
function prune(node: unknown): Node | null {
  if (isNull(node)) return null
  if (isMap(node)) {
    node.items = node.items.filter((pair) => {
      if (keyOf(pair.key) === PATCH_KEY) return false
      const value = prune(pair.value)
      if (value === null) return false
      pair.value = value
      return true
    })
  }
  return node as Node
}

function directive(map: unknown): string | undefined {
  if (!isMap(map)) return undefined
  const pair = map.items.find((p) => keyOf(p.key) === PATCH_KEY)
  if (!pair) return undefined
  const value = isScalar(pair.value) ? String(pair.value.value) : ''
  if (value !== 'delete' && value !== 'replace' && value !== 'merge') {
    throw new Error(`unknown patch strategy '${value}'`)
  }
  map.items.splice(map.items.indexOf(pair), 1)
  return value
}

function keyOf(key: unknown): string {
  if (isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value)
  return String(key)
}

function copyComments(dest: unknown, src: unknown): void {
  if (!isNode(dest) || !isNode(src)) return
  if (src.commentBefore) dest.commentBefore = src.commentBefore
  if (src.comment) dest.comment = src.comment
}
