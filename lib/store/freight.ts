import { GetCommand } from '@aws-sdk/lib-dynamodb'
import { z } from 'zod'
import { ConflictError, NotFoundError } from '../errors.js'
import { KARGO_API_VERSION } from '../model/meta.js'
import type { FreightChart, FreightCommit, FreightImage, FreightOrigin } from '../model/resources.js'
import type { Db } from './client.js'
import { condition } from './conditions.js'
import {
  getResource,
  listResources,
  nextVersion,
  putItem,
  queryIndex,
  writeAll,
  type StoredResource,
  type TransactItem,
  type WriteResource,
} from './resources.js'
import { keys } from './table.js'

export const ALIAS_LABEL = 'kargo.akuity.io/alias'

/** Freight as stored: Kargo's Freight resource (top-level artifacts, status with verifiedIn/approvedFor/currentlyIn). */
export interface Freight extends StoredResource {
  alias: string
  origin: FreightOrigin
  commits?: FreightCommit[]
  images?: FreightImage[]
  charts?: FreightChart[]
  discoveredAt?: string
  status?: FreightStatus
}

export const FreightStatusSchema = z
  .object({
    verifiedIn: z
      .record(z.string(), z.object({ verifiedAt: z.string().optional(), longestSoak: z.string().optional() }))
      .optional(),
    approvedFor: z.record(z.string(), z.object({ approvedAt: z.string().optional() })).optional(),
    currentlyIn: z.record(z.string(), z.object({ since: z.string().optional() })).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
export type FreightStatus = z.infer<typeof FreightStatusSchema>

const FreightFieldsSchema = z
  .object({
    alias: z.string(),
    origin: z.object({ kind: z.string(), name: z.string() }),
    commits: z.array(z.record(z.string(), z.unknown())).optional(),
    images: z.array(z.record(z.string(), z.unknown())).optional(),
    charts: z.array(z.record(z.string(), z.unknown())).optional(),
    status: FreightStatusSchema.optional(),
  })
  .passthrough()

/** Checks a stored resource really is Freight and types it. */
export function asFreight(resource: StoredResource): Freight {
  FreightFieldsSchema.parse(resource)
  return resource as Freight
}

export interface NewFreight {
  project: string
  name: string
  alias: string
  origin: FreightOrigin
  commits?: FreightCommit[]
  images?: FreightImage[]
  charts?: FreightChart[]
  discoveredAt: Date
}

/**
 * Creates Freight with a conditional put on its fingerprint name, claiming its alias in the same transaction.
 * Returns `{created: false}` with the existing Freight when it was discovered before (idempotent).
 * Throws ConflictError with `data.reason = 'alias'` when only the alias is taken, so the caller picks another.
 */
export async function createFreight(
  db: Db,
  input: NewFreight,
  /** Extra items for the same transaction (outbox events), given the Freight about to be created. */
  alsoWrite: (freight: Freight) => TransactItem[] = () => [],
): Promise<{ created: boolean; freight: Freight }> {
  const existing = await getResource(db, { project: input.project, kind: 'Freight', name: input.name })
  if (existing) return { created: false, freight: asFreight(existing) }
  const discoveredAt = input.discoveredAt.toISOString()
  const write: WriteResource = {
    ref: { project: input.project, kind: 'Freight', name: input.name },
    resource: {
      apiVersion: KARGO_API_VERSION,
      kind: 'Freight',
      metadata: { name: input.name, labels: { [ALIAS_LABEL]: input.alias } },
      alias: input.alias,
      origin: input.origin,
      ...(input.commits?.length ? { commits: input.commits } : {}),
      ...(input.images?.length ? { images: input.images } : {}),
      ...(input.charts?.length ? { charts: input.charts } : {}),
      discoveredAt,
      status: {},
    },
    expect: 'absent',
  }
  const stored = nextVersion(write, undefined, input.discoveredAt)
  try {
    await writeAll(
      db,
      [
        { Put: putItem(db, write, stored) },
        {
          Put: {
            TableName: db.table,
            Item: {
              ...keys.resource(input.project, 'FreightAlias', input.alias),
              kind: 'FreightAlias',
              freight: input.name,
            },
            ...condition.absent,
          },
        },
        ...alsoWrite(asFreight(stored)),
      ],
      'freight or alias already exists',
    )
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error
    const raced = await getResource(db, { project: input.project, kind: 'Freight', name: input.name })
    if (raced) return { created: false, freight: asFreight(raced) }
    throw new ConflictError(`alias "${input.alias}" is taken in project "${input.project}"`, {
      data: { reason: 'alias' },
    })
  }
  return { created: true, freight: asFreight(stored) }
}

/** Finds Freight by name or alias. */
export async function findFreight(
  db: Db,
  project: string,
  nameOrAlias: string,
): Promise<Freight | undefined> {
  const byName = await getResource(db, { project, kind: 'Freight', name: nameOrAlias })
  if (byName) return asFreight(byName)
  const { Item } = await db.doc.send(
    new GetCommand({
      TableName: db.table,
      Key: keys.resource(project, 'FreightAlias', nameOrAlias),
      ConsistentRead: true,
    }),
  )
  const name = z.object({ freight: z.string() }).optional().parse(Item)?.freight
  if (!name) return undefined
  const byAlias = await getResource(db, { project, kind: 'Freight', name })
  return byAlias ? asFreight(byAlias) : undefined
}

export async function requireFreight(db: Db, project: string, nameOrAlias: string): Promise<Freight> {
  const found = await findFreight(db, project, nameOrAlias)
  if (!found)
    throw new NotFoundError(`Freight "${nameOrAlias}" not found in project "${project}" (by name or alias)`)
  return found
}

/** Freight newest first; with `warehouses`, only Freight from those origins. */
export async function listFreight(
  db: Db,
  project: string,
  filter: { warehouses?: string[]; limit?: number } = {},
): Promise<Freight[]> {
  let items: StoredResource[]
  if (filter.warehouses?.length) {
    const perWarehouse = await Promise.all(
      filter.warehouses.map((w) =>
        queryIndex(db, 'GSI1', keys.warehouseFreight(project, w), {
          newestFirst: true,
          ...(filter.limit ? { limit: filter.limit } : {}),
        }),
      ),
    )
    items = perWarehouse.flat()
  } else {
    items = await listResources(db, project, 'Freight')
  }
  const freight = items.map(asFreight)
  freight.sort(
    (a, b) =>
      (b.discoveredAt ?? '').localeCompare(a.discoveredAt ?? '') ||
      (a.metadata.name < b.metadata.name ? -1 : 1),
  )
  return filter.limit ? freight.slice(0, filter.limit) : freight
}
