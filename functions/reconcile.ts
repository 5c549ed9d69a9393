import { reconcileAll } from '../lib/reconcile/reconcile.js'
import { runtimeContext } from '../lib/runtime/context.js'
import { reconcileDeps } from '../lib/runtime/services.js'

/** Scheduled: Stage health and verification, stalled Promotions, auto-promotion, for every project. */
export async function main(): Promise<void> {
  await reconcileAll(reconcileDeps(runtimeContext()))
}
