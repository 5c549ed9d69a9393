import type { Application, ApplicationSource, Operation, OperationState } from './schemas.js'

/** The `info` key Kargo (and Tugboat) put on the operations they start, valued with the Promotion's name. */
export const PROMOTION_INFO_KEY = 'kargo.akuity.io/promotion'
/** The annotation that lists the `<project>:<stage>` pairs allowed to update an app. */
export const AUTHORIZED_STAGE_ANNOTATION = 'kargo.akuity.io/authorized-stage'
/** Setting this annotation to `hard` makes the controller refresh the app (and its manifests cache). */
export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh'

/** `namespace/name`, or `name` when Argo CD did not report a namespace. */
export function appKey(app: Pick<Application, 'metadata'>): string {
  return app.metadata.namespace ? `${app.metadata.namespace}/${app.metadata.name}` : app.metadata.name
}

/** True when the app uses `spec.sources` (multi-source) rather than `spec.source`. */
export function isMultiSource(app: Application): boolean {
  return (app.spec.sources?.length ?? 0) > 0
}

/** The app's sources as one list: `spec.sources`, or `[spec.source]`, or `[]`. */
export function appSources(app: Application): ApplicationSource[] {
  if (isMultiSource(app)) return app.spec.sources ?? []
  return app.spec.source ? [app.spec.source] : []
}

/** Auto-sync is on when `syncPolicy.automated` is present and not explicitly disabled. */
export function isAutoSyncEnabled(app: Application): boolean {
  const automated = app.spec.syncPolicy?.automated
  return automated !== undefined && automated.enabled !== false
}

/** The value of an operation's `info` entry, if any. */
export function operationInfo(operation: Operation | undefined, name: string): string | undefined {
  return operation?.info?.find((entry) => entry.name === name)?.value
}

/** The Promotion that started an operation, if Kargo or Tugboat started it. */
export function operationPromotion(operation: Operation | undefined): string | undefined {
  return operationInfo(operation, PROMOTION_INFO_KEY)
}

/** Final phases: the controller will not touch the operation again. */
export function isPhaseCompleted(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Error'
}

/**
 * True while an operation is requested (`operation` is set) or recorded but not finished. Argo CD clears
 * `operation` only when the phase completes.
 */
export function isOperationInProgress(app: Application): boolean {
  if (app.operation) return true
  const state = app.status?.operationState
  if (!state) return false
  return !isPhaseCompleted(state.phase) || !state.finishedAt
}

/** The operation currently requested or last recorded: the top-level `operation` wins over the state's copy. */
export function currentOperation(app: Application): Operation | undefined {
  return app.operation ?? app.status?.operationState?.operation
}

/** What an operation syncs to: `sync.revisions`, or `[sync.revision]`; empty when it names none. */
export function operationRevisions(operation: Operation | undefined): string[] {
  const sync = operation?.sync
  if (!sync) return []
  if (sync.revisions && sync.revisions.length > 0) return sync.revisions
  return sync.revision ? [sync.revision] : []
}

/** What a finished operation synced: `syncResult.revisions`, or `[syncResult.revision]`. */
export function syncResultRevisions(state: OperationState | undefined): string[] {
  const result = state?.syncResult
  if (!result) return []
  if (result.revisions && result.revisions.length > 0) return result.revisions
  return result.revision ? [result.revision] : []
}

/** What the last comparison resolved: `status.sync.revisions`, or `[status.sync.revision]`. */
export function syncedRevisions(app: Application): string[] {
  const sync = app.status?.sync
  if (!sync) return []
  if (sync.revisions && sync.revisions.length > 0) return sync.revisions
  return sync.revision ? [sync.revision] : []
}

/** True when every non-empty desired revision equals the observed one at the same index. */
export function revisionsMatch(observed: readonly string[], desired: readonly string[]): boolean {
  return desired.every((want, i) => want === '' || observed[i] === want)
}

/** True when at least one desired revision is given. */
export function hasDesiredRevision(desired: readonly string[]): boolean {
  return desired.some((revision) => revision !== '')
}

/** Parses `kargo.akuity.io/authorized-stage`: comma-separated `<project>:<stage>`; globs are refused. */
export function parseAuthorizedStages(value: string): Array<{ project: string; stage: string }> {
  const stages: Array<{ project: string; stage: string }> = []
  for (const raw of value.split(',')) {
    const entry = raw.trim()
    if (entry === '') continue
    const colon = entry.indexOf(':')
    const project = colon < 0 ? '' : entry.slice(0, colon).trim()
    const stage = colon < 0 ? '' : entry.slice(colon + 1).trim()
    if (project === '' || stage === '') {
      throw new Error(`invalid authorized Stage "${entry}": expected "<project>:<stage>"`)
    }
    if (project.includes('*') || stage.includes('*')) {
      throw new Error(`invalid authorized Stage "${entry}": glob expressions are not supported`)
    }
    stages.push({ project, stage })
  }
  if (stages.length === 0) throw new Error(`no authorized Stages found in "${value}"`)
  return stages
}

/**
 * Why the Stage may not update the app, or undefined when the app's authorized-stage annotation lists
 * `<project>:<stage>` exactly.
 */
export function authorizationProblem(app: Application, project: string, stage: string): string | undefined {
  const label = `Argo CD app "${appKey(app)}"`
  const value = app.metadata.annotations?.[AUTHORIZED_STAGE_ANNOTATION]
  if (value === undefined) {
    return (
      `${label} does not permit updates by Stage "${stage}" of project "${project}": ` +
      `it has no "${AUTHORIZED_STAGE_ANNOTATION}" annotation (add "${project}:${stage}" to allow it)`
    )
  }
  let stages: Array<{ project: string; stage: string }>
  try {
    stages = parseAuthorizedStages(value)
  } catch (error) {
    return `${label} has an unusable "${AUTHORIZED_STAGE_ANNOTATION}" annotation "${value}": ${(error as Error).message}`
  }
  if (stages.some((entry) => entry.project === project && entry.stage === stage)) return undefined
  return (
    `${label} does not permit updates by Stage "${stage}" of project "${project}": ` +
    `its "${AUTHORIZED_STAGE_ANNOTATION}" annotation is "${value}"`
  )
}
