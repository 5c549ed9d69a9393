import { Hono } from 'hono'
import { canView } from '../../auth/actor.js'
import { listFreight } from '../../store/freight.js'
import { listResources, requireResource } from '../../store/resources.js'
import { requireRole, type AuthEnv } from '../auth.js'
import type { AppDeps } from '../deps.js'

/** Plural path segment → stored kind, for the read-only project routes. */
const readableKinds = {
  warehouses: 'Warehouse',
  stages: 'Stage',
  'promotion-tasks': 'PromotionTask',
  'analysis-templates': 'AnalysisTemplate',
} as const

/** `/v1beta1/projects…`: list and get Projects and their resources (Kargo's List shapes: `{items}`). */
export function projectRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>()

  app.get('/', async (c) => {
    const actor = c.get('actor')
    const projects = await listResources(deps.db, '', 'Project')
    return c.json({ items: projects.filter((p) => canView(actor, p.metadata.name)) })
  })

  app.get('/:project', async (c) => {
    const project = c.req.param('project')
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    return c.json(await requireResource(deps.db, { project, kind: 'Project', name: project }))
  })

  app.get('/:project/config', async (c) => {
    const project = c.req.param('project')
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    return c.json(await requireResource(deps.db, { project, kind: 'ProjectConfig', name: project }))
  })

  for (const [segment, kind] of Object.entries(readableKinds)) {
    app.get(`/:project/${segment}`, async (c) => {
      const project = c.req.param('project')
      requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
      await requireResource(deps.db, { project, kind: 'Project', name: project })
      return c.json({ kind: `${kind}List`, items: await listResources(deps.db, project, kind) })
    })
    app.get(`/:project/${segment}/:name`, async (c) => {
      const project = c.req.param('project')
      requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
      return c.json(await requireResource(deps.db, { project, kind, name: c.req.param('name') }))
    })
  }

  app.get('/:project/freight', async (c) => {
    const project = c.req.param('project')
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    await requireResource(deps.db, { project, kind: 'Project', name: project })
    const origins = c.req.query('origins')?.split(',').filter(Boolean)
    const items = await listFreight(deps.db, project, origins ? { warehouses: origins } : {})
    // Kargo's QueryFreight shape: groups keyed by the group name ("" when ungrouped).
    return c.json({ groups: { '': { items } } })
  })
  return app
}
