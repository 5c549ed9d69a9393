import { ulid } from 'ulid'
import { messageOf } from '../errors.js'
import { evaluateTemplate } from '../expressions/index.js'
import { AnalysisTemplateManifestSchema } from '../model/resources.js'
import type { Db } from '../store/client.js'
import {
  deleteResource,
  getResource,
  nextVersion,
  putItem,
  updateResource,
  updateTogether,
  writeAll,
  type StoredResource,
} from '../store/resources.js'
import { asStage, updateStageStatus, type Stage } from '../store/stages.js'
import { verificationEvent } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import {
  abortRun,
  advanceRun,
  AnalysisRunStateSchema,
  isCompleted,
  startRun,
  type AnalysisRunState,
  type FetchLike,
} from '../verification/index.js'
import type { VerificationProgress } from './reconcile.js'

/** Where a Stage's verification run for its current Freight is kept (Tugboat's stand-in for Kargo's AnalysisRun). */
export interface VerificationPointer {
  run: string
  collection: string
}

function pointerOf(stage: Stage): VerificationPointer | undefined {
  const raw = (stage.status as { currentVerification?: VerificationPointer }).currentVerification
  return raw && raw.collection === stage.status.freightHistory?.[0]?.id ? raw : undefined
}

/** The run's public face: phase, messages and measurements, never the resolved spec (args may hold tokens). */
export function publicRun(resource: StoredResource): Record<string, unknown> {
  const state = AnalysisRunStateSchema.parse((resource as { state?: unknown }).state)
  return {
    name: resource.metadata.name,
    stage: (resource as { stage?: string }).stage,
    freightCollection: (resource as { collection?: string }).collection,
    status: state.status,
  }
}

async function loadTemplates(db: Db, stage: Stage) {
  const refs = stage.spec.verification?.analysisTemplates ?? []
  return Promise.all(
    refs.map(async (ref) => {
      if (ref.kind === 'ClusterAnalysisTemplate')
        throw new Error(
          `ClusterAnalysisTemplate "${ref.name}" is not supported; apply an AnalysisTemplate to the project`,
        )
      const found = await getResource(db, {
        project: stage.project,
        kind: 'AnalysisTemplate',
        name: ref.name,
      })
      if (!found) throw new Error(`AnalysisTemplate "${ref.name}" not found in project "${stage.project}"`)
      return AnalysisTemplateManifestSchema.parse({
        apiVersion: found.apiVersion,
        kind: found.kind,
        metadata: { name: found.metadata.name },
        spec: found.spec,
      })
    }),
  )
}

async function saveRun(
  db: Db,
  project: string,
  name: string,
  state: AnalysisRunState,
  extra: Record<string, unknown>,
  previous?: StoredResource,
) {
  const write = {
    ref: { project, kind: 'AnalysisRun', name },
    resource: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisRun',
      metadata: { name },
      ...extra,
      state: state as unknown as Record<string, unknown>,
    },
    expect: previous ? Number(previous.metadata.resourceVersion) : ('absent' as const),
  }
  await writeAll(
    db,
    [{ Put: putItem(db, write, nextVersion(write, previous)) }],
    `AnalysisRun ${name} changed concurrently`,
  )
}

/**
 * Starts or advances the verification of a Stage's current Freight: one AnalysisRun per FreightCollection,
 * advanced only when a measurement is due (never sleeping). Returns undefined when the Stage has no templates.
 */
export async function runStageVerification(
  deps: { db: Db; fetch?: FetchLike; now?: () => Date },
  stage: Stage,
): Promise<VerificationProgress | undefined> {
  if (!stage.spec.verification?.analysisTemplates?.length) return undefined
  const now = deps.now?.() ?? new Date()
  const collection = stage.status.freightHistory?.[0]
  if (!collection) return undefined
  const pointer = pointerOf(stage)
  if (!pointer) {
    let state: AnalysisRunState
    try {
      const templates = await loadTemplates(deps.db, stage)
      const env = { ctx: { project: stage.project, stage: stage.name }, vars: {} }
      const args = (stage.spec.verification.args ?? []).map((a) => ({
        name: a.name,
        value: String(evaluateTemplate(a.value, env) ?? ''),
      }))
      state = startRun(templates, args, now)
    } catch (error) {
      return { phase: 'Error', message: `verification could not start: ${messageOf(error)}` }
    }
    const name = `${stage.name}.${ulid(now.getTime()).toLowerCase()}.${collection.id.slice(0, 7)}`
    await saveRun(deps.db, stage.project, name, state, { stage: stage.name, collection: collection.id })
    // Overlapping reconciles may both get here: only the one that claims the Stage's pointer keeps its run.
    let claimed = false
    const freightName = Object.values(collection.items)[0]?.name ?? ''
    await updateTogether(
      deps.db,
      [
        {
          ref: { project: stage.project, kind: 'Stage', name: stage.name },
          change: (current) => {
            // The change may run again after a conflict: decide afresh each time.
            claimed = false
            const status = asStage(stage.project, current).status
            const existing = (status as { currentVerification?: VerificationPointer }).currentVerification
            if (existing && existing.collection === collection.id) return undefined
            claimed = true
            return {
              ...current,
              status: { ...status, currentVerification: { run: name, collection: collection.id } },
            }
          },
        },
      ],
      8,
      () =>
        outboxItems(deps.db, [
          verificationEvent(
            {
              project: stage.project,
              stage: stage.name,
              freight: { name: freightName },
              verification: { id: name, phase: 'Running', message: `verification ${name} started` },
            },
            { now },
          ),
        ]),
    )
    if (!claimed) {
      await deleteResource(deps.db, { project: stage.project, kind: 'AnalysisRun', name })
      return { phase: 'Running' }
    }
    return { phase: 'Running', message: `verification ${name} started` }
  }
  const resource = await getResource(deps.db, {
    project: stage.project,
    kind: 'AnalysisRun',
    name: pointer.run,
  })
  if (!resource) return { phase: 'Error', message: `AnalysisRun ${pointer.run} is missing` }
  let state = AnalysisRunStateSchema.parse((resource as { state?: unknown }).state)
  const startTime = state.status.startedAt
  if (!isCompleted(state.status.phase)) {
    const dueAt = state.status.nextCheckAt ? Date.parse(state.status.nextCheckAt) : 0
    if (dueAt > now.getTime()) return { phase: 'Running' }
    const advanced = await advanceRun(state, {
      now: () => deps.now?.() ?? new Date(),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    })
    state = advanced.state
    await saveRun(
      deps.db,
      stage.project,
      pointer.run,
      state,
      { stage: stage.name, collection: pointer.collection },
      resource,
    )
  }
  if (!isCompleted(state.status.phase))
    return { phase: 'Running', ...(state.status.message ? { message: state.status.message } : {}) }
  const phase = state.status.phase as 'Successful' | 'Failed' | 'Error' | 'Inconclusive' | 'Aborted'
  return {
    phase,
    ...(state.status.message ? { message: state.status.message } : {}),
    ...(startTime ? { startTime } : {}),
    id: pointer.run,
    analysisRun: { name: pointer.run, namespace: stage.project, phase },
  }
}

/** Aborts the Stage's running verification (`tugboat verify stage S --abort`). */
export async function abortStageVerification(
  db: Db,
  stage: Stage,
  actor: string,
  now = new Date(),
): Promise<boolean> {
  const pointer = pointerOf(stage)
  if (!pointer) return false
  await updateResource(db, { project: stage.project, kind: 'AnalysisRun', name: pointer.run }, (resource) => {
    const state = AnalysisRunStateSchema.parse((resource as { state?: unknown }).state)
    if (isCompleted(state.status.phase)) return undefined
    return {
      ...resource,
      state: abortRun(state, { now, message: `Verification aborted by ${actor}` }) as unknown as Record<
        string,
        unknown
      >,
    }
  })
  return true
}

/** Re-runs verification of the Stage's current Freight (`tugboat verify stage S`). */
export async function restartStageVerification(db: Db, stage: Stage): Promise<void> {
  await updateStageStatus(db, stage.project, stage.name, (status) => {
    if (!status.freightHistory?.[0]) return undefined
    const next = { ...status, phase: 'Verifying' as const }
    delete (next as { currentVerification?: unknown }).currentVerification
    return next
  })
}
