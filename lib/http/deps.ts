import type { Db } from '../store/client.js'
import type { Sealer } from '../store/sealing.js'

/** What the HTTP app needs from the outside world; handlers and tests build it. */
export interface AppDeps {
  db: Db
  sealer: Sealer
  /** SHA-256 of the bootstrap system-admin token (from TUGBOAT_ADMIN_TOKEN), if configured. */
  adminTokenHash?: string
  now?: () => Date
  /** Sends a Promotion to the promotions queue. */
  enqueuePromotion?: (message: { project: string; stage: string; promotion: string }) => Promise<void>
  /** Sends pending outbox events to the events queue (after requests that change state). */
  relayEvents?: () => Promise<unknown>
  /** The API's public base URL (TUGBOAT_PUBLIC_URL), for webhook receiver URLs in ProjectConfig.status. */
  publicUrl?: string
  /** Polls one Warehouse now; returns when done, with what it found. */
  refreshWarehouse?: (project: string, warehouse: string) => Promise<unknown>
}
