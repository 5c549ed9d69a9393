import type { Actor } from '../auth/actor.js'
import { ConflictError } from '../errors.js'
import { freightInfo, promotionEvent } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import type { Db } from '../store/client.js'
import { findFreight } from '../store/freight.js'
import { asPromotion, requirePromotion, TERMINAL_PHASES, type Promotion } from '../store/promotions.js'
import { updateTogether } from '../store/resources.js'

/**
 * Asks a Promotion to stop. A Pending one is Aborted at once (and `promotion.aborted` is published with the
 * change); a Running one stops at its next step boundary, and the worker publishes the event when it finishes.
 * 409 when the Promotion has already finished.
 */
export async function abortPromotion(
  deps: { db: Db; now?: () => Date },
  input: { project: string; name: string; actor: Actor },
): Promise<Promotion> {
  const { project, name } = input
  const current = await requirePromotion(deps.db, project, name)
  if (TERMINAL_PHASES.includes(current.status.phase))
    throw new ConflictError(`Promotion ${name} already finished (${current.status.phase}); nothing to abort`)
  const now = deps.now?.() ?? new Date()
  const freight = await findFreight(deps.db, project, current.spec.freight)
  let abortedNow = false
  const [updated] = await updateTogether(
    deps.db,
    [
      {
        ref: { project, kind: 'Promotion', name },
        change: (resource) => {
          abortedNow = false
          const promotion = asPromotion(resource)
          if (TERMINAL_PHASES.includes(promotion.status.phase)) return undefined
          promotion.status.abortRequested = true
          if (promotion.status.phase === 'Pending') {
            abortedNow = true
            promotion.status.phase = 'Aborted'
            promotion.status.finishedAt = now.toISOString()
            promotion.status.message = `aborted by ${input.actor.name}`
          }
          return promotion
        },
      },
    ],
    8,
    () =>
      abortedNow
        ? outboxItems(deps.db, [
            promotionEvent(
              'aborted',
              {
                project,
                stage: current.spec.stage,
                promotion: { name, phase: 'Aborted', message: `aborted by ${input.actor.name}` },
                freight: freight ? freightInfo(freight) : { name: current.spec.freight },
                actor: input.actor.name,
              },
              { now },
            ),
          ])
        : [],
  )
  return updated ? asPromotion(updated) : await requirePromotion(deps.db, project, name)
}
