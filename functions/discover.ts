import { runtimeContext } from '../lib/runtime/context.js'
import { pollAll } from '../lib/runtime/services.js'

/** Scheduled: polls every due Warehouse (a Query on the due index), each claimed with a lease. */
export async function main(): Promise<{ polled: number; failed: number }> {
  const results = await pollAll(runtimeContext())
  return { polled: results.length, failed: results.filter((r) => !r.ok).length }
}
