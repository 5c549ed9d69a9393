import { messageOf } from '../errors.js'
import { setCondition } from '../model/meta.js'
import type { PromoteDeps } from '../promotion/create.js'
import { getResource, listResources } from '../store/resources.js'
import { listStages, updateStageStatus, type Stage } from '../store/stages.js'
import { autoPromoteStage } from './auto-promote.js'
import { redriveStalled } from './redrive.js'
import { markAwaitingTestSuites, missingTestSuites, requiredTestSuites } from './test-suites.js'
import { recordVerification } from './verification.js'

export type HealthStatus = 'Healthy' | 'Progressing' | 'Unhealthy' | 'Unknown' | 'NotApplicable'

/** What verification of a Stage's current Freight came to, as far as it has got. */
export type VerificationProgress =
  | { phase: 'Running' | 'Pending'; message?: string }
  | {
      phase: 'Successful' | 'Failed' | 'Error' | 'Inconclusive' | 'Aborted'
      message?: string
      id?: string
      startTime?: string
      analysisRun?: Record<string, unknown>
    }

export interface ReconcileDeps extends PromoteDeps {
  /** Health of the Stage's registered Argo CD apps; NotApplicable when it has none. */
  stageHealth?: (
    stage: Stage,
  ) => Promise<{ status: HealthStatus; issues?: string[]; argoCDApps?: Array<Record<string, unknown>> }>
  /** Runs (advances) the Stage's AnalysisTemplates; undefined when the Stage has none. */
  runVerification?: (stage: Stage) => Promise<VerificationProgress | undefined>
  /** Re-sends a Promotion message (with a nonce so FIFO deduplication does not swallow it). */
  redrive?: (message: { project: string; stage: string; promotion: string }, nonce: string) => Promise<void>
  /** Heals a project's webhook receiver routes and ProjectConfig.status (cheap when nothing changed). */
  syncWebhooks?: (project: string) => Promise<unknown>
  log?: (line: string) => void
}

/**
 * Verification of a Stage's newest Freight, Kargo-style: once the Stage is healthy (or has no health checks),
 * run its verification; with none, healthy means verified.
 */
export async function verifyStage(deps: ReconcileDeps, stage: Stage, now: Date): Promise<void> {
  const health = deps.stageHealth ? await deps.stageHealth(stage) : { status: 'NotApplicable' as const }
  if (JSON.stringify(health) !== JSON.stringify(stage.status.health)) {
    stage = await updateStageStatus(deps.db, stage.project, stage.name, (status) => ({
      ...status,
      health,
      conditions: setCondition(
        status.conditions,
        {
          type: 'Healthy',
          status:
            health.status === 'Healthy' || health.status === 'NotApplicable'
              ? 'True'
              : health.status === 'Unknown'
                ? 'Unknown'
                : 'False',
          reason: health.status,
          message: health.issues?.join('; ') || `health is ${health.status}`,
        },
        now,
      ),
    }))
  }
  if (stage.status.phase !== 'Verifying') return
  if (health.status !== 'Healthy' && health.status !== 'NotApplicable') return
  const progress = deps.runVerification ? await deps.runVerification(stage) : undefined
  if (progress?.phase === 'Running' || progress?.phase === 'Pending') return
  const result = progress ?? {
    phase: 'Successful' as const,
    message:
      health.status === 'Healthy'
        ? 'Stage is healthy (no verification configured)'
        : 'no health checks or verification configured',
  }
  if (result.phase === 'Successful') {
    const missing = missingTestSuites(stage)
    if (missing.length) {
      await markAwaitingTestSuites(deps.db, stage, missing, now)
      return
    }
  }
  await recordVerification(
    deps.db,
    stage,
    {
      ...result,
      ...(result.phase === 'Successful' && requiredTestSuites(stage).length
        ? { message: `${result.message ? `${result.message}; ` : ''}required test suites passed` }
        : {}),
      startTime: 'startTime' in result && result.startTime ? result.startTime : now.toISOString(),
    },
    now,
  )
}

/** One pass over a project: health and verification, stalled Promotions, then auto-promotion. */
export async function reconcileProject(
  deps: ReconcileDeps,
  project: string,
  now = new Date(),
): Promise<void> {
  const log = deps.log ?? (() => {})
  const [projectResource, config] = await Promise.all([
    getResource(deps.db, { project, kind: 'Project', name: project }),
    getResource(deps.db, { project, kind: 'ProjectConfig', name: project }),
  ])
  const stages = await listStages(deps.db, project)
  for (const stage of stages) {
    try {
      await verifyStage(deps, stage, now)
      if (deps.redrive) {
        const redriven = await redriveStalled(deps.db, stage, deps.redrive, now)
        if (redriven) log(`re-queued stalled Promotion ${project}/${redriven}`)
      }
    } catch (error) {
      log(`reconcile ${project}/${stage.name}: ${messageOf(error)}`)
    }
  }
  // Auto-promotion reads fresh Stages: verification above may have made Freight available downstream.
  for (const stage of await listStages(deps.db, project)) {
    try {
      await autoPromoteStage(
        deps,
        stage,
        { ...(projectResource ? { resource: projectResource } : {}), ...(config ? { config } : {}) },
        now,
        log,
      )
    } catch (error) {
      log(`auto-promotion ${project}/${stage.name}: ${messageOf(error)}`)
    }
  }
}

/** Every project (a Query on the project list), one after another; a failing project never stops the rest. */
export async function reconcileAll(deps: ReconcileDeps, now = new Date()): Promise<void> {
  for (const project of await listResources(deps.db, '', 'Project')) {
    try {
      await reconcileProject(deps, project.metadata.name, now)
      await deps.syncWebhooks?.(project.metadata.name)
    } catch (error) {
      deps.log?.(`reconcile ${project.metadata.name}: ${messageOf(error)}`)
    }
  }
}
