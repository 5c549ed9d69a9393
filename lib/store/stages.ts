import { StageSpecSchema, type StageSpec } from '../model/resources.js'
import { StageStatusSchema, type StageStatus } from '../model/stage-status.js'
import type { Db } from './client.js'
import { listResources, requireResource, updateResource, type StoredResource } from './resources.js'

/** A Stage with its spec and status parsed. */
export interface Stage {
  resource: StoredResource
  name: string
  project: string
  spec: StageSpec
  status: StageStatus
}

export function asStage(project: string, resource: StoredResource): Stage {
  return {
    resource,
    name: resource.metadata.name,
    project,
    spec: StageSpecSchema.parse(resource.spec),
    status: StageStatusSchema.parse(resource.status ?? {}),
  }
}

export async function requireStage(db: Db, project: string, name: string): Promise<Stage> {
  return asStage(project, await requireResource(db, { project, kind: 'Stage', name }))
}

export async function listStages(db: Db, project: string): Promise<Stage[]> {
  return (await listResources(db, project, 'Stage')).map((r) => asStage(project, r))
}

/** Read-modify-write of a Stage's status with optimistic concurrency. `change` may run more than once. */
export async function updateStageStatus(
  db: Db,
  project: string,
  name: string,
  change: (status: StageStatus, stage: Stage) => StageStatus | undefined,
): Promise<Stage> {
  const stored = await updateResource(db, { project, kind: 'Stage', name }, (current) => {
    const stage = asStage(project, current)
    const next = change(structuredClone(stage.status), stage)
    return next ? { ...current, status: next } : undefined
  })
  return asStage(project, stored)
}
