import { Hono } from 'hono'
import { z } from 'zod'
import { canAdminister } from '../../auth/actor.js'
import { ForbiddenError } from '../../errors.js'
import { requireResource } from '../../store/resources.js'
import { createToken, listProjectTokens, RoleSchema } from '../../store/tokens.js'
import { requireRole, type AuthEnv } from '../auth.js'
import type { AppDeps } from '../deps.js'

const CreateTokenRequestSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
  })
  .strict()

/** Token routes: an admin hands out bearer tokens bound to a role. The token is shown once, in the response. */
export function tokenRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>()

  app.post('/projects/:project/roles/:role/api-tokens', async (c) => {
    const project = c.req.param('project')
    const actor = c.get('actor')
    requireRole(actor, canAdminister(actor, project), `create tokens in project "${project}"`)
    const role = RoleSchema.exclude(['system-admin']).parse(c.req.param('role'))
    const { name } = CreateTokenRequestSchema.parse(await c.req.json())
    await requireResource(deps.db, { project, kind: 'Project', name: project })
    const token = await createToken(deps.db, { name, role, project, createdBy: actor.name })
    return c.json({ name, role, project, token }, 201)
  })

  app.get('/projects/:project/api-tokens', async (c) => {
    const project = c.req.param('project')
    const actor = c.get('actor')
    requireRole(actor, canAdminister(actor, project), `list tokens in project "${project}"`)
    return c.json({ items: await listProjectTokens(deps.db, project) })
  })

  app.post('/system/roles/:role/api-tokens', async (c) => {
    const actor = c.get('actor')
    if (actor.role !== 'system-admin')
      throw new ForbiddenError('only a system admin can create system tokens')
    const role = RoleSchema.extract(['system-admin']).parse(c.req.param('role'))
    const { name } = CreateTokenRequestSchema.parse(await c.req.json())
    const token = await createToken(deps.db, { name, role, createdBy: actor.name })
    return c.json({ name, role, token }, 201)
  })
  return app
}
