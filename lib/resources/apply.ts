import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js'
import { parseManifests, type ParsedManifest } from '../model/manifests.js'
import { CRED_TYPE_LABEL, CredentialTypeSchema, type SecretManifest } from '../model/resources.js'
import { defaultSemanticChecks } from '../model/semantic-checks.js'
import type { Db } from '../store/client.js'
import {
  getResource,
  nextVersion,
  putItem,
  writeAll,
  type StoredResource,
  type TransactItem,
  type WriteResource,
} from '../store/resources.js'
import { keys } from '../store/table.js'
import { credentialExists } from '../store/credentials.js'
import type { Sealer } from '../store/sealing.js'
import { condition } from '../store/conditions.js'
import type { Actor } from '../auth/actor.js'
import { canAdminister } from '../auth/actor.js'

/** DynamoDB transactions take at most 100 items; one apply stays inside one transaction. */
export const MAX_DOCUMENTS_PER_REQUEST = 100

export type ApplyMode = 'create' | 'update' | 'upsert'

/** One document's outcome, in Kargo's CreateOrUpdateResourceResult shape. */
export interface ApplyResult {
  createdResourceManifest?: Record<string, unknown>
  updatedResourceManifest?: Record<string, unknown>
  deletedResourceManifest?: Record<string, unknown>
  error?: string
}

export interface ApplyDeps {
  db: Db
  sealer: Sealer
  now?: () => Date
}

function summary(doc: ParsedManifest): Record<string, unknown> {
  // What a result echoes back. Secrets are reduced to their identity: data never leaves the store.
  if (doc.kind === 'Secret') {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: doc.name, namespace: doc.project, labels: doc.manifest.metadata.labels },
    }
  }
  return doc.manifest as unknown as Record<string, unknown>
}

function secretData(secret: SecretManifest): Record<string, string> {
  const data: Record<string, string> = {}
  for (const [key, value] of Object.entries(secret.data ?? {}))
    data[key] = Buffer.from(value, 'base64').toString('utf8')
  return { ...data, ...secret.stringData }
}

function authorize(actor: Actor, docs: ParsedManifest[]): void {
  for (const doc of docs) {
    if (doc.kind === 'Project' && actor.role !== 'system-admin') {
      throw new ForbiddenError(
        `only a system admin can create, change or delete Projects (Project "${doc.name}")`,
      )
    }
    if (!canAdminister(actor, doc.project)) {
      throw new ForbiddenError(
        `role ${actor.role} cannot change resources in project "${doc.project}" (kargo-admin needed)`,
      )
    }
  }
}

/** Parses, authorises and validates a manifest text; throws before anything is written. */
export function prepareManifests(text: string, actor: Actor, defaultProject?: string): ParsedManifest[] {
  const docs = parseManifests(text, {
    ...(defaultProject ? { defaultProject } : {}),
    semanticChecks: defaultSemanticChecks,
  })
  if (docs.length > MAX_DOCUMENTS_PER_REQUEST) {
    throw new ValidationError(
      `at most ${MAX_DOCUMENTS_PER_REQUEST} documents per request (got ${docs.length}); split the file`,
    )
  }
  const seen = new Set<string>()
  for (const doc of docs) {
    const id = `${doc.project}/${doc.kind}/${doc.name}`
    if (seen.has(id)) throw new ValidationError(`${doc.kind} "${doc.name}" appears twice in the manifest`)
    seen.add(id)
  }
  authorize(actor, docs)
  return docs
}

function resourceRef(doc: ParsedManifest) {
  return { project: doc.project, kind: doc.kind, name: doc.name }
}

/**
 * Creates and/or updates every document in one transaction: all of them land, or none.
 * Projects named in the same request count as existing for the documents after them.
 */
export async function applyManifests(
  deps: ApplyDeps,
  docs: ParsedManifest[],
  mode: ApplyMode,
): Promise<ApplyResult[]> {
  const now = deps.now?.() ?? new Date()
  const items: TransactItem[] = []
  const results: ApplyResult[] = []
  const projectsInRequest = new Set(docs.filter((d) => d.kind === 'Project').map((d) => d.name))
  const knownProjects = new Map<string, boolean>()
  const projectExists = async (project: string) => {
    if (projectsInRequest.has(project)) return true
    if (!knownProjects.has(project)) {
      knownProjects.set(
        project,
        Boolean(await getResource(deps.db, { project, kind: 'Project', name: project })),
      )
    }
    return knownProjects.get(project)!
  }

  for (const doc of docs) {
    if (doc.kind !== 'Project' && !(await projectExists(doc.project))) {
      throw new NotFoundError(
        `project "${doc.project}" does not exist; apply its Project first (${doc.kind} "${doc.name}")`,
      )
    }
    if (doc.kind === 'Secret') {
      const credType = CredentialTypeSchema.parse(doc.manifest.metadata.labels[CRED_TYPE_LABEL])
      const data = secretData(doc.manifest)
      const { repoURL, repoURLIsRegex, ...rest } = data
      items.push({
        Put: {
          TableName: deps.db.table,
          Item: {
            ...keys.resource(doc.project, 'Credential', doc.name),
            kind: 'Credential',
            name: doc.name,
            credType,
            ...(repoURL ? { repoURL } : {}),
            repoURLIsRegex: repoURLIsRegex === 'true',
            sealed: deps.sealer.seal(JSON.stringify({ ...rest, ...(repoURL ? { repoURL } : {}) })),
          },
        },
      })
      const existed = await credentialExists(deps.db, doc.project, doc.name)
      if (mode === 'create' && existed)
        throw new ConflictError(
          `Secret "${doc.name}" already exists in project "${doc.project}"; use apply or update`,
        )
      if (mode === 'update' && !existed)
        throw new NotFoundError(`Secret "${doc.name}" not found in project "${doc.project}"; create it first`)
      results.push({ [existed ? 'updatedResourceManifest' : 'createdResourceManifest']: summary(doc) })
      continue
    }

    const ref = resourceRef(doc)
    const previous = await getResource(deps.db, ref)
    if (mode === 'create' && previous) {
      throw new ConflictError(
        `${doc.kind} "${doc.name}" already exists${doc.kind === 'Project' ? '' : ` in project "${doc.project}"`}; use apply or update`,
      )
    }
    if (mode === 'update' && !previous) {
      throw new NotFoundError(
        `${doc.kind} "${doc.name}" not found${doc.kind === 'Project' ? '' : ` in project "${doc.project}"`}; create it first`,
      )
    }
    const requested = doc.manifest.metadata.resourceVersion
    if (requested !== undefined && previous && requested !== previous.metadata.resourceVersion) {
      throw new ConflictError(
        `${doc.kind} "${doc.name}" is at resourceVersion ${previous.metadata.resourceVersion}, not ${requested}; read it again and retry`,
      )
    }
    const {
      resourceVersion: _rv,
      uid: _uid,
      generation: _g,
      creationTimestamp: _c,
      managedFields: _m,
      ...meta
    } = doc.manifest.metadata
    const input: WriteResource = {
      ref,
      resource: {
        ...(doc.manifest as unknown as Record<string, unknown>),
        apiVersion: doc.manifest.apiVersion,
        kind: doc.kind,
        metadata: meta,
        ...(previous?.status ? { status: previous.status } : {}),
      },
      expect: previous ? Number(previous.metadata.resourceVersion) : 'absent',
    }
    const stored = nextVersion(input, previous, now)
    items.push({ Put: putItem(deps.db, input, stored) })
    results.push(previous ? { updatedResourceManifest: stored } : { createdResourceManifest: stored })
  }
  await writeAll(
    deps.db,
    items,
    'another change to the same resources landed first; nothing was applied, retry',
  )
  return results
}

/** Deletes every document's resource in one transaction. A Project must be empty of the documents' kinds first. */
export async function deleteManifests(deps: ApplyDeps, docs: ParsedManifest[]): Promise<ApplyResult[]> {
  const items: TransactItem[] = []
  const results: ApplyResult[] = []
  for (const doc of docs) {
    if (doc.kind === 'Secret') {
      items.push({
        Delete: {
          TableName: deps.db.table,
          Key: keys.resource(doc.project, 'Credential', doc.name),
          ...condition.present,
        },
      })
      results.push({ deletedResourceManifest: summary(doc) })
      continue
    }
    const ref = resourceRef(doc)
    const previous = await getResource(deps.db, ref)
    if (!previous) {
      throw new NotFoundError(
        `${doc.kind} "${doc.name}" not found${doc.kind === 'Project' ? '' : ` in project "${doc.project}"`}`,
      )
    }
    items.push({
      Delete: {
        TableName: deps.db.table,
        Key: doc.kind === 'Project' ? keys.project(doc.name) : keys.resource(doc.project, doc.kind, doc.name),
        ...condition.atVersion(Number(previous.metadata.resourceVersion)),
      },
    })
    results.push({ deletedResourceManifest: previous as StoredResource })
  }
  await writeAll(deps.db, items, 'a resource changed while it was being deleted; nothing was deleted, retry')
  return results
}
