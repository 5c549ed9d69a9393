import { Hono } from 'hono'
import { z } from 'zod'
import { canPromote, canView } from '../../auth/actor.js'
import { ValidationError } from '../../errors.js'
import { abortPromotion } from '../../promotion/abort.js'
import { approveFreight } from '../../promotion/approve.js'
import { promoteDownstream, promoteToStage, type FreightSelector } from '../../promotion/create.js'
import { requireFreight } from '../../store/freight.js'
import { createFreightFromDiscovered } from '../../discovery/manual-freight.js'
import {
  listPromotions,
  listStagePromotions,
  PromotionPhaseSchema,
  requirePromotion,
} from '../../store/promotions.js'
import { requireResource } from '../../store/resources.js'
import { requireRole, type AuthEnv } from '../auth.js'
import type { AppDeps } from '../deps.js'
import { parseLabelSelector } from '../label-selector.js'

const PromoteRequestSchema = z
  .object({
    freight: z.string().min(1).optional(),
    freightAlias: z.string().min(1).optional(),
    warehouse: z.string().min(1).optional(),
    /** Kargo's name for the same thing: `Warehouse/<name>`. */
    origin: z.string().min(1).optional(),
  })
  .strict()
  .refine((b) => [b.freight, b.freightAlias, b.warehouse, b.origin].filter(Boolean).length === 1, {
    message: 'set exactly one of freight, freightAlias or warehouse',
  })

const DownstreamRequestSchema = z
  .object({ freight: z.string().min(1).optional(), freightAlias: z.string().min(1).optional() })
  .strict()
  .refine((b) => [b.freight, b.freightAlias].filter(Boolean).length === 1, {
    message: 'set exactly one of freight or freightAlias',
  })

const CreateFreightRequestSchema = z
  .object({
    origin: z.object({ kind: z.literal('Warehouse'), name: z.string().min(1) }).strict(),
    images: z
      .array(
        z
          .object({ repoURL: z.string().min(1), tag: z.string().optional(), digest: z.string().optional() })
          .strict(),
      )
      .optional(),
    commits: z
      .array(
        z
          .object({ repoURL: z.string().min(1), id: z.string().optional(), tag: z.string().optional() })
          .strict(),
      )
      .optional(),
    charts: z
      .array(
        z
          .object({ repoURL: z.string().min(1), name: z.string().optional(), version: z.string().min(1) })
          .strict(),
      )
      .optional(),
  })
  .strict()

function selectorOf(body: z.infer<typeof PromoteRequestSchema>): FreightSelector {
  if (body.freight) return { freight: body.freight }
  if (body.freightAlias) return { freightAlias: body.freightAlias }
  return { warehouse: (body.warehouse ?? body.origin)! }
}

async function jsonBody(c: { req: { json: () => Promise<unknown> } }): Promise<unknown> {
  try {
    return await c.req.json()
  } catch {
    throw new ValidationError('the request body must be JSON')
  }
}

/** Promote, promote downstream, approve, abort, and list/get Promotions. */
export function promotionRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>()
  const promoteDeps = () => {
    if (!deps.enqueuePromotion) throw new Error('the promotions queue is not configured')
    return { db: deps.db, enqueuePromotion: deps.enqueuePromotion, ...(deps.now ? { now: deps.now } : {}) }
  }

  app.post('/:project/stages/:stage/promotions', async (c) => {
    const { project, stage } = c.req.param()
    requireRole(c.get('actor'), canPromote(c.get('actor'), project), `promote in project "${project}"`)
    const body = PromoteRequestSchema.parse(await jsonBody(c))
    const promotion = await promoteToStage(promoteDeps(), {
      project,
      stage,
      selector: selectorOf(body),
      actor: c.get('actor'),
      manual: true,
    })
    return c.json(promotion, 201)
  })

  app.post('/:project/stages/:stage/promotions/downstream', async (c) => {
    const { project, stage } = c.req.param()
    requireRole(c.get('actor'), canPromote(c.get('actor'), project), `promote in project "${project}"`)
    const body = DownstreamRequestSchema.parse(await jsonBody(c))
    const selector = body.freight ? { freight: body.freight } : { freightAlias: body.freightAlias! }
    const items = await promoteDownstream(promoteDeps(), { project, stage, selector, actor: c.get('actor') })
    return c.json({ items }, 201)
  })

  app.get('/:project/promotions', async (c) => {
    const { project } = c.req.param()
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    await requireResource(deps.db, { project, kind: 'Project', name: project })
    const { stage, freight, phase, labelSelector } = c.req.query()
    const phaseFilter = phase ? PromotionPhaseSchema.parse(phase) : undefined
    const matchesLabels = labelSelector ? parseLabelSelector(labelSelector) : () => true
    let items = stage
      ? await listStagePromotions(deps.db, project, stage, { newestFirst: true })
      : await listPromotions(deps.db, project)
    items = items.filter(
      (p) =>
        (!freight || p.spec.freight === freight) &&
        (!phaseFilter || p.status.phase === phaseFilter) &&
        matchesLabels(p.metadata.labels),
    )
    return c.json({ kind: 'PromotionList', items })
  })

  app.get('/:project/promotions/:name', async (c) => {
    const { project, name } = c.req.param()
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    return c.json(await requirePromotion(deps.db, project, name))
  })

  app.post('/:project/promotions/:name/abort', async (c) => {
    const { project, name } = c.req.param()
    requireRole(
      c.get('actor'),
      canPromote(c.get('actor'), project),
      `abort Promotions in project "${project}"`,
    )
    return c.json(await abortPromotion(deps, { project, name, actor: c.get('actor') }))
  })

  app.get('/:project/freight/:freight', async (c) => {
    const { project, freight } = c.req.param()
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    return c.json(await requireFreight(deps.db, project, freight))
  })

  app.post('/:project/freight', async (c) => {
    const { project } = c.req.param()
    requireRole(c.get('actor'), canPromote(c.get('actor'), project), `create Freight in project "${project}"`)
    const body = CreateFreightRequestSchema.parse(await jsonBody(c))
    const { created, freight } = await createFreightFromDiscovered(
      deps.db,
      project,
      { ...body, warehouse: body.origin.name },
      deps.now?.() ?? new Date(),
    )
    return c.json(freight, created ? 201 : 200)
  })

  app.post('/:project/freight/:freight/approve', async (c) => {
    const { project, freight } = c.req.param()
    requireRole(
      c.get('actor'),
      canPromote(c.get('actor'), project),
      `approve Freight in project "${project}"`,
    )
    const text = await c.req.text()
    const stageName =
      c.req.query('stage') ??
      (text
        ? z
            .object({ stage: z.string().min(1) })
            .strict()
            .parse(JSON.parse(text)).stage
        : undefined)
    if (!stageName) throw new ValidationError('stage is required (query ?stage= or body {"stage": …})')
    return c.json(await approveFreight(deps, { project, freight, stage: stageName, actor: c.get('actor') }))
  })

  app.post('/:project/warehouses/:warehouse/refresh', async (c) => {
    const { project, warehouse } = c.req.param()
    requireRole(
      c.get('actor'),
      canPromote(c.get('actor'), project),
      `refresh Warehouses in project "${project}"`,
    )
    await requireResource(deps.db, { project, kind: 'Warehouse', name: warehouse })
    if (!deps.refreshWarehouse) throw new Error('discovery is not configured in this deployment')
    const result = await deps.refreshWarehouse(project, warehouse)
    return c.json({
      warehouse: await requireResource(deps.db, { project, kind: 'Warehouse', name: warehouse }),
      result,
    })
  })

  return app
}
