import { timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { Actor } from '../auth/actor.js'
import { ForbiddenError, UnauthenticatedError } from '../errors.js'
import { hashToken, lookupToken } from '../store/tokens.js'
import type { AppDeps } from './deps.js'

export type AuthEnv = { Variables: { actor: Actor } }

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex')
  const right = Buffer.from(b, 'hex')
  return left.length === right.length && timingSafeEqual(left, right)
}

/** Resolves `Authorization: Bearer <token>` to an Actor: the bootstrap admin token, or a stored token. */
export function bearerAuth(deps: Pick<AppDeps, 'db' | 'adminTokenHash'>): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match) throw new UnauthenticatedError('missing bearer token: send Authorization: Bearer <token>')
    const token = match[1]!
    const hash = hashToken(token)
    if (deps.adminTokenHash && sameHash(hash, deps.adminTokenHash)) {
      c.set('actor', { name: 'admin', role: 'system-admin' })
    } else {
      const grant = await lookupToken(deps.db, token)
      if (!grant) throw new UnauthenticatedError('the bearer token is not valid (unknown or revoked)')
      c.set('actor', {
        name: grant.name,
        role: grant.role,
        ...(grant.project ? { project: grant.project } : {}),
      })
    }
    await next()
  }
}

/** Throws 403 unless `allowed` holds for the calling actor. */
export function requireRole(actor: Actor, allowed: boolean, what: string): void {
  if (!allowed) {
    throw new ForbiddenError(
      `role ${actor.role}${actor.project ? ` in project "${actor.project}"` : ''} is not allowed to ${what}`,
    )
  }
}
