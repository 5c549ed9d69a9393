import { createHash, randomBytes } from 'node:crypto'
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { z } from 'zod'
import type { Db } from './client.js'
import { condition } from './conditions.js'
import { GSI1, keys } from './table.js'

export const RoleSchema = z.enum(['system-admin', 'kargo-admin', 'kargo-promoter', 'kargo-viewer'])
export type Role = z.infer<typeof RoleSchema>

/** What a token grants: a role, within one project unless the role is system-admin. */
export const TokenGrantSchema = z.object({
  name: z.string(),
  role: RoleSchema,
  project: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
})
export type TokenGrant = z.infer<typeof TokenGrantSchema>

/** SHA-256 of a token: the only form stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A fresh random bearer token. */
export function newToken(): string {
  return `tb_${randomBytes(32).toString('base64url')}`
}

/** Stores a grant for a new token and returns the token itself (shown once, never stored). */
export async function createToken(
  db: Db,
  grant: Omit<TokenGrant, 'createdAt'>,
  token = newToken(),
): Promise<string> {
  const item: TokenGrant = { ...grant, createdAt: new Date().toISOString() }
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...keys.token(hashToken(token)),
        ...item,
        ...(grant.project ? { GSI1PK: keys.projectTokens(grant.project), GSI1SK: grant.name } : {}),
      },
      ...condition.absent,
    }),
  )
  return token
}

/** The grant of a presented token, or undefined. */
export async function lookupToken(db: Db, token: string): Promise<TokenGrant | undefined> {
  const { Item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: keys.token(hashToken(token)) }),
  )
  return Item ? TokenGrantSchema.parse(Item) : undefined
}

export async function listProjectTokens(db: Db, project: string): Promise<TokenGrant[]> {
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.projectTokens(project) },
    }),
  )
  return (page.Items ?? []).map((item) => TokenGrantSchema.parse(item))
}

export async function revokeToken(db: Db, token: string): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: keys.token(hashToken(token)) }))
}
