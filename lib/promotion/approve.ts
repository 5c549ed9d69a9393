import type { Actor } from '../auth/actor.js'
import { ValidationError } from '../errors.js'
import { freightApprovedEvent, freightInfo } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import type { Db } from '../store/client.js'
import { requireFreight, type Freight } from '../store/freight.js'
import { updateTogether } from '../store/resources.js'
import { requireStage } from '../store/stages.js'

/**
 * Kargo's manual approval: marks Freight as approved for a Stage, so the Stage may take it without it being
 * verified upstream. Approving twice is a no-op (and publishes nothing the second time); the first approval
 * publishes `freight.approved` in the same transaction as the change.
 */
export async function approveFreight(
  deps: { db: Db; now?: () => Date },
  input: { project: string; freight: string; stage: string; actor: Actor },
): Promise<Freight> {
  const { project, stage: stageName } = input
  const stage = await requireStage(deps.db, project, stageName)
  const target = await requireFreight(deps.db, project, input.freight)
  if (!stage.spec.requestedFreight.some((r) => r.origin.name === target.origin.name)) {
    throw new ValidationError(
      `Stage "${stageName}" does not request Freight from Warehouse "${target.origin.name}"`,
    )
  }
  const now = deps.now?.() ?? new Date()
  const [approved] = await updateTogether(
    deps.db,
    [
      {
        ref: { project, kind: 'Freight', name: target.metadata.name },
        change: (resource) => {
          const status = { ...(resource.status ?? {}) } as {
            approvedFor?: Record<string, { approvedAt?: string }>
          }
          if (status.approvedFor?.[stageName]) return undefined
          status.approvedFor = { ...status.approvedFor, [stageName]: { approvedAt: now.toISOString() } }
          return { ...resource, status }
        },
      },
    ],
    8,
    () =>
      outboxItems(deps.db, [
        freightApprovedEvent(
          { project, stage: stageName, freight: freightInfo(target), actor: input.actor.name },
          { now },
        ),
      ]),
  )
  return (approved as Freight | undefined) ?? target
}
