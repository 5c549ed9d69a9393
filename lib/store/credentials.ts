import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { z } from 'zod'
import { NotFoundError } from '../errors.js'
import type { CredentialType } from '../model/resources.js'
import { compileRe2 } from '../regex/re2.js'
import type { Db } from './client.js'
import { condition, isConditionFailure } from './conditions.js'
import type { Sealer } from './sealing.js'
import { keys } from './table.js'

/** Repository credentials: write-only. Only the engine reads them back, and never returns them. */
export interface Credential {
  name: string
  type: CredentialType
  repoURL?: string
  repoURLIsRegex: boolean
  data: Record<string, string>
}

const ItemSchema = z.object({
  name: z.string(),
  credType: z.enum(['git', 'image', 'helm', 'generic', 'argocd']),
  repoURL: z.string().optional(),
  repoURLIsRegex: z.boolean(),
  sealed: z.string(),
})

const KIND = 'Credential'

/** Stores (creates or replaces) one credential, sealing its data. */
export async function putCredential(
  db: Db,
  sealer: Sealer,
  project: string,
  credential: Credential,
): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...keys.resource(project, KIND, credential.name),
        kind: KIND,
        name: credential.name,
        credType: credential.type,
        repoURL: credential.repoURL,
        repoURLIsRegex: credential.repoURLIsRegex,
        sealed: sealer.seal(JSON.stringify(credential.data)),
      },
    }),
  )
}

export async function credentialExists(db: Db, project: string, name: string): Promise<boolean> {
  const { Item } = await db.doc.send(
    new GetCommand({
      TableName: db.table,
      Key: keys.resource(project, KIND, name),
      ProjectionExpression: 'PK',
    }),
  )
  return Boolean(Item)
}

export async function deleteCredential(db: Db, project: string, name: string): Promise<void> {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: keys.resource(project, KIND, name),
        ...condition.present,
      }),
    )
  } catch (error) {
    if (isConditionFailure(error))
      throw new NotFoundError(`Secret "${name}" not found in project "${project}"`)
    throw error
  }
}

type CredentialItem = z.infer<typeof ItemSchema>

/** Every credential item of a project (sealed), every page. */
async function credentialItems(db: Db, project: string): Promise<CredentialItem[]> {
  const items: CredentialItem[] = []
  let ExclusiveStartKey: Record<string, unknown> | undefined
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.resource(project, KIND, '').PK, ':prefix': `${KIND}#` },
        ExclusiveStartKey,
      }),
    )
    items.push(...(page.Items ?? []).map((item) => ItemSchema.parse(item)))
    ExclusiveStartKey = page.LastEvaluatedKey
  } while (ExclusiveStartKey)
  return items
}

function unsealed(sealer: Sealer, item: CredentialItem): Credential {
  return {
    name: item.name,
    type: item.credType,
    ...(item.repoURL ? { repoURL: item.repoURL } : {}),
    repoURLIsRegex: item.repoURLIsRegex,
    data: z.record(z.string(), z.string()).parse(JSON.parse(sealer.open(item.sealed))),
  }
}

/** Names and types only: safe to show. */
export async function listCredentialNames(
  db: Db,
  project: string,
): Promise<Array<{ name: string; type: CredentialType; repoURL?: string }>> {
  return (await credentialItems(db, project)).map((item) => ({
    name: item.name,
    type: item.credType,
    ...(item.repoURL ? { repoURL: item.repoURL } : {}),
  }))
}

/** One credential (a Secret) by name, unsealed; undefined when the project has no such Secret. */
export async function getCredential(
  db: Db,
  sealer: Sealer,
  project: string,
  name: string,
): Promise<Credential | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: keys.resource(project, KIND, name), ConsistentRead: true }),
  )
  return Item ? unsealed(sealer, ItemSchema.parse(Item)) : undefined
}

function normaliseForMatch(url: string): string {
  return url
    .trim()
    .toLowerCase()
    .replace(/^[a-z+]+:\/\//, '')
    .replace(/^[^@/]+@/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
}

/** The project's credential of a type that is not tied to a repository (e.g. `argocd`), first by name. */
export async function findCredentialOfType(
  db: Db,
  sealer: Sealer,
  project: string,
  type: CredentialType,
): Promise<Credential | undefined> {
  const match = (await credentialItems(db, project)).find((c) => c.credType === type)
  return match ? unsealed(sealer, match) : undefined
}

/**
 * Finds the credential for a repository URL, Kargo-style: an exact (normalised) repoURL match wins,
 * then the first regex match in name order.
 */
export async function findCredential(
  db: Db,
  sealer: Sealer,
  project: string,
  type: CredentialType,
  repoURL: string,
): Promise<Credential | undefined> {
  const candidates = (await credentialItems(db, project)).filter((c) => c.credType === type && c.repoURL)
  const wanted = normaliseForMatch(repoURL)
  const exact = candidates.find((c) => !c.repoURLIsRegex && normaliseForMatch(c.repoURL!) === wanted)
  const match =
    exact ??
    candidates
      .filter((c) => c.repoURLIsRegex)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .find((c) => compileRe2(c.repoURL!, 'repoURL').test(repoURL))
  return match ? unsealed(sealer, match) : undefined
}
