/**
 * Argo Rollouts' `EvaluateResult`: a measurement's phase from its `successCondition` / `failureCondition`,
 * evaluated with the shared expression evaluator (`lib/expressions`) against `result` and Argo's helper functions.
 *
 * | successCondition | failureCondition | phase                                                                   |
 * |---|---|---|
 * | —                | —                | Successful                                                              |
 * | set              | —                | Successful when true, else Failed                                       |
 * | —                | set              | Failed when true, else Successful                                       |
 * | set              | set              | Failed when failure is true (even if success is too); Successful when only success is; else Inconclusive |
 *
 * A condition that does not evaluate to a boolean, or fails to evaluate, makes the measurement an Error.
 */
import { messageOf } from '../errors.js'
import { evaluate, requireBoolean } from '../expressions/index.js'
import { parseGoFloat, parseGoInt } from '../expressions/go-strconv.js'
import { typeName } from '../expressions/values.js'
import type { MeasurementPhase } from './schema.js'

export interface Conditions {
  successCondition?: string
  failureCondition?: string
}

function isNil(value: unknown): boolean {
  return value === null || value === undefined
}

function describe(value: unknown): string {
  return typeName(value)
}

/**
 * The functions Argo puts next to `result`. `isNil(x)` and `default(x, d)` look at `result` itself, whatever `x`
 * is — Argo binds them to the measured value — so `default(result, 0)` is the useful form.
 */
export function conditionEnv(result: unknown): Record<string, unknown> {
  return {
    result,
    asInt: (value: unknown): number => {
      if (typeof value === 'number') {
        if (!Number.isFinite(value))
          throw new Error(`asInt() not supported on ${describe(value)} ${String(value)}`)
        return Math.trunc(value)
      }
      if (typeof value === 'string') {
        const parsed = parseGoInt(value)
        if (parsed === undefined)
          throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
        return parsed
      }
      throw new Error(`asInt() not supported on ${describe(value)}`)
    },
    asFloat: (value: unknown): number => {
      if (typeof value === 'number') return value
      if (typeof value === 'string') {
        const parsed = parseGoFloat(value)
        if (parsed === undefined)
          throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(value)}: invalid syntax`)
        return parsed
      }
      throw new Error(`asFloat() not supported on ${describe(value)}`)
    },
    isNaN: (value: unknown): boolean => {
      if (typeof value !== 'number') throw new Error(`isNaN() needs a float64, got ${describe(value)}`)
      return Number.isNaN(value)
    },
    isInf: (value: unknown): boolean => {
      if (typeof value !== 'number') throw new Error(`isInf() needs a float64, got ${describe(value)}`)
      return value === Infinity || value === -Infinity
    },
    isNil: (): boolean => isNil(result),
    default: (_value: unknown, fallback: unknown): unknown => (isNil(result) ? fallback : result),
  }
}

function firstLine(message: string): string {
  const at = message.indexOf('\n')
  return at < 0 ? message : message.slice(0, at)
}

function isNilOrEmpty(result: unknown): boolean {
  return isNil(result) || (Array.isArray(result) && result.length === 0)
}

/** Evaluates one condition to a boolean; throws an `Error` whose message reads like Argo's. */
function evalCondition(
  kind: 'successCondition' | 'failureCondition',
  expression: string,
  result: unknown,
): boolean {
  try {
    return requireBoolean(evaluate(expression, conditionEnv(result)))
  } catch (error) {
    if (isNilOrEmpty(result)) {
      throw new Error(
        `could not evaluate ${kind} ${JSON.stringify(expression)}: metric result is nil or empty: no data returned from the metric provider`,
      )
    }
    throw new Error(
      `could not evaluate ${kind} ${JSON.stringify(expression)}: ${firstLine(messageOf(error))}`,
    )
  }
}

/** The phase of a measurement whose value is `result`; `message` is set for an Error. */
export function evaluateResult(
  result: unknown,
  conditions: Conditions,
): { phase: MeasurementPhase; message?: string } {
  const success = conditions.successCondition || undefined
  const failure = conditions.failureCondition || undefined
  let successful = false
  let failed = false
  try {
    if (success !== undefined) successful = evalCondition('successCondition', success, result)
    if (failure !== undefined) failed = evalCondition('failureCondition', failure, result)
  } catch (error) {
    return { phase: 'Error', message: messageOf(error) }
  }
  if (success === undefined && failure === undefined) return { phase: 'Successful' }
  if (success !== undefined && failure === undefined) failed = !successful
  if (success === undefined && failure !== undefined) successful = !failed
  if (failed) return { phase: 'Failed' }
  if (!successful) return { phase: 'Inconclusive' }
  return { phase: 'Successful' }
}
