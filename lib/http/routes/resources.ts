import { Hono } from 'hono'
import { ValidationError } from '../../errors.js'
import { applyManifests, deleteManifests, prepareManifests } from '../../resources/apply.js'
import type { AuthEnv } from '../auth.js'
import type { AppDeps } from '../deps.js'

/** `/v1beta1/resources`: create (POST), update or upsert (PUT) and delete (DELETE) from YAML/JSON manifests. */
export function resourcesRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>()
  const manifestText = async (body: Promise<string>) => {
    const text = await body
    if (!text.trim()) throw new ValidationError('the request body must hold YAML or JSON manifests')
    return text
  }

  app.post('/', async (c) => {
    const docs = prepareManifests(await manifestText(c.req.text()), c.get('actor'), c.req.query('project'))
    const results = await applyManifests(deps, docs, 'create')
    return c.json({ results }, 201)
  })

  app.put('/', async (c) => {
    const docs = prepareManifests(await manifestText(c.req.text()), c.get('actor'), c.req.query('project'))
    const results = await applyManifests(deps, docs, c.req.query('upsert') === 'true' ? 'upsert' : 'update')
    return c.json({ results })
  })

  app.delete('/', async (c) => {
    const docs = prepareManifests(await manifestText(c.req.text()), c.get('actor'), c.req.query('project'))
    const results = await deleteManifests(deps, docs)
    return c.json({ results })
  })
  return app
}
