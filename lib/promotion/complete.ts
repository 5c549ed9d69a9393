import { createHash } from 'node:crypto'
import { ConflictError } from '../errors.js'
import { setCondition } from '../model/meta.js'
import {
  FREIGHT_HISTORY_LIMIT,
  originKey,
  type StageFreightCollection,
  type StageStatus,
} from '../model/stage-status.js'
import type { Db } from '../store/client.js'
import { asFreight, type Freight } from '../store/freight.js'
import { asPromotion, type Promotion, type PromotionStatus } from '../store/promotions.js'
import {
  getResource,
  nextVersion,
  putItem,
  requireResource,
  writeAll,
  type StoredResource,
  type TransactItem,
} from '../store/resources.js'
import { asStage } from '../store/stages.js'
import { formatDuration, parseDuration } from './durations.js'
import { freightInfo, promotionFinishedEvents } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'

/** Kargo's FreightCollection id: SHA-1 over the sorted Freight names it holds. */
export function freightCollectionId(items: StageFreightCollection['items']): string {
  const names = Object.values(items)
    .map((f) => f.name)
    .sort()
  return createHash('sha1').update(names.join(',')).digest('hex')
}

/** Argo CD apps a finished Promotion asks the Stage to watch for health (argocd-update outputs `healthChecks`). */
function healthChecksFrom(status: PromotionStatus): Array<Record<string, unknown>> {
  return Object.values(status.state ?? {}).flatMap((output) => {
    const checks = output.healthChecks
    return Array.isArray(checks) ? (checks as Array<Record<string, unknown>>) : []
  })
}

function replace(resource: StoredResource, changes: Partial<StoredResource>): StoredResource {
  return { ...resource, ...changes }
}

function stageAfter(
  stageResource: StoredResource,
  promotion: Promotion,
  status: PromotionStatus,
  now: Date,
): StageStatus {
  const stage = asStage(promotion.metadata.namespace!, stageResource)
  const next: StageStatus = { ...stage.status }
  const freightRef = promotion.status.freight as { name: string; origin: { kind: string; name: string } }
  const finishedAt = status.finishedAt ?? now.toISOString()
  if (next.currentPromotion?.name === promotion.metadata.name) delete next.currentPromotion
  next.lastPromotion = {
    name: promotion.metadata.name,
    freight: freightRef,
    finishedAt,
    status: { phase: status.phase, finishedAt, ...(status.message ? { message: status.message } : {}) },
  }
  const current = next.freightHistory?.[0]
  if (status.phase === 'Succeeded') {
    const items = { ...(current?.items ?? {}), [originKey(freightRef.origin)]: freightRef }
    next.freightHistory = [
      { id: freightCollectionId(items), items, verificationHistory: [] },
      ...(next.freightHistory ?? []),
    ].slice(0, FREIGHT_HISTORY_LIMIT)
    next.phase = 'Verifying'
    next.healthChecks = healthChecksFrom(status)
    next.conditions = setCondition(
      next.conditions,
      {
        type: 'Promoting',
        status: 'False',
        reason: 'PromotionSucceeded',
        message: `Promotion ${promotion.metadata.name} succeeded`,
      },
      now,
    )
    next.conditions = setCondition(
      next.conditions,
      {
        type: 'Verified',
        status: 'Unknown',
        reason: 'Pending',
        message: 'waiting for the Stage to become healthy and verified',
      },
      now,
    )
    next.conditions = setCondition(
      next.conditions,
      { type: 'Ready', status: 'False', reason: 'Verifying', message: 'verifying the new Freight' },
      now,
    )
  } else {
    next.phase = current ? 'Steady' : 'NotApplicable'
    next.conditions = setCondition(
      next.conditions,
      {
        type: 'Promoting',
        status: 'False',
        reason: `Promotion${status.phase}`,
        message:
          `Promotion ${promotion.metadata.name} ${status.phase.toLowerCase()}: ${status.message ?? ''}`.trim(),
      },
      now,
    )
    next.conditions = setCondition(
      next.conditions,
      {
        type: 'Ready',
        status: 'False',
        reason: `LastPromotion${status.phase}`,
        message: status.message ?? `last Promotion ${status.phase.toLowerCase()}`,
      },
      now,
    )
  }
  return next
}

function freightEntering(freight: Freight, stage: string, now: Date): StoredResource {
  return replace(freight, {
    status: {
      ...freight.status,
      currentlyIn: { ...freight.status?.currentlyIn, [stage]: { since: now.toISOString() } },
    },
  })
}

function freightLeaving(freight: Freight, stage: string, now: Date): StoredResource {
  const since = freight.status?.currentlyIn?.[stage]?.since
  const status = structuredClone(freight.status ?? {})
  delete status.currentlyIn?.[stage]
  const verified = status.verifiedIn?.[stage]
  if (verified && since) {
    const soaked = now.getTime() - Date.parse(since)
    const longest = verified.longestSoak ? parseDuration(verified.longestSoak) : 0
    if (soaked > longest) verified.longestSoak = formatDuration(soaked)
  }
  return replace(freight, { status })
}

function put(
  db: Db,
  kind: string,
  project: string,
  next: StoredResource,
  previous: StoredResource,
): TransactItem {
  const write = {
    ref: { project, kind, name: previous.metadata.name },
    resource: next,
    expect: Number(previous.metadata.resourceVersion),
  }
  const stored = nextVersion(write, previous)
  return { Put: putItem(db, write, stored) }
}

/**
 * Records a Promotion's final phase, and in the same transaction the Stage's history and the Freight's
 * `currentlyIn`. Retried on conflicts with fresh reads, so it is safe to call again after a crash.
 * Index attributes of the Promotion (its Stage ordering) are kept.
 */
export async function completePromotion(
  db: Db,
  project: string,
  promotionName: string,
  finalStatus: PromotionStatus,
  now = new Date(),
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const promotion = asPromotion(
      await requireResource(db, { project, kind: 'Promotion', name: promotionName }),
    )
    const stageResource = await requireResource(db, { project, kind: 'Stage', name: promotion.spec.stage })
    const items: TransactItem[] = []
    const { lease: _lease, ...status } = {
      ...finalStatus,
      abortRequested: promotion.status.abortRequested ?? finalStatus.abortRequested,
    }
    const promotionWrite = {
      ref: { project, kind: 'Promotion', name: promotionName },
      resource: replace(promotion, { status }),
      expect: Number(promotion.metadata.resourceVersion),
    }
    items.push({ Put: putItem(db, promotionWrite, nextVersion(promotionWrite, promotion)) })
    items.push(
      put(
        db,
        'Stage',
        project,
        replace(stageResource, { status: stageAfter(stageResource, promotion, finalStatus, now) }),
        stageResource,
      ),
    )
    const target = await getResource(db, { project, kind: 'Freight', name: promotion.spec.freight })
    let previousInfo: ReturnType<typeof freightInfo> | undefined
    if (finalStatus.phase === 'Succeeded' && target) {
      const freight = asFreight(target)
      const previousName = asStage(project, stageResource).status.freightHistory?.[0]?.items[
        originKey(freight.origin)
      ]?.name
      items.push(put(db, 'Freight', project, freightEntering(freight, promotion.spec.stage, now), freight))
      if (previousName === freight.metadata.name) previousInfo = freightInfo(freight)
      if (previousName && previousName !== freight.metadata.name) {
        const previous = await getResource(db, { project, kind: 'Freight', name: previousName })
        previousInfo = previous ? freightInfo(asFreight(previous)) : { name: previousName }
        if (previous)
          items.push(
            put(
              db,
              'Freight',
              project,
              freightLeaving(asFreight(previous), promotion.spec.stage, now),
              previous,
            ),
          )
      }
    }
    // The outcome is published with the state change (outbox), so a crash cannot lose the event.
    items.push(
      ...outboxItems(
        db,
        promotionFinishedEvents(
          {
            project,
            stage: promotion.spec.stage,
            promotion: {
              name: promotionName,
              phase: finalStatus.phase,
              ...(finalStatus.message ? { message: finalStatus.message } : {}),
            },
            freight: target ? freightInfo(asFreight(target)) : { name: promotion.spec.freight },
            ...(previousInfo ? { previousFreight: previousInfo } : {}),
            ...(promotion.createdBy ? { actor: promotion.createdBy } : {}),
          },
          { now },
        ),
      ),
    )
    try {
      await writeAll(db, items, 'conflict while completing the Promotion')
      return
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 10) throw error
      await new Promise((r) => setTimeout(r, 10 * attempt))
    }
  }
}
