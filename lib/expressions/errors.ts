/**
 * Errors of the evaluator. Lexer, parser and interpreter throw the internal `ExpressionSyntaxError` /
 * `ExpressionEvalError` with a source offset; the public entry points turn them into a `ValidationError` whose
 * message names the position (`line:column`) and shows a snippet of the expression — never a value from the
 * environment.
 */
import { ValidationError } from '../errors.js'

/** A syntax error at `offset` in the expression source. */
export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
    this.name = 'ExpressionSyntaxError'
  }
}

/** An evaluation error at `offset` (the node that failed). */
export class ExpressionEvalError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
    this.name = 'ExpressionEvalError'
  }
}

const SNIPPET_RADIUS = 40

/** `line:column` (both 1-based) of an offset, and a one-line snippet with a caret under it. */
export function locate(source: string, offset: number): { line: number; column: number; snippet: string } {
  const at = Math.max(0, Math.min(offset, source.length))
  const before = source.slice(0, at)
  const line = before.split('\n').length
  const lineStart = before.lastIndexOf('\n') + 1
  const lineEndRaw = source.indexOf('\n', at)
  const lineEnd = lineEndRaw < 0 ? source.length : lineEndRaw
  const column = at - lineStart + 1
  const from = Math.max(lineStart, at - SNIPPET_RADIUS)
  const to = Math.min(lineEnd, at + SNIPPET_RADIUS)
  const text = (from > lineStart ? '…' : '') + source.slice(from, to) + (to < lineEnd ? '…' : '')
  const caret = ' '.repeat(at - from + (from > lineStart ? 1 : 0)) + '^'
  return { line, column, snippet: ` | ${text}\n | ${caret}` }
}

/** Builds the public error for a failure at `offset` in `source`. */
export function positionedError(
  kind: 'syntax error' | 'evaluation error',
  message: string,
  source: string,
  offset: number,
  cause?: unknown,
): ValidationError {
  const { line, column, snippet } = locate(source, offset)
  return new ValidationError(`${kind} in expression: ${message} (${line}:${column})\n${snippet}`, {
    data: { line, column, expression: source.length > 200 ? `${source.slice(0, 200)}…` : source },
    ...(cause === undefined ? {} : { cause }),
  })
}
