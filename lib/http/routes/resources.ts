import { Hono } from 'hono'
import { ValidationError } from '../../errors.js'
import { syncReceiversAfterChange } from '../../events/webhooks.js'
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
  const syncReceivers = (docs: ReadonlyArray<{ kind: string; project: string }>) =>
    syncReceiversAfterChange(
      { db: deps.db, sealer: deps.sealer, log: (line) => console.warn(line) },
      docs,
      deps.publicUrl,
    )

  app.post('/', async (c) => {
    const docs = prepareManifests(await manifestText(c.req.text()), c.get('actor'), c.req.query('project'))
    const results = await applyManifests(deps, docs, 'create')
    await syncReceivers(docs)
    return c.json({ results }, 201)
  })

  app.put('/', async (c) => {
    const docs = prepareManifests(await manifestText(c.req.text()), c.get('actor'), c.req.query('project'))
    const results = await applyManifests(deps, docs, c.req.query('upsert') === 'true' ? 'upsert' : 'update')
    await syncReceivers(docs)
    return c.json({ results })
  })

  app.delete('/', async (c) => {
    const docs = prepareManifests(await manifestText(c.req.text()), c.get('actor'), c.req.query('project'))
    const results = await deleteManifests(deps, docs)
    await syncReceivers(docs)
    return c.json({ results })
  })
  return app
}
