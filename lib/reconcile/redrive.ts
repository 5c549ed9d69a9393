import type { Db } from '../store/client.js'
import { listStagePromotions, TERMINAL_PHASES } from '../store/promotions.js'
import type { Stage } from '../store/stages.js'

/** A Promotion untouched for this long, with no live lease, is re-queued (its message may have been lost). */
export const REDRIVE_AFTER_MS = 10 * 60_000

/**
 * Re-sends the oldest unfinished Promotion of a Stage when nothing has touched it for a while and no
 * worker holds it: covers a send that failed after the Promotion was saved, or a local restart that
 * lost the in-memory queue. Duplicate messages are harmless (the worker is idempotent).
 */
export async function redriveStalled(
  db: Db,
  stage: Stage,
  enqueue: (message: { project: string; stage: string; promotion: string }, nonce: string) => Promise<void>,
  now: Date,
  stalledAfterMs = REDRIVE_AFTER_MS,
): Promise<string | undefined> {
  const open = (await listStagePromotions(db, stage.project, stage.name)).filter(
    (p) => !TERMINAL_PHASES.includes(p.status.phase),
  )
  const oldest = open[0]
  if (!oldest) return undefined
  const lease = oldest.status.lease
  if (lease && Date.parse(lease.until) > now.getTime()) return undefined
  const touched = Date.parse(
    oldest.status.lastTouchedAt ?? oldest.status.startedAt ?? oldest.metadata.creationTimestamp,
  )
  if (now.getTime() - touched < stalledAfterMs) return undefined
  await enqueue(
    { project: stage.project, stage: stage.name, promotion: oldest.metadata.name },
    String(now.getTime()),
  )
  return oldest.metadata.name
}
