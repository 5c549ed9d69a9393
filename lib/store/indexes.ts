import type { IndexAttributes, ResourceRef, StoredResource } from './resources.js'
import { keys } from './table.js'

/** Promotion names are `<stage>.<ulid>.<freight7>`; the ULID gives creation order. */
function promotionOrder(stage: string, name: string): string {
  const ulid = name.startsWith(`${stage}.`) ? (name.slice(stage.length + 1).split('.')[0] ?? name) : name
  return `${ulid}#${name}`
}

/**
 * The secondary-index attributes of a resource, derived from the resource itself on every write, so a
 * read-modify-write can never drop them:
 * - Freight: GSI1 = its Warehouse's Freight, by discovery time.
 * - Promotion: GSI1 = its Stage's Promotions, by creation (ULID).
 * - Warehouse: GSI2 = due Warehouses, by `status.nextDiscoveryAt` (due at once when unset).
 */
export function indexAttributes(ref: ResourceRef, resource: StoredResource): IndexAttributes {
  const r = resource as StoredResource & {
    origin?: { name?: string }
    discoveredAt?: string
    spec?: { stage?: string }
    status?: { nextDiscoveryAt?: string }
  }
  switch (ref.kind) {
    case 'Freight':
      return r.origin?.name
        ? {
            GSI1PK: keys.warehouseFreight(ref.project, r.origin.name),
            GSI1SK: `${r.discoveredAt ?? ''}#${ref.name}`,
          }
        : {}
    case 'Promotion':
      return r.spec?.stage
        ? {
            GSI1PK: keys.stagePromotions(ref.project, r.spec.stage),
            GSI1SK: promotionOrder(r.spec.stage, ref.name),
          }
        : {}
    case 'Warehouse':
      return {
        GSI2PK: keys.dueWarehouses,
        GSI2SK: `${r.status?.nextDiscoveryAt ?? '0000-00-00T00:00:00.000Z'}#${ref.project}/${ref.name}`,
      }
    default:
      return {}
  }
}
