import { relayPending } from '../lib/events/outbox.js'
import { runtimeContext } from '../lib/runtime/context.js'
import { pollAll } from '../lib/runtime/discovery.js'

/** Scheduled: polls every due Warehouse (a Query on the due index), each claimed with a lease. */
export async function main(): Promise<{ polled: number; failed: number }> {
  const ctx = runtimeContext()
  const results = await pollAll(ctx)
  await relayPending({ db: ctx.db, sqs: ctx.sqs, log: (line) => console.log(line) })
  return { polled: results.length, failed: results.filter((r) => !r.ok).length }
}
