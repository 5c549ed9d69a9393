import { randomUUID } from 'node:crypto'
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb'
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb'
import { z } from 'zod'
import { ConflictError, NotFoundError } from '../errors.js'
import type { Db } from './client.js'
import { condition, isConditionFailure } from './conditions.js'
import { indexAttributes } from './indexes.js'
import { keys } from './table.js'

/** A resource as Tugboat stores and returns it: Kargo's shape, with server-set metadata. */
export const StoredResourceSchema = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z
      .object({
        name: z.string(),
        namespace: z.string().optional(),
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
        resourceVersion: z.string(),
        uid: z.string(),
        generation: z.number().int(),
        creationTimestamp: z.string(),
      })
      .passthrough(),
    spec: z.unknown().optional(),
    status: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
export type StoredResource = z.infer<typeof StoredResourceSchema>

const ItemSchema = z.object({
  PK: z.string(),
  SK: z.string(),
  kind: z.string(),
  version: z.number().int(),
  resource: StoredResourceSchema,
})

/** Secondary-index attributes an item may carry (see table.ts). */
export interface IndexAttributes {
  GSI1PK?: string
  GSI1SK?: string
  GSI2PK?: string
  GSI2SK?: string
  expiresAt?: number
}

export interface ResourceRef {
  project: string
  kind: string
  name: string
}

function itemKey(ref: ResourceRef): { PK: string; SK: string } {
  return ref.kind === 'Project' ? keys.project(ref.name) : keys.resource(ref.project, ref.kind, ref.name)
}

function parseItem(item: Record<string, NativeAttributeValue> | undefined): StoredResource | undefined {
  if (!item) return undefined
  return ItemSchema.parse(item).resource
}

/** Reads one resource, or undefined. */
export async function getResource(db: Db, ref: ResourceRef): Promise<StoredResource | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: itemKey(ref), ConsistentRead: true }),
  )
  return parseItem(Item)
}

/** Reads one resource or throws NotFoundError naming it. */
export async function requireResource(db: Db, ref: ResourceRef): Promise<StoredResource> {
  const found = await getResource(db, ref)
  if (!found) {
    const where = ref.kind === 'Project' ? '' : ` in project "${ref.project}"`
    throw new NotFoundError(`${ref.kind} "${ref.name}" not found${where}`, { data: { ...ref } })
  }
  return found
}

/** Lists every resource of a kind in a project (Query on the project's partition, all pages). */
export async function listResources(db: Db, project: string, kind: string): Promise<StoredResource[]> {
  const partition =
    kind === 'Project'
      ? { PK: keys.projectList().PK, prefix: 'Project#' }
      : keys.resourcePrefix(project, kind)
  const out: StoredResource[] = []
  let ExclusiveStartKey: Record<string, NativeAttributeValue> | undefined
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': partition.PK, ':prefix': partition.prefix },
        ExclusiveStartKey,
      }),
    )
    for (const item of page.Items ?? []) out.push(ItemSchema.parse(item).resource)
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey)
  return out
}

/** Lists resources through GSI1 in index order (e.g. a Stage's Promotions by creation). */
export async function queryIndex(
  db: Db,
  index: 'GSI1' | 'GSI2',
  partition: string,
  options: { newestFirst?: boolean; limit?: number; upTo?: string } = {},
): Promise<StoredResource[]> {
  const out: StoredResource[] = []
  let ExclusiveStartKey: Record<string, NativeAttributeValue> | undefined
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        IndexName: index,
        KeyConditionExpression: options.upTo
          ? `${index}PK = :pk AND ${index}SK <= :upTo`
          : `${index}PK = :pk`,
        ExpressionAttributeValues: { ':pk': partition, ...(options.upTo ? { ':upTo': options.upTo } : {}) },
        ScanIndexForward: !options.newestFirst,
        ExclusiveStartKey,
        ...(options.limit ? { Limit: options.limit - out.length } : {}),
      }),
    )
    for (const item of page.Items ?? []) out.push(ItemSchema.parse(item).resource)
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey && (!options.limit || out.length < options.limit))
  return out
}

/** A resource about to be written; server-set metadata is filled in by `nextVersion`. */
export interface NewResource {
  apiVersion: string
  kind: string
  metadata: Partial<StoredResource['metadata']> & { name: string }
  spec?: unknown
  status?: Record<string, unknown>
  [field: string]: unknown
}

export interface WriteResource {
  ref: ResourceRef
  resource: NewResource
  /** 'absent' to create only; a number to require that version; undefined for create-or-replace. */
  expect?: 'absent' | number
}

/** Fills server-set metadata for the next version of a resource. */
export function nextVersion(
  input: WriteResource,
  previous?: StoredResource,
  now = new Date(),
): StoredResource {
  const version = previous ? Number(previous.metadata.resourceVersion) + 1 : 1
  const specChanged = JSON.stringify(previous?.spec) !== JSON.stringify(input.resource.spec)
  return {
    ...input.resource,
    metadata: {
      ...input.resource.metadata,
      ...(input.ref.kind === 'Project' ? {} : { namespace: input.ref.project }),
      resourceVersion: String(version),
      uid: previous?.metadata.uid ?? input.resource.metadata.uid ?? randomUUID(),
      generation: previous ? previous.metadata.generation + (specChanged ? 1 : 0) : 1,
      creationTimestamp: previous?.metadata.creationTimestamp ?? now.toISOString(),
    },
  }
}

/** The Put of a transaction item for a resource write; pair with `writeAll`. */
export function putItem(db: Db, input: WriteResource, stored: StoredResource) {
  const version = Number(stored.metadata.resourceVersion)
  const expectation =
    input.expect === 'absent'
      ? condition.absent
      : typeof input.expect === 'number'
        ? condition.atVersion(input.expect)
        : {}
  return {
    TableName: db.table,
    Item: {
      ...itemKey(input.ref),
      kind: input.ref.kind,
      version,
      resource: stored,
      ...indexAttributes(input.ref, stored),
    },
    ...expectation,
  }
}

function conflictFor(input: WriteResource): ConflictError {
  const { kind, name, project } = input.ref
  return input.expect === 'absent'
    ? new ConflictError(
        `${kind} "${name}" already exists${kind === 'Project' ? '' : ` in project "${project}"`}`,
      )
    : new ConflictError(
        `${kind} "${name}" was changed by someone else (expected resourceVersion ${String(input.expect)}); read it again and retry`,
      )
}

/** Writes one resource with its precondition. Returns what was stored. */
export async function writeResource(
  db: Db,
  input: WriteResource,
  previous?: StoredResource,
): Promise<StoredResource> {
  const stored = nextVersion(input, previous)
  try {
    await db.doc.send(new PutCommand(putItem(db, input, stored)))
  } catch (error) {
    if (isConditionFailure(error)) throw conflictFor(input)
    throw error
  }
  return stored
}

/** A raw transaction item, for callers that must change several things at once. */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number]

/** Writes several items atomically (TransactWriteItems). A failed precondition throws ConflictError. */
export async function writeAll(db: Db, items: TransactItem[], conflictMessage: string): Promise<void> {
  if (items.length === 0) return
  try {
    await db.doc.send(new TransactWriteCommand({ TransactItems: items }))
  } catch (error) {
    if (isConditionFailure(error)) throw new ConflictError(conflictMessage, { cause: error })
    throw error
  }
}

/**
 * Read-modify-write of one resource with optimistic concurrency, retried on conflicts.
 * `change` returns the new resource (or undefined to leave it alone) and may run more than once.
 */
export async function updateResource(
  db: Db,
  ref: ResourceRef,
  change: (current: StoredResource) => StoredResource | undefined,
  options: { attempts?: number } = {},
): Promise<StoredResource> {
  const attempts = options.attempts ?? 8
  for (let attempt = 1; ; attempt++) {
    const current = await requireResource(db, ref)
    const next = change(structuredClone(current))
    if (!next) return current
    const input: WriteResource = {
      ref,
      resource: next,
      expect: Number(current.metadata.resourceVersion),
    }
    try {
      return await writeResource(db, input, current)
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20))
    }
  }
}

/** Deletes one resource; NotFoundError if it is not there. */
export async function deleteResource(db: Db, ref: ResourceRef): Promise<void> {
  try {
    await db.doc.send(new DeleteCommand({ TableName: db.table, Key: itemKey(ref), ...condition.present }))
  } catch (error) {
    if (isConditionFailure(error))
      throw new NotFoundError(`${ref.kind} "${ref.name}" not found`, { data: { ...ref } })
    throw error
  }
}

/** One resource to change inside `updateTogether`. `change` returns the new resource, or undefined for no change. */
export interface ResourceChange {
  ref: ResourceRef
  change: (current: StoredResource) => StoredResource | undefined
  /** Skip instead of failing when the resource does not exist. */
  optional?: boolean
}

/**
 * Read-modify-write of several resources in one transaction, each guarded by its version, retried with
 * fresh reads on conflict. Either every change lands or none does. Returns the resources as written.
 */
export async function updateTogether(
  db: Db,
  changes: ResourceChange[],
  attempts = 8,
  /** Extra items written in the same transaction (e.g. outbox events), given what is about to be written. */
  alsoWrite?: (written: StoredResource[]) => TransactItem[],
): Promise<StoredResource[]> {
  for (let attempt = 1; ; attempt++) {
    const items: TransactItem[] = []
    const written: StoredResource[] = []
    for (const { ref, change, optional } of changes) {
      const current = optional ? await getResource(db, ref) : await requireResource(db, ref)
      if (!current) continue
      const next = change(structuredClone(current))
      if (!next) continue
      const input: WriteResource = { ref, resource: next, expect: Number(current.metadata.resourceVersion) }
      const stored = nextVersion(input, current)
      items.push({ Put: putItem(db, input, stored) })
      written.push(stored)
    }
    if (items.length > 0 && alsoWrite) items.push(...alsoWrite(written))
    try {
      await writeAll(db, items, 'conflicting change')
      return written
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20))
    }
  }
}
