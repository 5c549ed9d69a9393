import { z } from 'zod'
import { appKey, appSources, hasDesiredRevision, syncedRevisions } from './application.js'
import type { Application } from './schemas.js'

/** A Stage's health as Kargo reports it, for one app. */
export type AppStageHealth = 'Healthy' | 'Progressing' | 'Unhealthy' | 'Unknown'
/** A Stage's overall health; `NotApplicable` when nothing is checked. */
export type StageHealth = AppStageHealth | 'NotApplicable'

/** What the app should run: one revision (single source) or one per source, `''` where any will do. */
export interface DesiredRevisions {
  revision?: string
  revisions?: readonly string[]
}

/** A health verdict with the reason a user can act on. */
export interface AppHealthAssessment {
  status: AppStageHealth
  message?: string
}

const ERROR_CONDITIONS = new Set(['ComparisonError', 'InvalidSpecError'])

function toList(desired: DesiredRevisions): string[] {
  if (desired.revisions && desired.revisions.length > 0) return [...desired.revisions]
  return desired.revision ? [desired.revision] : []
}

function time(value: string | undefined): number | undefined {
  if (!value) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * Judges an app for Stage health (Kargo's argocd health check). Argo CD's health is trusted only once
 * `status.reconciledAt` is at or after the last operation's `finishedAt` (and `operationFinishedAt`, when given),
 * and the app is synced to every non-empty desired revision. Suspended counts as Progressing; Degraded, Missing
 * and Unknown health are Unhealthy. A missing app is Unknown.
 */
export function assessAppHealth(
  app: Application | undefined,
  desired: DesiredRevisions = {},
  operationFinishedAt?: string,
): AppHealthAssessment {
  if (!app) return { status: 'Unknown', message: 'the Argo CD app was not found' }
  const label = `Argo CD app "${appKey(app)}"`
  const status = app.status ?? {}
  const state = status.operationState

  const finishedTimes = [time(state?.finishedAt), time(operationFinishedAt)].filter((t) => t !== undefined)
  if (finishedTimes.length > 0) {
    const finished = Math.max(...finishedTimes)
    const reconciled = time(status.reconciledAt)
    if (reconciled === undefined || reconciled < finished) {
      return {
        status: 'Unknown',
        message: `${label} was not reconciled after its last operation finished; its health is not trusted yet`,
      }
    }
  }

  const errors = (status.conditions ?? []).filter((c) => ERROR_CONDITIONS.has(c.type))
  if (errors.length > 0) {
    return {
      status: 'Unhealthy',
      message: errors.map((c) => `${label} has a ${c.type} condition: ${c.message ?? ''}`.trim()).join('; '),
    }
  }

  const wanted = toList(desired)
  if (hasDesiredRevision(wanted)) {
    if (app.operation?.sync || !state || !state.finishedAt) {
      return { status: 'Unknown', message: `${label} is being synced` }
    }
    const sources = appSources(app)
    const observed = syncedRevisions(app)
    if (sources.length !== wanted.length || observed.length !== wanted.length) {
      return {
        status: 'Unknown',
        message: `${label} has ${sources.length} source(s) and ${observed.length} synced revision(s), but ${wanted.length} desired revision(s)`,
      }
    }
    const mismatches = wanted.flatMap((want, i) =>
      want !== '' && observed[i] !== want
        ? [`source ${i} (${sources[i]?.repoURL ?? '?'}) is at "${observed[i]}", not "${want}"`]
        : [],
    )
    if (mismatches.length > 0) {
      return {
        status: 'Unhealthy',
        message: `${label} is not synced to the desired revisions: ${mismatches.join('; ')}`,
      }
    }
  }

  const health = status.health?.status ?? ''
  switch (health) {
    case 'Healthy':
      return { status: 'Healthy' }
    case '':
    case 'Progressing':
      return { status: 'Progressing', message: `${label} is progressing` }
    case 'Suspended':
      return { status: 'Progressing', message: `${label} is suspended` }
    default: {
      const detail = status.health?.message ? `: ${status.health.message}` : ''
      return { status: 'Unhealthy', message: `${label} is ${health}${detail}` }
    }
  }
}

/** {@link assessAppHealth}, status only. */
export function appHealthForStage(
  app: Application | undefined,
  desired: DesiredRevisions = {},
  operationFinishedAt?: string,
): AppStageHealth {
  return assessAppHealth(app, desired, operationFinishedAt).status
}

const SEVERITY: Record<StageHealth, number> = {
  Healthy: 0,
  NotApplicable: 1,
  Progressing: 2,
  Unknown: 3,
  Unhealthy: 4,
}

/** The most severe of the apps' health (Unhealthy > Unknown > Progressing > Healthy); `NotApplicable` when empty. */
export function aggregateStageHealth(list: ReadonlyArray<AppStageHealth | StageHealth>): StageHealth {
  let worst: StageHealth = 'NotApplicable'
  for (const health of list) {
    if (worst === 'NotApplicable' && health !== 'NotApplicable') worst = health
    else if (SEVERITY[health] > SEVERITY[worst]) worst = health
  }
  return worst
}

/**
 * One app the Stage's health depends on: an entry of `argocd-update`'s output `healthChecks` (and `apps`), which
 * the engine stores in the Stage's `status.healthChecks`. Parse those stored records with this schema.
 */
export const ArgoCDAppHealthCheckSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().optional(),
  /** One per app source, `''` where any revision will do. */
  desiredRevisions: z.array(z.string()).default([]),
  /** When the step saw its sync finish; health is trusted only once the app was reconciled after it. */
  operationFinishedAt: z.string().optional(),
})
export type ArgoCDAppHealthCheck = z.input<typeof ArgoCDAppHealthCheckSchema>

/** The app reader {@link checkArgoCDHealth} needs (an `ArgoCDClient` fits). */
export interface ApplicationReader {
  getApplication(name: string, options?: { namespace?: string }): Promise<Application>
}

/**
 * Reads every app and judges the Stage: each app as {@link assessAppHealth}, the whole as
 * {@link aggregateStageHealth}. An app that cannot be read (missing, forbidden, Argo CD down) is Unknown.
 */
export async function checkArgoCDHealth(
  client: ApplicationReader,
  checks: readonly ArgoCDAppHealthCheck[],
): Promise<{ status: StageHealth; apps: Array<ArgoCDAppHealthCheck & AppHealthAssessment> }> {
  const apps = await Promise.all(
    checks.map(async (check) => {
      let assessment: AppHealthAssessment
      try {
        const app = await client.getApplication(
          check.name,
          check.namespace ? { namespace: check.namespace } : {},
        )
        assessment = assessAppHealth(
          app,
          { revisions: check.desiredRevisions ?? [] },
          check.operationFinishedAt,
        )
      } catch (error) {
        assessment = { status: 'Unknown', message: error instanceof Error ? error.message : String(error) }
      }
      return { ...check, ...assessment }
    }),
  )
  return { status: aggregateStageHealth(apps.map((a) => a.status)), apps }
}
