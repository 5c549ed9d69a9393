import { createTokenCache } from '../discovery/oci/registry-client.js'
import { pollDueWarehouses, pollWarehouse, type PollDeps } from '../discovery/poller.js'
import { reconcileProject } from '../reconcile/reconcile.js'
import { findCredential } from '../store/credentials.js'
import type { RuntimeContext } from './context.js'
import { reconcileDeps } from './services.js'

// One per container: registry tokens are reused across polls until they expire.
const tokenCache = createTokenCache()

/** Discovery wired to the store: credentials, the registry token cache, and auto-promotion of new Freight. */
export function pollDeps(ctx: RuntimeContext): PollDeps {
  return {
    db: ctx.db,
    credentials: async (project, type, repoURL) => {
      const found = await findCredential(ctx.db, ctx.sealer, project, type, repoURL)
      return found?.data.username !== undefined && found.data.password !== undefined
        ? { username: found.data.username, password: found.data.password }
        : undefined
    },
    minIntervalMs: ctx.config.TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS * 1000,
    tokenCache,
    log: (line) => console.log(line),
    onFreight: async (project) => {
      await reconcileProject(reconcileDeps(ctx), project)
    },
  }
}

export const pollAll = (ctx: RuntimeContext) => pollDueWarehouses(pollDeps(ctx))
export const pollOne = (ctx: RuntimeContext, project: string, warehouse: string) =>
  pollWarehouse(pollDeps(ctx), project, warehouse, { force: true })
