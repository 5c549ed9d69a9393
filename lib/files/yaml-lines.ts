import { isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml'
import { TerminalError } from '../errors.js'
import { goQuote } from '../expressions/go-strconv.js'
import { goFormatV, quoteIfNecessary } from './go-format.js'
import { splitKey } from './key-path.js'

/** One `key: value` change; `key` is a dotted path (`image.tag`, `containers.0.image`, `a\.b`). */
export interface KeyValueUpdate {
  key: string
  value: unknown
}

/** Longest line Kargo's scanner accepts (1 MiB). */
const MAX_LINE_BYTES = 1024 * 1024

/**
 * Kargo's `yaml.SetValuesInBytes`: a line edit, not a re-serialisation. Each key must already exist in the first
 * document and address a scalar; its line is cut at the value's first character and the new value (printed with
 * `%v` after `quoteIfNecessary`) is written in its place, so the rest of that line (an inline comment) is lost and
 * every other byte is kept. Lines are re-joined with `\n` (CRLF becomes LF) and the text always ends with one.
 */
export function setYamlValues(text: string, updates: readonly KeyValueUpdate[]): string {
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: false })
  const doc = Array.isArray(docs) ? docs[0] : undefined
  if (doc && doc.errors.length > 0) {
    throw new TerminalError(`error unmarshaling input: ${doc.errors[0]?.message ?? 'invalid YAML'}`)
  }
  const root = doc?.contents ?? null

  const changes = new Map<number, { col: number; value: unknown }>()
  for (const update of updates) {
    let parts: string[]
    try {
      parts = splitKey(update.key)
    } catch (error) {
      throw new TerminalError(`error splitting key ${update.key}: ${(error as Error).message}`)
    }
    const offset = findScalar(root, parts, update.key)
    const { line, col } = position(text, valueStart(text, offset))
    changes.set(line, { col, value: update.value })
  }

  const lines = scanLines(text)
  const out: string[] = []
  lines.forEach((lineText, i) => {
    const change = changes.get(i)
    if (!change) {
      out.push(lineText, '\n')
      return
    }
    const unchanged = Array.from(lineText).slice(0, change.col).join('')
    out.push(unchanged)
    if (!unchanged.endsWith(' ')) out.push(' ')
    out.push(goFormatV(quoteIfNecessary(change.value)), '\n')
  })
  return out.join('')
}

/** Kargo's `yaml-update` commit message: `Updated <path>`, a blank line, then `- key: value` with the file's quoting. */
export function yamlUpdateCommitMessage(path: string, updates: readonly KeyValueUpdate[]): string {
  if (updates.length === 0) return ''
  return `Updated ${path}\n${updates.map((u) => `\n- ${u.key}: ${goFormatV(quoteIfNecessary(u.value))}`).join('')}`
}

/** The offset where the scalar addressed by `parts` starts (yaml.v3's `findScalarNode`). */
function findScalar(root: unknown, parts: readonly string[], key: string): number {
  let node: unknown = root
  for (const part of parts) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyString(p.key) === part)
      if (!pair) throw notFound(key)
      node = pair.value
    } else if (isSeq(node)) {
      if (!/^[+-]?[0-9]+$/.test(part)) {
        throw new TerminalError(
          `error finding key ${key}: strconv.Atoi: parsing ${goQuote(part)}: invalid syntax`,
        )
      }
      const index = Number(part)
      if (index < 0 || index >= node.items.length) throw notFound(key)
      node = node.items[index]
    } else {
      throw notFound(key)
    }
  }
  if (!isScalar(node) || isAlias(node) || !node.range) {
    throw new TerminalError(`error finding key ${key}: key path does not address a scalar node`)
  }
  return node.range[0]
}

function keyString(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null || key.value === undefined ? '' : String(key.value)
  if (key === null) return ''
  return undefined
}

function notFound(key: string): TerminalError {
  return new TerminalError(`error finding key ${key}: key path not found`)
}

/**
 * yaml.v3 positions a node at its first property: an anchor or tag before the value on the same line (`&a !!str 1`)
 * is part of what gets replaced.
 */
function valueStart(text: string, offset: number): number {
  let start = offset
  for (;;) {
    let i = start
    while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--
    let j = i
    while (j > 0 && !/[\s]/.test(text[j - 1] ?? ' ')) j--
    const word = text.slice(j, i)
    if (i === start || word.length === 0 || !(word.startsWith('&') || word.startsWith('!'))) return start
    start = j
  }
}

/** Zero-based line (counted by `\n`) and column (in code points) of an offset. */
function position(text: string, offset: number): { line: number; col: number } {
  let line = 0
  let lineStart = 0
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++
      lineStart = i + 1
    }
  }
  return { line, col: Array.from(text.slice(lineStart, offset)).length }
}

/** Go's `bufio.ScanLines`: split on `\n`, drop one trailing `\r` per line, no empty last line. */
function scanLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines.map((l) => {
    if (Buffer.byteLength(l) > MAX_LINE_BYTES) {
      throw new TerminalError('error scanning input bytes: bufio.Scanner: token too long')
    }
    return l.endsWith('\r') ? l.slice(0, -1) : l
  })
}
