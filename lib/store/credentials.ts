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

/** Names and types only: safe to show. */
export async function listCredentialNames(
  db: Db,
  project: string,
): Promise<Array<{ name: string; type: CredentialType; repoURL?: string }>> {
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.resource(project, KIND, '').PK, ':prefix': `${KIND}#` },
    }),
  )
  return (page.Items ?? []).map((item) => {
    const parsed = ItemSchema.parse(item)
    return {
      name: parsed.name,
      type: parsed.credType,
      ...(parsed.repoURL ? { repoURL: parsed.repoURL } : {}),
    }
  })
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
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.resource(project, KIND, '').PK, ':prefix': `${KIND}#` },
    }),
  )
  const match = (page.Items ?? []).map((item) => ItemSchema.parse(item)).find((c) => c.credType === type)
  if (!match) return undefined
  return {
    name: match.name,
    type: match.credType,
    ...(match.repoURL ? { repoURL: match.repoURL } : {}),
    repoURLIsRegex: match.repoURLIsRegex,
    data: z.record(z.string(), z.string()).parse(JSON.parse(sealer.open(match.sealed))),
  }
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
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.resource(project, KIND, '').PK, ':prefix': `${KIND}#` },
    }),
  )
  const candidates = (page.Items ?? [])
    .map((item) => ItemSchema.parse(item))
    .filter((c) => c.credType === type && c.repoURL)
  const wanted = normaliseForMatch(repoURL)
  const exact = candidates.find((c) => !c.repoURLIsRegex && normaliseForMatch(c.repoURL!) === wanted)
  const match =
    exact ??
    candidates
      .filter((c) => c.repoURLIsRegex)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .find((c) => compileRe2(c.repoURL!, 'repoURL').test(repoURL))
  if (!match) return undefined
  return {
    name: match.name,
    type: match.credType,
    repoURL: match.repoURL,
    repoURLIsRegex: match.repoURLIsRegex,
    data: z.record(z.string(), z.string()).parse(JSON.parse(sealer.open(match.sealed))),
  }
}
