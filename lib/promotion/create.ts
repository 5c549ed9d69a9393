import type { Actor } from '../auth/actor.js'
import { NotFoundError, ValidationError } from '../errors.js'
import { PromotionTaskSpecSchema } from '../model/resources.js'
import { originKey } from '../model/stage-status.js'
import type { Db } from '../store/client.js'
import { listFreight, requireFreight, type Freight } from '../store/freight.js'
import { newPromotionItem, type Promotion } from '../store/promotions.js'
import { getResource, requireResource, writeAll } from '../store/resources.js'
import { condition } from '../store/conditions.js'
import { keys } from '../store/table.js'
import { freightInfo, promotionEvent } from '../events/builders.js'
import { outboxItem } from '../events/outbox.js'
import { listStages, requireStage, updateStageStatus, type Stage } from '../store/stages.js'
import type { FreightReference } from '../steps/types.js'
import { freightAvailability } from './availability.js'
import { CREATE_ACTOR_ANNOTATION, FREIGHT_LABEL, ORIGIN_LABEL, promotionName, STAGE_LABEL } from './names.js'
import { expandTasks } from './tasks.js'

export interface PromoteDeps {
  db: Db
  enqueuePromotion: (message: { project: string; stage: string; promotion: string }) => Promise<void>
  now?: () => Date
}

/** Which Freight to promote: by name, by alias, or the Warehouse's current auto-promotion candidate. */
export type FreightSelector = { freight: string } | { freightAlias: string } | { warehouse: string }

/** The Freight reference a Promotion and a Stage's history carry. */
export function freightReference(freight: Freight): FreightReference & { alias?: string } {
  return {
    name: freight.metadata.name,
    alias: freight.alias,
    origin: { kind: freight.origin.kind, name: freight.origin.name },
    ...(freight.commits?.length ? { commits: freight.commits as FreightReference['commits'] } : {}),
    ...(freight.images?.length ? { images: freight.images as FreightReference['images'] } : {}),
    ...(freight.charts?.length ? { charts: freight.charts as FreightReference['charts'] } : {}),
  }
}

/** The newest Freight from `warehouse` that is available to the Stage (Kargo's NewestFreight selection). */
export async function newestAvailableFreight(
  db: Db,
  stage: Stage,
  warehouse: string,
  now: Date,
): Promise<Freight | undefined> {
  for (const freight of await listFreight(db, stage.project, { warehouses: [warehouse] })) {
    if (freightAvailability(stage.name, stage.spec, freight, now).available) return freight
  }
  return undefined
}

async function resolveFreight(db: Db, stage: Stage, selector: FreightSelector, now: Date): Promise<Freight> {
  if ('freight' in selector) return requireFreight(db, stage.project, selector.freight)
  if ('freightAlias' in selector) return requireFreight(db, stage.project, selector.freightAlias)
  const warehouse = selector.warehouse.replace(/^Warehouse\//, '')
  if (!stage.spec.requestedFreight.some((r) => r.origin.name === warehouse)) {
    throw new ValidationError(`Stage "${stage.name}" does not request Freight from Warehouse "${warehouse}"`)
  }
  const candidate = await newestAvailableFreight(db, stage, warehouse, now)
  if (!candidate)
    throw new ValidationError(
      `no Freight from Warehouse "${warehouse}" is available to Stage "${stage.name}" yet`,
    )
  return candidate
}

/**
 * Creates a Pending Promotion of Freight to a Stage and queues it. Refuses (400) Freight that is not
 * available to the Stage, saying why. `manual` promotions to an auto-promoting Stage place Kargo's hold.
 */
export async function promoteToStage(
  deps: PromoteDeps,
  input: {
    project: string
    stage: string
    selector: FreightSelector
    actor: Actor
    manual: boolean
    /** A key that may be claimed only once (auto-promotion uses Stage + Freight), written in the same transaction. */
    onceKey?: string
  },
): Promise<Promotion> {
  const now = deps.now?.() ?? new Date()
  await requireResource(deps.db, { project: input.project, kind: 'Project', name: input.project })
  const stage = await requireStage(deps.db, input.project, input.stage)
  const freight = await resolveFreight(deps.db, stage, input.selector, now)
  const availability = freightAvailability(stage.name, stage.spec, freight, now)
  if (!availability.available)
    throw new ValidationError(availability.reason, {
      data: { freight: freight.metadata.name, stage: stage.name },
    })
  const template = stage.spec.promotionTemplate?.spec
  if (!template?.steps?.length)
    throw new ValidationError(`Stage "${stage.name}" has no promotionTemplate steps to run`)

  const steps = await expandTasks(template.steps, async (name) => {
    const task = await getResource(deps.db, { project: input.project, kind: 'PromotionTask', name })
    return task ? PromotionTaskSpecSchema.parse(task.spec) : undefined
  })
  const name = promotionName(stage.name, freight.metadata.name, now.getTime())
  const vars = [...(stage.spec.vars ?? []), ...(template.vars ?? [])]
  const { item, promotion } = newPromotionItem(deps.db, {
    project: input.project,
    name,
    stage: stage.name,
    freight: freightReference(freight),
    steps,
    vars,
    labels: {
      [STAGE_LABEL]: stage.name,
      [FREIGHT_LABEL]: freight.metadata.name,
      [ORIGIN_LABEL]: freight.origin.name,
    },
    annotations: { [CREATE_ACTOR_ANNOTATION]: input.actor.name },
    createdBy: input.actor.name,
    now,
  })
  const once = input.onceKey
    ? [
        {
          Put: {
            TableName: deps.db.table,
            Item: { ...keys.resource(input.project, 'Once', input.onceKey), kind: 'Once', promotion: name },
            ...condition.absent,
          },
        },
      ]
    : []
  // "promotion created" goes out with the Promotion (outbox, same transaction).
  const created = outboxItem(
    deps.db,
    promotionEvent(
      'created',
      {
        project: input.project,
        stage: stage.name,
        promotion: { name, phase: 'Pending' },
        freight: freightInfo(freight),
        actor: input.actor.name,
      },
      { now },
    ),
  )
  await writeAll(
    deps.db,
    [item, ...once, created],
    input.onceKey ? `already done: ${input.onceKey}` : `Promotion ${name} already exists`,
  )
  if (input.manual) await placeAutoPromotionHold(deps.db, stage, freight, name, input.actor, now)
  await deps.enqueuePromotion({ project: input.project, stage: stage.name, promotion: name })
  return promotion
}

/**
 * Kargo's hold: promoting by hand into a Stage that auto-promotes holds auto-promotion for that origin,
 * so the manual choice (often a rollback) is not undone at once. Freight discovered after the hold releases it.
 */
async function placeAutoPromotionHold(
  db: Db,
  stage: Stage,
  freight: Freight,
  promotion: string,
  actor: Actor,
  now: Date,
): Promise<void> {
  await updateStageStatus(db, stage.project, stage.name, (status) => ({
    ...status,
    autoPromotionHolds: {
      ...status.autoPromotionHolds,
      [originKey(freight.origin)]: {
        freightName: freight.metadata.name,
        promotionName: promotion,
        actor: actor.name,
        createdAt: now.toISOString(),
        origin: { kind: freight.origin.kind, name: freight.origin.name },
      },
    },
  }))
}

/**
 * Promotes Freight to every Stage directly downstream of `stage` (Kargo's all-or-nothing semantics):
 * if it is unavailable to any of them, nothing is created and the 400 lists why.
 */
export async function promoteDownstream(
  deps: PromoteDeps,
  input: {
    project: string
    stage: string
    selector: { freight: string } | { freightAlias: string }
    actor: Actor
  },
): Promise<Promotion[]> {
  const now = deps.now?.() ?? new Date()
  const upstream = await requireStage(deps.db, input.project, input.stage)
  const freight = await requireFreight(
    deps.db,
    input.project,
    'freight' in input.selector ? input.selector.freight : input.selector.freightAlias,
  )
  if (!freight.status?.verifiedIn?.[upstream.name] && !freight.status?.currentlyIn?.[upstream.name]) {
    throw new ValidationError(
      `Freight "${freight.alias}" is not in Stage "${upstream.name}"; promote it there first`,
    )
  }
  const downstream = (await listStages(deps.db, input.project)).filter((s) =>
    s.spec.requestedFreight.some(
      (r) => r.origin.name === freight.origin.name && (r.sources.stages ?? []).includes(upstream.name),
    ),
  )
  if (downstream.length === 0) throw new NotFoundError(`no Stage takes Freight from Stage "${upstream.name}"`)
  const refusals = downstream
    .map((s) => freightAvailability(s.name, s.spec, freight, now))
    .filter((a): a is { available: false; reason: string } => !a.available)
  if (refusals.length)
    throw new ValidationError(
      `not promoted to any downstream Stage: ${refusals.map((r) => r.reason).join('; ')}`,
    )
  const created: Promotion[] = []
  for (const stage of downstream) {
    created.push(
      await promoteToStage(deps, {
        project: input.project,
        stage: stage.name,
        selector: { freight: freight.metadata.name },
        actor: input.actor,
        manual: true,
      }),
    )
  }
  return created
}
