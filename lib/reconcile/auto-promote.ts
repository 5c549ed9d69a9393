import type { Actor } from '../auth/actor.js'
import { ConflictError, messageOf } from '../errors.js'
import { originKey } from '../model/stage-status.js'
import { newestAvailableFreight, promoteToStage, type PromoteDeps } from '../promotion/create.js'
import { autoPromotionEnabled } from '../promotion/policies.js'
import { listStagePromotions, TERMINAL_PHASES } from '../store/promotions.js'
import type { StoredResource } from '../store/resources.js'
import type { Stage } from '../store/stages.js'
import { updateStageStatus } from '../store/stages.js'

export const AUTO_PROMOTION_ACTOR: Actor = { name: 'system:auto-promotion', role: 'system-admin' }

/**
 * Kargo's auto-promotion for one Stage: for each origin it requests, promote the newest available Freight
 * unless it is already there, a Promotion is already queued or running for the Stage, that Freight was
 * promoted here before (Kargo never retries a failed auto-promotion on its own), or a manual hold applies.
 * Returns the names of the Promotions created.
 */
export async function autoPromoteStage(
  deps: PromoteDeps,
  stage: Stage,
  project: { resource?: StoredResource; config?: StoredResource },
  now: Date,
  log: (line: string) => void = () => {},
): Promise<string[]> {
  if (!autoPromotionEnabled(project.resource, project.config, stage)) return []
  const history = await listStagePromotions(deps.db, stage.project, stage.name)
  if (history.some((p) => !TERMINAL_PHASES.includes(p.status.phase))) return []
  const created: string[] = []
  for (const request of stage.spec.requestedFreight) {
    const key = originKey(request.origin)
    const candidate = await newestAvailableFreight(deps.db, stage, request.origin.name, now)
    if (!candidate) continue
    const hold = stage.status.autoPromotionHolds?.[key]
    if (hold) {
      if (!candidate.discoveredAt || candidate.discoveredAt <= hold.createdAt) continue
      // Newer Freight than the manual choice arrived: the hold is released.
      await updateStageStatus(deps.db, stage.project, stage.name, (status) => {
        const holds = { ...status.autoPromotionHolds }
        delete holds[key]
        return { ...status, autoPromotionHolds: holds }
      })
    }
    const current = stage.status.freightHistory?.[0]?.items[key]?.name
    if (current === candidate.metadata.name) continue
    if (history.some((p) => p.spec.freight === candidate.metadata.name)) continue
    try {
      const promotion = await promoteToStage(deps, {
        project: stage.project,
        stage: stage.name,
        selector: { freight: candidate.metadata.name },
        actor: AUTO_PROMOTION_ACTOR,
        manual: false,
        // Overlapping reconciles must not both promote the same Freight here.
        onceKey: `auto-promotion/${stage.name}/${candidate.metadata.name}`,
      })
      created.push(promotion.metadata.name)
      log(
        `auto-promoting ${candidate.alias} (${candidate.metadata.name.slice(0, 7)}) to ${stage.project}/${stage.name}: ${promotion.metadata.name}`,
      )
      break // one Promotion at a time per Stage
    } catch (error) {
      if (error instanceof ConflictError) break // another reconcile created it first
      log(`auto-promotion to ${stage.project}/${stage.name} failed: ${messageOf(error)}`)
    }
  }
  return created
}
