/**
 * A serverless AnalysisRun: Argo Rollouts' analysis controller as a pure state machine. {@link startRun} resolves the
 * templates and args into a JSON-serialisable {@link AnalysisRunState}; each {@link advanceRun} call takes only the
 * measurements that are due at `deps.now()`, assesses every metric and the run the way Argo's controller does, and
 * says when it wants to be called again (`nextCheckAt`). Nothing sleeps; the caller stores the state and schedules
 * the next call (a queue delay, a timer, a cron). {@link abortRun} ends a run that is still going.
 *
 * Semantics (Argo Rollouts `analysis/analysis.go`):
 * - A metric's first measurement is due `initialDelay` after the run started (at once without one); the next one
 *   `interval` after the previous one finished, or 10 s after an error measurement, whatever the interval.
 * - `count` measurements (Successful + Failed + Inconclusive; errors do not count) complete a metric. Without
 *   `count` and `interval` a metric takes one measurement; with `interval` and no `count` Argo measures until
 *   something fails (Kargo's verification then never succeeds on its own) — Tugboat stops such a metric after
 *   `maxMeasurements` (default 1000) measurements, which makes it Successful like a terminated Argo metric.
 * - A metric is Failed when failed > `failureLimit` (default 0), Inconclusive when inconclusive >
 *   `inconclusiveLimit` (default 0), Error when consecutive errors > `consecutiveErrorLimit` (default 4) — checked in
 *   that order, the later winning — else Successful once its count is reached.
 * - When a metric (not a dry-run one) ends Failed, Error or Inconclusive, the run stops measuring: metrics still
 *   running become Successful (Argo's "terminated" assessment) and the run takes the worst phase of its metrics, in
 *   Argo's order Successful < Running < Pending < Inconclusive < Error < Failed. Otherwise the run is Running until
 *   every metric is complete.
 */
import { ValidationError, messageOf } from '../errors.js'
import { parseGoInt } from '../expressions/go-strconv.js'
import {
  AnalysisTemplateManifestSchema,
  type AnalysisMetric,
  type AnalysisTemplateManifest,
} from '../model/resources.js'
import { describeIssues } from '../model/zod-errors.js'
import { compileRe2 } from '../regex/re2.js'
import { resolveArguments, substituteArgsDeep, type VerificationArgument } from './args.js'
import { evaluateResult } from './conditions.js'
import { parseGoDuration } from './duration.js'
import type { HttpDeps } from './http.js'
import { checkPrometheusMetric, queryPrometheus } from './providers/prometheus.js'
import type { ProviderOutcome } from './providers/types.js'
import { checkWebMetric, measureWeb } from './providers/web.js'
import {
  MetricProviderSchema,
  type AnalysisPhase,
  type AnalysisRunState,
  type Measurement,
  type MetricResult,
  type RunMetric,
  type RunPhase,
  type RunSummary,
} from './schema.js'

/** Argo's `DefaultMeasurementHistoryLimit`: measurements kept per metric without a `measurementRetention` rule. */
export const DEFAULT_MEASUREMENT_RETENTION = 10
/** Most measurements a `measurementRetention` rule may keep (the state is stored as one item). */
export const MAX_MEASUREMENT_RETENTION = 50
/** Argo's `DefaultConsecutiveErrorLimit`. */
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
/** Argo's `DefaultErrorRetryInterval`: the wait after an error measurement. */
export const ERROR_RETRY_INTERVAL_MS = 10_000
/** Default cap on a metric's measurements (interval without count runs this many; a larger count is refused). */
export const DEFAULT_MAX_MEASUREMENTS = 1000
/** Longest recorded measurement value / message; longer ones are cut and end with `…`. */
export const MAX_VALUE_LENGTH = 2048
export const MAX_MESSAGE_LENGTH = 1024

export interface StartRunOptions {
  /** Cap on one metric's measurements; default {@link DEFAULT_MAX_MEASUREMENTS}. */
  maxMeasurements?: number
}

/** What {@link advanceRun} needs: the network (see `HttpDeps`) and a clock. */
export interface AdvanceDeps extends HttpDeps {
  now: () => Date
}

export interface AdvanceResult {
  state: AnalysisRunState
  phase: RunPhase
  /** When to call {@link advanceRun} again (ISO 8601); absent once the run is complete. May be in the past. */
  nextCheckAt?: string
}

const MetricSchema = AnalysisTemplateManifestSchema.shape.spec.shape.metrics.element

const COMPLETED: ReadonlySet<string> = new Set(['Successful', 'Failed', 'Error', 'Inconclusive', 'Aborted'])

/** True for a phase that ends a run or a metric (Successful, Failed, Error, Inconclusive, Aborted). */
export function isCompleted(phase: RunPhase): boolean {
  return COMPLETED.has(phase)
}

// ---------------------------------------------------------------------------------------------------------------
// startRun

function templateLabel(template: AnalysisTemplateManifest): string {
  return `AnalysisTemplate ${JSON.stringify(template.metadata.name ?? '(unnamed)')}`
}

function intOrString(value: number | string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number') return value
  const parsed = parseGoInt(value)
  if (parsed === undefined) {
    throw new ValidationError(`${field}: ${JSON.stringify(value)} is not an integer`, { path: field })
  }
  return parsed
}

function duration(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const ms = parseGoDuration(value, field)
  if (ms < 0)
    throw new ValidationError(`${field}: must not be negative (got ${JSON.stringify(value)})`, {
      path: field,
    })
  return ms
}

interface MetricRules {
  dryRun: boolean
  retention: number
}

/** Turns one substituted metric into a {@link RunMetric}, applying Argo's defaults and `ValidateMetric` rules. */
function normalizeMetric(
  metric: AnalysisMetric,
  at: string,
  rules: MetricRules,
  maxMeasurements: number,
): RunMetric {
  const count = intOrString(metric.count, `${at}.count`)
  const failureLimit = intOrString(metric.failureLimit, `${at}.failureLimit`) ?? 0
  const inconclusiveLimit = intOrString(metric.inconclusiveLimit, `${at}.inconclusiveLimit`) ?? 0
  const consecutiveErrorLimit =
    intOrString(metric.consecutiveErrorLimit, `${at}.consecutiveErrorLimit`) ??
    DEFAULT_CONSECUTIVE_ERROR_LIMIT
  const intervalMs = duration(metric.interval, `${at}.interval`)
  const initialDelayMs = duration(metric.initialDelay, `${at}.initialDelay`)
  const invalid = (field: string, reason: string): never => {
    throw new ValidationError(`${at}.${field}: ${reason}`, { path: `${at}.${field}` })
  }
  if (count !== undefined && count < 0) invalid('count', 'must be >= 0')
  if (count !== undefined && count > maxMeasurements) {
    invalid('count', `must be at most ${maxMeasurements} (Tugboat's limit on one metric's measurements)`)
  }
  if (failureLimit < 0) {
    invalid('failureLimit', 'must be >= 0 (-1 needs consecutiveSuccessLimit, which Tugboat does not support)')
  }
  if (inconclusiveLimit < 0) invalid('inconclusiveLimit', 'must be >= 0')
  if (consecutiveErrorLimit < 0) invalid('consecutiveErrorLimit', 'must be >= 0')
  if (metric.consecutiveErrorLimit !== undefined && consecutiveErrorLimit > maxMeasurements) {
    invalid(
      'consecutiveErrorLimit',
      `must be at most ${maxMeasurements} (Tugboat's limit on one metric's measurements)`,
    )
  }
  if (count !== undefined && count > 0) {
    if (count < failureLimit) invalid('count', `count (${count}) must be >= failureLimit (${failureLimit})`)
    if (count < inconclusiveLimit)
      invalid('count', `count (${count}) must be >= inconclusiveLimit (${inconclusiveLimit})`)
  }
  if (count !== undefined && count > 1 && intervalMs === undefined)
    invalid('interval', 'must be specified when count > 1')

  const provider = MetricProviderSchema.safeParse(metric.provider)
  if (!provider.success) {
    throw new ValidationError(`${at}.provider: ${describeIssues(provider.error.issues).join('; ')}`, {
      path: `${at}.provider`,
    })
  }
  if ('web' in provider.data) checkWebMetric(provider.data.web, `${at}.provider.web`)
  else checkPrometheusMetric(provider.data.prometheus, `${at}.provider.prometheus`)

  // Argo's EffectiveCount: count 0 or unset is 1 without an interval, and "until failure" with one.
  const indefinite = (count === undefined || count === 0) && intervalMs !== undefined
  const effectiveCount = count === undefined || count === 0 ? (indefinite ? maxMeasurements : 1) : count
  return {
    name: metric.name,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(initialDelayMs !== undefined ? { initialDelayMs } : {}),
    effectiveCount,
    indefinite,
    ...(metric.successCondition ? { successCondition: metric.successCondition } : {}),
    ...(metric.failureCondition ? { failureCondition: metric.failureCondition } : {}),
    failureLimit,
    inconclusiveLimit,
    consecutiveErrorLimit,
    dryRun: rules.dryRun,
    measurementRetention: rules.retention,
    provider: provider.data,
  }
}

/** Argo's dryRun / measurementRetention rules: `metricName` is a regular expression (RE2, unanchored). */
function matchRules<R extends { metricName: string }>(
  kind: 'dryRun' | 'measurementRetention',
  rules: readonly R[],
  names: readonly string[],
): Map<string, R> {
  const matched = new Map<string, R>()
  const seen = new Set<string>()
  rules.forEach((rule, index) => {
    if (seen.has(rule.metricName)) {
      throw new ValidationError(
        `${kind}[${index}]: two rules have the same metricName ${JSON.stringify(rule.metricName)}`,
      )
    }
    seen.add(rule.metricName)
    const re = compileRe2(rule.metricName, `${kind}[${index}].metricName`)
    const hits = names.filter((name) => re.test(name))
    if (hits.length === 0)
      throw new ValidationError(`${kind}[${index}]: rule didn't match any metric name(s)`)
    for (const name of hits) matched.set(name, rule)
  })
  return matched
}

function emptySummary(): RunSummary {
  return { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0 }
}

function emptyResult(metric: RunMetric): MetricResult {
  return {
    name: metric.name,
    phase: 'Pending',
    ...(metric.dryRun ? { dryRun: true } : {}),
    measurements: [],
    count: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
    ...('prometheus' in metric.provider
      ? { metadata: { ResolvedPrometheusQuery: metric.provider.prometheus.query } }
      : {}),
  }
}

/**
 * Starts a run of one or more AnalysisTemplates (a Stage's `verification.analysisTemplates`, flattened as Kargo
 * does: metric names must be unique across them) with the Stage's evaluated `verification.args`. Throws a
 * `ValidationError` for anything Argo would reject when it creates or first reconciles the run: a missing or
 * conflicting arg, `valueFrom`, an unknown `{{…}}` placeholder, duplicate metric names, bad durations or limits,
 * `count > 1` without `interval`, a body on a GET, an unsupported jsonPath, a bad URL.
 */
export function startRun(
  templates: AnalysisTemplateManifest | readonly AnalysisTemplateManifest[],
  args: readonly VerificationArgument[] | undefined,
  now: Date,
  options: StartRunOptions = {},
): AnalysisRunState {
  const list: readonly AnalysisTemplateManifest[] = 'kind' in templates ? [templates] : templates
  if (list.length === 0) throw new ValidationError('verification needs at least one AnalysisTemplate')
  if (Number.isNaN(now.getTime())) throw new ValidationError('startRun: invalid start time')
  const maxMeasurements = options.maxMeasurements ?? DEFAULT_MAX_MEASUREMENTS
  if (!Number.isInteger(maxMeasurements) || maxMeasurements < 1)
    throw new ValidationError('maxMeasurements must be a positive integer')

  const resolvedArgs = resolveArguments(list, args ?? [])
  const substituted: Array<{ metric: AnalysisMetric; at: string }> = []
  const names = new Set<string>()
  for (const template of list) {
    template.spec.metrics.forEach((raw, index) => {
      const at = `${templateLabel(template)} spec.metrics[${index}]`
      const parsed = MetricSchema.safeParse(substituteArgsDeep(raw, resolvedArgs, at))
      if (!parsed.success)
        throw new ValidationError(`${at}: ${describeIssues(parsed.error.issues).join('; ')}`)
      if (names.has(parsed.data.name))
        throw new ValidationError(`duplicate metric name: ${JSON.stringify(parsed.data.name)}`)
      names.add(parsed.data.name)
      substituted.push({ metric: parsed.data, at: `${at} (${JSON.stringify(parsed.data.name)})` })
    })
  }
  const metricNames = [...names]
  const dryRun = matchRules(
    'dryRun',
    list.flatMap((t) => t.spec.dryRun ?? []),
    metricNames,
  )
  const retention = matchRules(
    'measurementRetention',
    list.flatMap((t) => t.spec.measurementRetention ?? []),
    metricNames,
  )

  const metrics = substituted.map(({ metric, at }) => {
    const limit = retention.get(metric.name)?.limit ?? 0
    return normalizeMetric(
      metric,
      at,
      {
        dryRun: dryRun.has(metric.name),
        retention: limit > 0 ? Math.min(limit, MAX_MEASUREMENT_RETENTION) : DEFAULT_MEASUREMENT_RETENTION,
      },
      maxMeasurements,
    )
  })
  const state: AnalysisRunState = {
    version: 1,
    spec: { metrics },
    status: {
      phase: 'Pending',
      startedAt: now.toISOString(),
      metricResults: metrics.map(emptyResult),
      runSummary: { ...emptySummary(), count: metrics.filter((m) => !m.dryRun).length },
      ...(metrics.some((m) => m.dryRun)
        ? { dryRunSummary: { ...emptySummary(), count: metrics.filter((m) => m.dryRun).length } }
        : {}),
    },
  }
  schedule(state)
  return state
}

// ---------------------------------------------------------------------------------------------------------------
// advanceRun

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function resultFor(state: AnalysisRunState, metric: RunMetric): MetricResult {
  let result = state.status.metricResults.find((r) => r.name === metric.name)
  if (result === undefined) {
    result = emptyResult(metric)
    state.status.metricResults.push(result)
  }
  return result
}

/** Measurements taken so far (the list itself may have been trimmed). */
function attempts(result: MetricResult): number {
  return result.count + result.error
}

/** When the metric's next measurement is due (epoch ms), or undefined when it needs none. */
function dueAt(state: AnalysisRunState, metric: RunMetric, result: MetricResult): number | undefined {
  if (isCompleted(result.phase)) return undefined
  const last = result.measurements.at(-1)
  if (last === undefined || attempts(result) === 0) {
    return Date.parse(state.status.startedAt) + (metric.initialDelayMs ?? 0)
  }
  if (result.count >= metric.effectiveCount) return undefined
  const interval = last.phase === 'Error' ? ERROR_RETRY_INTERVAL_MS : metric.intervalMs
  // Without an interval, a metric that has its one measurement is complete; only errors are retried.
  if (interval === undefined) return undefined
  return Date.parse(last.finishedAt) + interval
}

async function measure(metric: RunMetric, deps: AdvanceDeps): Promise<Measurement> {
  const startedAt = deps.now().toISOString()
  let outcome: ProviderOutcome
  try {
    outcome =
      'web' in metric.provider
        ? await measureWeb(metric.provider.web, deps)
        : await queryPrometheus(metric.provider.prometheus, deps)
  } catch (error) {
    outcome = { ok: false, message: messageOf(error) }
  }
  const finishedAt = deps.now().toISOString()
  if (!outcome.ok)
    return { phase: 'Error', message: clip(outcome.message, MAX_MESSAGE_LENGTH), startedAt, finishedAt }
  const evaluated = evaluateResult(outcome.value, metric)
  return {
    phase: evaluated.phase,
    value: clip(outcome.display, MAX_VALUE_LENGTH),
    ...(evaluated.message !== undefined ? { message: clip(evaluated.message, MAX_MESSAGE_LENGTH) } : {}),
    startedAt,
    finishedAt,
    ...(outcome.metadata ? { metadata: outcome.metadata } : {}),
  }
}

function record(result: MetricResult, metric: RunMetric, measurement: Measurement): void {
  switch (measurement.phase) {
    case 'Successful':
      result.successful++
      result.count++
      result.consecutiveError = 0
      break
    case 'Failed':
      result.failed++
      result.count++
      result.consecutiveError = 0
      break
    case 'Inconclusive':
      result.inconclusive++
      result.count++
      result.consecutiveError = 0
      break
    case 'Error':
      result.error++
      result.consecutiveError++
      break
  }
  result.measurements.push(measurement)
  if (result.measurements.length > metric.measurementRetention) {
    result.measurements.splice(0, result.measurements.length - metric.measurementRetention)
  }
  if (result.phase === 'Pending') result.phase = 'Running'
}

/** Argo's `assessMetricFailureInconclusiveOrError`: the later checks win. */
function failureInconclusiveOrError(
  metric: RunMetric,
  result: MetricResult,
): { phase?: AnalysisPhase; message?: string } {
  let verdict: { phase?: AnalysisPhase; message?: string } = {}
  if (result.failed > metric.failureLimit) {
    verdict = {
      phase: 'Failed',
      message: `failed (${result.failed}) > failureLimit (${metric.failureLimit})`,
    }
  }
  if (result.inconclusive > metric.inconclusiveLimit) {
    verdict = {
      phase: 'Inconclusive',
      message: `inconclusive (${result.inconclusive}) > inconclusiveLimit (${metric.inconclusiveLimit})`,
    }
  }
  if (result.consecutiveError > metric.consecutiveErrorLimit) {
    verdict = {
      phase: 'Error',
      message: `consecutiveErrors (${result.consecutiveError}) > consecutiveErrorLimit (${metric.consecutiveErrorLimit})`,
    }
  }
  return verdict
}

/** Argo's `assessMetricStatus`. */
function assessMetric(metric: RunMetric, result: MetricResult, terminating: boolean): AnalysisPhase {
  if (isCompleted(result.phase)) return result.phase
  if (attempts(result) === 0) return terminating ? 'Successful' : 'Pending'
  const verdict = failureInconclusiveOrError(metric, result)
  if (verdict.phase !== undefined) return verdict.phase
  if (result.count >= metric.effectiveCount) return 'Successful'
  return terminating ? 'Successful' : 'Running'
}

/** Argo's `analysisStatusOrder`, best to worst. */
const ORDER: readonly AnalysisPhase[] = [
  'Successful',
  'Running',
  'Pending',
  'Inconclusive',
  'Error',
  'Failed',
]

function isWorse(current: AnalysisPhase, candidate: AnalysisPhase): boolean {
  return ORDER.indexOf(candidate) > ORDER.indexOf(current)
}

/** True when a metric that counts (not dry-run) ended Failed, Error or Inconclusive: the run stops measuring. */
function isTerminating(state: AnalysisRunState): boolean {
  return state.status.metricResults.some(
    (r) => !r.dryRun && (r.phase === 'Failed' || r.phase === 'Error' || r.phase === 'Inconclusive'),
  )
}

function countInto(summary: RunSummary, phase: AnalysisPhase | undefined): void {
  switch (phase) {
    case 'Error':
      summary.error++
      break
    case 'Failed':
      summary.failed++
      break
    case 'Inconclusive':
      summary.inconclusive++
      break
    default:
      summary.successful++
  }
}

/** Argo's `assessRunStatus`: updates every metric's phase and returns the run's phase and message. */
function assessRun(
  state: AnalysisRunState,
  terminating: boolean,
): { phase: AnalysisPhase; message?: string } {
  let worst: AnalysisPhase | undefined
  let worstMessage = ''
  let everythingCompleted = true
  const runSummary = emptySummary()
  const dryRunSummary = emptySummary()
  for (const metric of state.spec.metrics) {
    const result = resultFor(state, metric)
    if (metric.dryRun) dryRunSummary.count++
    else runSummary.count++
    if (attempts(result) === 0 && !terminating) {
      everythingCompleted = false
      continue
    }
    const phase = assessMetric(metric, result, terminating)
    if (phase !== result.phase) {
      const last = result.measurements.at(-1)
      if (last?.message !== undefined) result.message = last.message
      else delete result.message
      if (attempts(result) === 0) result.message = 'the run ended before this metric took a measurement'
      else if (phase === 'Successful' && metric.indefinite && result.count >= metric.effectiveCount) {
        result.message = `stopped after ${metric.effectiveCount} measurements, Tugboat's limit for a metric with an interval and no count`
      }
      result.phase = phase
    }
    if (!isCompleted(phase)) {
      everythingCompleted = false
      continue
    }
    const verdict = failureInconclusiveOrError(metric, result)
    if (!metric.dryRun) {
      if (worst === undefined || isWorse(worst, phase)) {
        worst = phase
        if (verdict.message !== undefined) {
          worstMessage = `Metric "${metric.name}" assessed ${phase} due to ${verdict.message}`
          if (result.message) worstMessage += `: "Error Message: ${result.message}"`
        }
      }
      countInto(runSummary, verdict.phase)
    } else {
      if (worst === undefined) worst = 'Successful'
      if (verdict.message !== undefined) result.message = `Metric assessed ${phase} due to ${verdict.message}`
      countInto(dryRunSummary, verdict.phase)
    }
  }
  state.status.runSummary = runSummary
  if (dryRunSummary.count > 0) state.status.dryRunSummary = dryRunSummary
  const message = worstMessage.trim() || undefined
  if (terminating) return { phase: worst ?? 'Successful', ...(message ? { message } : {}) }
  if (!everythingCompleted || worst === undefined) return { phase: 'Running' }
  return { phase: worst, ...(message ? { message } : {}) }
}

function setPhase(state: AnalysisRunState, phase: RunPhase, message: string | undefined, now: Date): void {
  if (phase !== state.status.phase) {
    state.status.phase = phase
    if (message !== undefined) state.status.message = clip(message, MAX_MESSAGE_LENGTH)
    else delete state.status.message
  }
  if (isCompleted(phase) && state.status.completedAt === undefined)
    state.status.completedAt = now.toISOString()
}

/** Sets each metric's `nextMeasurementAt` and the run's `nextCheckAt` (both cleared once complete). */
function schedule(state: AnalysisRunState): void {
  let next: number | undefined
  const runDone = isCompleted(state.status.phase)
  for (const metric of state.spec.metrics) {
    const result = resultFor(state, metric)
    const due = runDone ? undefined : dueAt(state, metric, result)
    if (due === undefined) {
      delete result.nextMeasurementAt
      continue
    }
    result.nextMeasurementAt = new Date(due).toISOString()
    if (next === undefined || due < next) next = due
  }
  if (next === undefined) delete state.status.nextCheckAt
  else state.status.nextCheckAt = new Date(next).toISOString()
}

function resultOf(state: AnalysisRunState): AdvanceResult {
  return {
    state,
    phase: state.status.phase,
    ...(state.status.nextCheckAt !== undefined ? { nextCheckAt: state.status.nextCheckAt } : {}),
  }
}

/**
 * Takes the measurements due at `deps.now()` (metrics in parallel, at most one measurement per metric per call),
 * assesses the metrics and the run, and returns the new state (the input is not modified), its phase and when to
 * call again. A completed run is returned unchanged. Never throws for a failed measurement: that is an Error
 * measurement. Parse a stored state with `AnalysisRunStateSchema` before passing it in.
 */
export async function advanceRun(input: AnalysisRunState, deps: AdvanceDeps): Promise<AdvanceResult> {
  const state = structuredClone(input)
  if (isCompleted(state.status.phase)) return resultOf(state)
  let now = deps.now()
  if (!isTerminating(state)) {
    const due = state.spec.metrics.filter((metric) => {
      const at = dueAt(state, metric, resultFor(state, metric))
      return at !== undefined && now.getTime() >= at
    })
    const measurements = await Promise.all(due.map((metric) => measure(metric, deps)))
    due.forEach((metric, i) => {
      const measurement = measurements[i]
      if (measurement !== undefined) record(resultFor(state, metric), metric, measurement)
    })
    now = deps.now()
  }
  let verdict = assessRun(state, isTerminating(state))
  // Argo notices a failed metric at its next reconcile (at once: the status update triggers it); do it now.
  if (!isCompleted(verdict.phase) && isTerminating(state)) verdict = assessRun(state, true)
  setPhase(state, verdict.phase, verdict.message, now)
  schedule(state)
  return resultOf(state)
}

/**
 * Ends a run that is not complete yet (Kargo's "abort verification"; Argo's `terminate`): no more measurements,
 * metrics are assessed as Argo assesses a terminated run, and the run's phase becomes `Aborted`. A completed run is
 * returned unchanged.
 */
export function abortRun(
  input: AnalysisRunState,
  options: { now?: Date; message?: string } = {},
): AnalysisRunState {
  const state = structuredClone(input)
  if (isCompleted(state.status.phase)) return state
  assessRun(state, true)
  setPhase(state, 'Aborted', options.message ?? 'Run Terminated', options.now ?? new Date())
  schedule(state)
  return state
}
