export {
  abortRun,
  advanceRun,
  isCompleted,
  startRun,
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  DEFAULT_MAX_MEASUREMENTS,
  DEFAULT_MEASUREMENT_RETENTION,
  ERROR_RETRY_INTERVAL_MS,
  MAX_MEASUREMENT_RETENTION,
  type AdvanceDeps,
  type AdvanceResult,
  type StartRunOptions,
} from './run.js'
export {
  AnalysisRunStateSchema,
  type AnalysisPhase,
  type AnalysisRunState,
  type Measurement,
  type MeasurementPhase,
  type MetricResult,
  type RunMetric,
  type RunPhase,
  type RunSummary,
} from './schema.js'
export {
  resolveArguments,
  substituteArgs,
  type ResolvedArguments,
  type VerificationArgument,
} from './args.js'
export { evaluateResult } from './conditions.js'
export { compileJsonPath, JsonPathError, type JsonPath } from './jsonpath.js'
export { insecureFetch, type FetchLike, type HttpDeps } from './http.js'
export { measureWeb, checkWebMetric, DEFAULT_WEB_TIMEOUT_SECONDS } from './providers/web.js'
export {
  queryPrometheus,
  checkPrometheusMetric,
  formatSampleValue,
  DEFAULT_PROMETHEUS_TIMEOUT_SECONDS,
} from './providers/prometheus.js'
export type { ProviderOutcome } from './providers/types.js'
