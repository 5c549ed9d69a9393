/**
 * The public entry points: bare expressions (`evaluate`, `compileExpression`), Kargo's `${{ }}` / `${% %}` templates
 * with their result typing (`evaluateTemplate`, `evaluateDeep`, KARGO-SEMANTICS §8), and the boolean rules for step
 * `if` (§10) and git `expressionFilter` (§11). Every failure is a `ValidationError` (an env function's own
 * `TugboatError` passes through unchanged).
 */
import { TugboatError, ValidationError } from '../errors.js'
import { ExpressionEvalError, ExpressionSyntaxError, positionedError } from './errors.js'
import { goJsonMarshal, goJsonUnmarshal } from './go-json.js'
import { parseGoBool, parseGoFloat } from './go-strconv.js'
import {
  interpret,
  precompileConstantPatterns,
  MAX_STRING_LENGTH,
  type EvaluateOptions,
} from './interpreter.js'
import { RESERVED_FUNCTION_NAMES } from './kargo-functions.js'
import { childrenOf, parse, type Node } from './parser.js'
import { ExprRuntimeError, MAX_VALUE_DEPTH, formatV, isArray, isMap, setOwn, typeName } from './values.js'

export type { EvaluateOptions } from './interpreter.js'

/** The delimiters Kargo accepts. `${% %}` is the same evaluation; it exists so an expression may contain `}}`. */
const DELIMITERS = [
  { start: '${{', end: '}}' },
  { start: '${%', end: '%}' },
] as const

/** Longest template (a config string holding delimiters) that will be evaluated. */
export const MAX_TEMPLATE_LENGTH = 1_000_000

/** A parsed expression, ready to evaluate against many environments (e.g. one per tag in an `expressionFilter`). */
export type CompiledExpression = (env: Record<string, unknown>, options?: EvaluateOptions) => unknown

/** True when `value` contains a `${{` or `${%` delimiter, i.e. `evaluateTemplate` would evaluate it. */
export function hasExpression(value: string): boolean {
  return DELIMITERS.some((d) => value.includes(d.start))
}

function toPublicError(error: unknown, source: string): unknown {
  if (error instanceof ExpressionSyntaxError)
    return positionedError('syntax error', error.message, source, error.offset)
  if (error instanceof ExpressionEvalError)
    return positionedError('evaluation error', error.message, source, error.offset)
  if (error instanceof TugboatError) return error
  if (error instanceof ExprRuntimeError) return positionedError('evaluation error', error.message, source, 0)
  const reason = error instanceof RangeError ? 'memory or recursion limit exceeded' : 'internal error'
  return new ValidationError(`evaluation error in expression: ${reason}`, {
    data: { expression: source.slice(0, 200) },
    cause: error,
  })
}

/** Parses an expression once. Throws a `ValidationError` naming the line, column and a snippet on a syntax error. */
export function compileExpression(expression: string): CompiledExpression {
  let ast: Node
  try {
    ast = parse(expression)
    precompileConstantPatterns(ast, childrenOf)
  } catch (error) {
    throw toPublicError(error, expression)
  }
  return (env, options) => {
    try {
      return interpret(ast, envObject(env), options)
    } catch (error) {
      throw toPublicError(error, expression)
    }
  }
}

function envObject(env: unknown): Record<string, unknown> {
  return typeof env === 'object' && env !== null ? (env as Record<string, unknown>) : {}
}

/**
 * Evaluates a bare expression (no delimiters), e.g. a step `if` body, a git `expressionFilter`, or an
 * AnalysisTemplate `successCondition` such as `result[0] >= 0.95`. Unknown variables are nil; functions are only
 * the builtins and those in `env`. Returns the raw value (`null` for nil).
 */
export function evaluate(
  expression: string,
  env: Record<string, unknown>,
  options?: EvaluateOptions,
): unknown {
  return compileExpression(expression)(env, options)
}

/** Splits a template into literal text and expressions; throws on an unclosed delimiter. */
function splitTemplate(template: string): { text: string[]; expressions: string[] } {
  const text: string[] = []
  const expressions: string[] = []
  let rest = template
  for (;;) {
    let best: { at: number; start: string; end: string } | undefined
    for (const d of DELIMITERS) {
      const at = rest.indexOf(d.start)
      if (at >= 0 && (best === undefined || at < best.at)) best = { at, start: d.start, end: d.end }
    }
    if (best === undefined) {
      text.push(rest)
      return { text, expressions }
    }
    const exprStart = best.at + best.start.length
    const close = rest.indexOf(best.end, exprStart)
    if (close < 0) {
      throw new ValidationError(
        `unclosed expression: expected ${JSON.stringify(best.end)} but reached end of template`,
      )
    }
    text.push(rest.slice(0, best.at))
    expressions.push(rest.slice(exprStart, close))
    rest = rest.slice(close + best.end.length)
  }
}

/**
 * Kargo's `EvaluateTemplate` (§8). A string without `${{`/`${%` comes back verbatim (`"42"` stays a string).
 * Otherwise each expression is evaluated and the parts are concatenated (strings raw, other values as Go JSON); then,
 * ignoring one trailing newline: `"…"` → the text between the quotes (a string, newline kept); a Go float literal →
 * a number; a Go bool literal → a boolean; valid JSON → its value; else the string (newline kept).
 */
export function evaluateTemplate(
  value: string,
  env: Record<string, unknown>,
  options?: EvaluateOptions,
): unknown {
  if (!hasExpression(value)) return value
  if (value.length > MAX_TEMPLATE_LENGTH)
    throw new ValidationError(`template is longer than ${MAX_TEMPLATE_LENGTH} characters`)
  const { text, expressions } = splitTemplate(value)
  let result = text[0] ?? ''
  expressions.forEach((expression, i) => {
    const evaluated = compileExpression(expression)(env, options)
    let piece: string
    if (typeof evaluated === 'string') piece = evaluated
    else {
      try {
        piece = goJsonMarshal(evaluated)
      } catch (error) {
        const reason = error instanceof ExprRuntimeError ? error.message : 'cannot encode result'
        throw new ValidationError(`expression result cannot be encoded as JSON: ${reason}`, {
          data: { expression: expression.slice(0, 200) },
        })
      }
    }
    result += piece + (text[i + 1] ?? '')
    if (result.length > MAX_STRING_LENGTH) throw new ValidationError('template result is too large')
  })
  return coerceResult(result)
}

/** The typing step of §8, applied to the concatenated text of an evaluated template. */
export function coerceResult(raw: string): unknown {
  let result = raw
  // A `|` block in YAML leaves a trailing newline, which must not stop `42\n` from being a number.
  const removedNewline = result.endsWith('\n')
  if (removedNewline) result = result.slice(0, -1)
  if (result.length > 1 && result.startsWith('"') && result.endsWith('"')) {
    return result.slice(1, -1) + (removedNewline ? '\n' : '')
  }
  const asNumber = parseGoFloat(result)
  if (asNumber !== undefined) {
    // Go parses "inf"/"nan" as floats, which JSON cannot carry: Kargo fails when it re-encodes the config.
    if (!Number.isFinite(asNumber))
      throw new ValidationError(
        'template result is a non-finite number (Inf or NaN), which JSON cannot represent',
      )
    return asNumber
  }
  const asBool = parseGoBool(result)
  if (asBool !== undefined) return asBool
  const asJson = goJsonUnmarshal(result)
  if (asJson !== undefined) return asJson.value
  return result + (removedNewline ? '\n' : '')
}

/**
 * Kargo's `EvaluateJSONTemplate`: returns a copy of `value` in which every string (at any depth, in objects and
 * arrays; never keys) went through `evaluateTemplate`. The env may not define `quote`, `asYAML` or `asJSON`.
 */
export function evaluateDeep(
  value: unknown,
  env: Record<string, unknown>,
  options?: EvaluateOptions,
): unknown {
  for (const name of RESERVED_FUNCTION_NAMES.filter((n) => n !== 'unsafeQuote')) {
    if (Object.hasOwn(envObject(env), name)) {
      throw new ValidationError(
        `${JSON.stringify(name)} is a forbidden key in the environment map; it is reserved for internal use`,
      )
    }
  }
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > MAX_VALUE_DEPTH) throw new ValidationError('config is nested too deeply')
    if (typeof v === 'string') return evaluateTemplate(v, env, options)
    if (isArray(v)) return v.map((x) => walk(x, depth + 1))
    if (isMap(v)) {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(v)) {
        const desc = Object.getOwnPropertyDescriptor(v, key)
        setOwn(out, key, walk(desc && 'value' in desc ? desc.value : undefined, depth + 1))
      }
      return out
    }
    return v
  }
  return walk(value, 0)
}

/** §10: a step `if` must evaluate to a boolean. Returns it, or throws a `ValidationError` naming the type. */
export function requireBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  throw new ValidationError(`expression must evaluate to a boolean, got ${typeName(value)}`)
}

/** §10: evaluates a step's `if` template (`${{ … }}`) and requires a boolean result. */
export function evaluateCondition(
  template: string,
  env: Record<string, unknown>,
  options?: EvaluateOptions,
): boolean {
  return requireBoolean(evaluateTemplate(template, env, options))
}

/**
 * §11: a git `expressionFilter` (or Freight creation criteria) result that is not a boolean goes through Go's
 * `strconv.ParseBool` of its printed (`%v`) form: `1`/`t`/`true`… → true, `0`/`f`/`false`… → false, else an error.
 */
export function parseBoolResult(value: unknown): boolean {
  if (typeof value === 'boolean') return value
  let printed: string
  try {
    printed = formatV(value)
  } catch {
    printed = ''
  }
  const parsed = parseGoBool(printed)
  if (parsed === undefined) {
    throw new ValidationError(
      `error parsing expression result as a bool: a ${typeName(value)} that is not a boolean literal`,
    )
  }
  return parsed
}
