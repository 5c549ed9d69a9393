import { reconcileAll } from '../lib/reconcile/reconcile.js'
import { relayPending } from '../lib/events/outbox.js'
import { runtimeContext } from '../lib/runtime/context.js'
import { reconcileDeps } from '../lib/runtime/services.js'

/** Scheduled: Stage health and verification, stalled Promotions, auto-promotion, for every project. */
export async function main(): Promise<void> {
  const ctx = runtimeContext()
  await reconcileAll(reconcileDeps(ctx))
  // Also the safety net for events whose writer crashed before relaying them.
  await relayPending({ db: ctx.db, sqs: ctx.sqs, log: (line) => console.log(line) })
}
