/**
 * The shapes of the analysis runner: the provider configs it measures with and the JSON-serialisable run state it
 * hands back to the caller (to be stored between invocations and parsed again with {@link AnalysisRunStateSchema}).
 */
import { z } from 'zod'
import type { PrometheusMetric, WebMetric } from '../model/resources.js'

const HeaderSchema = z.object({ key: z.string(), value: z.string() }).strict()

/** `provider.web`, as `lib/model/resources.ts` accepts it (kept in step with `WebMetric` by the type annotation). */
export const WebProviderSchema: z.ZodType<WebMetric> = z
  .object({
    url: z.string().min(1),
    method: z.enum(['GET', 'POST', 'PUT']).optional(),
    headers: z.array(HeaderSchema).optional(),
    body: z.string().optional(),
    jsonBody: z.unknown().optional(),
    jsonPath: z.string().optional(),
    timeoutSeconds: z.number().int().positive().optional(),
    insecure: z.boolean().optional(),
  })
  .strict()

/** `provider.prometheus`, as `lib/model/resources.ts` accepts it. */
export const PrometheusProviderSchema: z.ZodType<PrometheusMetric> = z
  .object({
    address: z.string().min(1),
    query: z.string().min(1),
    timeout: z.number().int().positive().optional(),
    insecure: z.boolean().optional(),
    headers: z.array(HeaderSchema).optional(),
  })
  .strict()

export const MetricProviderSchema = z.union([
  z.object({ web: WebProviderSchema }).strict(),
  z.object({ prometheus: PrometheusProviderSchema }).strict(),
])
export type MetricProvider = z.infer<typeof MetricProviderSchema>

/** The phase of one measurement. */
export const MeasurementPhaseSchema = z.enum(['Successful', 'Failed', 'Inconclusive', 'Error'])
export type MeasurementPhase = z.infer<typeof MeasurementPhaseSchema>

/** The phase of a metric (Argo's AnalysisPhase). */
export const AnalysisPhaseSchema = z.enum([
  'Pending',
  'Running',
  'Successful',
  'Failed',
  'Error',
  'Inconclusive',
])
export type AnalysisPhase = z.infer<typeof AnalysisPhaseSchema>

/** The phase of a run: Argo's AnalysisPhase, plus `Aborted` (Kargo's VerificationPhase) after {@link abortRun}. */
export const RunPhaseSchema = z.enum([
  'Pending',
  'Running',
  'Successful',
  'Failed',
  'Error',
  'Inconclusive',
  'Aborted',
])
export type RunPhase = z.infer<typeof RunPhaseSchema>

const Timestamp = z.string().min(1)
const Count = z.number().int().nonnegative()

/** One measurement, as Argo records it. `value` is the measured value as text (`[0.97]`, `"ok"`, `true`). */
export const MeasurementSchema = z
  .object({
    phase: MeasurementPhaseSchema,
    value: z.string().optional(),
    message: z.string().optional(),
    startedAt: Timestamp,
    finishedAt: Timestamp,
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict()
export type Measurement = z.infer<typeof MeasurementSchema>

/** A metric of the run after argument substitution and defaulting: everything a measurement needs. */
export const RunMetricSchema = z
  .object({
    name: z.string().min(1),
    /** Milliseconds between measurements; absent: a single measurement (or retries after errors). */
    intervalMs: z.number().nonnegative().optional(),
    /** Milliseconds after the run started before the first measurement. */
    initialDelayMs: z.number().nonnegative().optional(),
    /** Measurements (Successful + Failed + Inconclusive) after which the metric is complete. */
    effectiveCount: z.number().int().positive(),
    /** True for `interval` without `count`: Argo runs such a metric until it fails; Tugboat caps it (`effectiveCount`). */
    indefinite: z.boolean(),
    successCondition: z.string().optional(),
    failureCondition: z.string().optional(),
    failureLimit: Count,
    inconclusiveLimit: Count,
    consecutiveErrorLimit: Count,
    /** Matched by the template's `dryRun`: measured and reported, but never decides the run's phase. */
    dryRun: z.boolean(),
    /** How many measurements the state keeps (Argo's default 10, or `measurementRetention`). */
    measurementRetention: z.number().int().positive(),
    provider: MetricProviderSchema,
  })
  .strict()
export type RunMetric = z.infer<typeof RunMetricSchema>

/** Per metric: Argo's MetricResult, plus when its next measurement is due. */
export const MetricResultSchema = z
  .object({
    name: z.string().min(1),
    phase: AnalysisPhaseSchema,
    dryRun: z.boolean().optional(),
    message: z.string().optional(),
    /** The most recent measurements (oldest first), at most the metric's `measurementRetention`. */
    measurements: z.array(MeasurementSchema),
    count: Count,
    successful: Count,
    failed: Count,
    inconclusive: Count,
    error: Count,
    consecutiveError: Count,
    /** When the next measurement is due (ISO 8601); absent once the metric is complete. */
    nextMeasurementAt: Timestamp.optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict()
export type MetricResult = z.infer<typeof MetricResultSchema>

export const RunSummarySchema = z
  .object({ count: Count, successful: Count, failed: Count, inconclusive: Count, error: Count })
  .strict()
export type RunSummary = z.infer<typeof RunSummarySchema>

/**
 * Everything about one analysis run, JSON-serialisable. `spec` holds the resolved metrics — including any value
 * passed through args (tokens in headers, say), so store it like a secret and never show it; `status` is the part
 * to display (Argo's AnalysisRun status).
 */
export const AnalysisRunStateSchema = z
  .object({
    version: z.literal(1),
    spec: z.object({ metrics: z.array(RunMetricSchema).min(1) }).strict(),
    status: z
      .object({
        phase: RunPhaseSchema,
        message: z.string().optional(),
        startedAt: Timestamp,
        completedAt: Timestamp.optional(),
        /** When {@link advanceRun} should next be called (ISO 8601); absent once the run is complete. */
        nextCheckAt: Timestamp.optional(),
        metricResults: z.array(MetricResultSchema),
        runSummary: RunSummarySchema,
        dryRunSummary: RunSummarySchema.optional(),
      })
      .strict(),
  })
  .strict()
export type AnalysisRunState = z.infer<typeof AnalysisRunStateSchema>
