import os from 'node:os'
import { ConflictError } from '../errors.js'
import type { Db } from '../store/client.js'
import { findCredential } from '../store/credentials.js'
import type { Sealer } from '../store/sealing.js'
import {
  asPromotion,
  getPromotion,
  TERMINAL_PHASES,
  type Promotion,
  type PromotionStatus,
  listStagePromotions,
} from '../store/promotions.js'
import { getResource, updateResource, updateTogether } from '../store/resources.js'
import { freightInfo, promotionEvent } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import { asStage, requireStage } from '../store/stages.js'
import { setCondition } from '../model/meta.js'
import type { CredentialsLookup, Step } from '../steps/types.js'
import { completePromotion } from './complete.js'
import { kargoActions } from './kargo-actions.js'
import { runPromotion } from './engine.js'

export interface WorkerDeps {
  db: Db
  sealer: Sealer
  steps: ReadonlyMap<string, Step<unknown>>
  /** Identifies this invocation as the lease holder. */
  holder: string
  workRoot?: string
  /** How long a lease lasts without renewal; renewed at every save. */
  leaseMs?: number
  now?: () => Date
  remainingMs?: () => number
  log?: (line: string) => void
  /** Outbound HTTP for http/http-download (the deployment's allow-list applies). */
  fetch?: typeof fetch
  /** Called after a Promotion finished (verification, auto-promotion downstream, events). */
  afterFinish?: (project: string, promotion: Promotion) => Promise<void>
}

export type WorkResult = { done: true } | { done: false; retryAfterMs: number; reason: string }

const DEFAULT_LEASE_MS = 120_000
const STAGE_BUSY_RETRY_MS = 5_000

/** Project-scoped credential lookup for steps; credentials never leave this closure except to the step. */
export function credentialsFor(db: Db, sealer: Sealer, project: string): CredentialsLookup {
  return async (type, repoURL) => {
    const credential = await findCredential(db, sealer, project, type, repoURL)
    if (!credential) return undefined
    return {
      ...(credential.data.username !== undefined ? { username: credential.data.username } : {}),
      ...(credential.data.password !== undefined ? { password: credential.data.password } : {}),
    }
  }
}

/**
 * Claims the Stage for a Pending Promotion. Promotions of a Stage run one at a time in creation order, whatever
 * order the queue delivers them in: the oldest unfinished one goes first, and the claim on the Stage is a
 * version-guarded write that fails if another Promotion took it since we looked. Returns why it must wait, if so.
 */
async function claimStage(
  db: Db,
  project: string,
  promotion: Promotion,
  now: Date,
): Promise<string | undefined> {
  const name = promotion.metadata.name
  const stageName = promotion.spec.stage
  const open = (await listStagePromotions(db, project, stageName)).filter(
    (p) => !TERMINAL_PHASES.includes(p.status.phase),
  )
  if (open[0] && open[0].metadata.name !== name)
    return `waiting for ${open[0].metadata.name} (created earlier) to finish`
  const stage = await requireStage(db, project, stageName)
  const holderName = stage.status.currentPromotion?.name
  if (holderName && holderName !== name) {
    const holder = await getPromotion(db, project, holderName)
    if (holder && !TERMINAL_PHASES.includes(holder.status.phase)) return `Stage busy with ${holderName}`
  }
  try {
    // The Stage claim and the "promotion started" event land together.
    await updateTogether(
      db,
      [
        {
          ref: { project, kind: 'Stage', name: stageName },
          change: (resource) => {
            const status = asStage(project, resource).status
            if (
              (status.currentPromotion?.name ?? undefined) !== holderName &&
              status.currentPromotion?.name !== name
            ) {
              throw new ConflictError(`Stage ${stageName} was claimed by ${status.currentPromotion?.name}`)
            }
            return {
              ...resource,
              status: {
                ...status,
                phase: 'Promoting',
                currentPromotion: {
                  name,
                  freight: promotion.status.freight as {
                    name: string
                    origin: { kind: string; name: string }
                  },
                },
                conditions: setCondition(
                  status.conditions,
                  {
                    type: 'Promoting',
                    status: 'True',
                    reason: 'Promoting',
                    message: `Promotion ${name} is running`,
                  },
                  now,
                ),
              },
            }
          },
        },
      ],
      8,
      () =>
        outboxItems(db, [
          promotionEvent(
            'started',
            {
              project,
              stage: stageName,
              promotion: { name, phase: 'Running' },
              freight: freightInfo(promotion.status.freight ?? { name: promotion.spec.freight }),
              ...(promotion.createdBy ? { actor: promotion.createdBy } : {}),
            },
            { now },
          ),
        ]),
    )
  } catch (error) {
    if (error instanceof ConflictError) return error.message
    throw error
  }
  return undefined
}

/**
 * Runs (or resumes) one Promotion for a queue message. Safe under at-least-once delivery:
 * a terminal Promotion is acknowledged untouched; a lease on the Promotion keeps two deliveries from
 * running it at once; progress is saved after every step, so a crash resumes where it stopped.
 */
export async function workPromotion(deps: WorkerDeps, project: string, name: string): Promise<WorkResult> {
  const now = () => deps.now?.() ?? new Date()
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS
  const initial = await getPromotion(deps.db, project, name)
  if (!initial || TERMINAL_PHASES.includes(initial.status.phase)) return { done: true }

  // Claim the lease (and the Stage, when the Promotion starts).
  let claimed: Promotion | undefined
  let busy: WorkResult | undefined
  try {
    claimed = asPromotion(
      await updateResource(deps.db, { project, kind: 'Promotion', name }, (current) => {
        const promotion = asPromotion(current)
        busy = undefined
        if (TERMINAL_PHASES.includes(promotion.status.phase)) return undefined
        const lease = promotion.status.lease
        if (lease && lease.holder !== deps.holder && Date.parse(lease.until) > now().getTime()) {
          busy = {
            done: false,
            retryAfterMs: Date.parse(lease.until) - now().getTime() + 1000,
            reason: `leased by ${lease.holder}`,
          }
          return undefined
        }
        promotion.status.lease = {
          holder: deps.holder,
          until: new Date(now().getTime() + leaseMs).toISOString(),
        }
        return promotion
      }),
    )
  } catch (error) {
    if (error instanceof ConflictError) return { done: false, retryAfterMs: 1000, reason: 'lease contention' }
    throw error
  }
  if (busy) return busy
  if (TERMINAL_PHASES.includes(claimed.status.phase)) return { done: true }

  const releaseLease = () =>
    updateResource(deps.db, { project, kind: 'Promotion', name }, (current) => {
      const promotion = asPromotion(current)
      if (promotion.status.lease?.holder !== deps.holder) return undefined
      delete promotion.status.lease
      promotion.status.lastTouchedAt = now().toISOString()
      return promotion
    })

  if (claimed.status.phase === 'Pending') {
    const blocked = await claimStage(deps.db, project, claimed, now())
    if (blocked) {
      await releaseLease()
      return { done: false, retryAfterMs: STAGE_BUSY_RETRY_MS, reason: blocked }
    }
  }

  // Every save reads the Promotion anyway: it tells us whether an abort was asked for, without another read.
  let abortSeen = Boolean(claimed.status.abortRequested)
  const save = async (status: PromotionStatus) => {
    await updateResource(deps.db, { project, kind: 'Promotion', name }, (current) => {
      const promotion = asPromotion(current)
      abortSeen = Boolean(promotion.status.abortRequested)
      if (promotion.status.lease?.holder !== deps.holder) {
        throw new ConflictError(
          `lost the lease on Promotion ${name} to ${promotion.status.lease?.holder ?? 'nobody'}`,
        )
      }
      return {
        ...promotion,
        status: {
          ...status,
          lastTouchedAt: now().toISOString(),
          abortRequested: promotion.status.abortRequested,
          lease: { holder: deps.holder, until: new Date(now().getTime() + leaseMs).toISOString() },
        },
      }
    })
  }

  // Metadata set-metadata wrote earlier, for freightMetadata()/stageMetadata() in expressions.
  const [targetFreight, stageNow] = await Promise.all([
    getResource(deps.db, { project, kind: 'Freight', name: claimed.spec.freight }),
    getResource(deps.db, { project, kind: 'Stage', name: claimed.spec.stage }),
  ])
  const metadataOf = (r: typeof targetFreight) =>
    (r?.status as { metadata?: Record<string, unknown> } | undefined)?.metadata ?? {}

  let outcome: Awaited<ReturnType<typeof runPromotion>>
  try {
    outcome = await runPromotion(
      {
        steps: deps.steps,
        credentials: credentialsFor(deps.db, deps.sealer, project),
        kargo: kargoActions(deps.db, project),
        freightMetadata: { [claimed.spec.freight]: metadataOf(targetFreight) },
        stageMetadata: { [claimed.spec.stage]: metadataOf(stageNow) },
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        save,
        complete: (status) => completePromotion(deps.db, project, name, status, now()),
        abortRequested: async () => abortSeen,
        workRoot: deps.workRoot ?? os.tmpdir(),
        ...(deps.now ? { now: deps.now } : {}),
        ...(deps.remainingMs ? { remainingMs: deps.remainingMs } : {}),
        ...(deps.log ? { log: deps.log } : {}),
      },
      project,
      claimed,
    )
  } catch (error) {
    // Unexpected (storage down, lost lease): let the next delivery resume from the last saved step.
    await releaseLease().catch(() => undefined)
    throw error
  }
  if (outcome.kind === 'wait') {
    await releaseLease()
    return { done: false, retryAfterMs: outcome.retryAfterMs, reason: 'waiting' }
  }
  const finished = await getPromotion(deps.db, project, name)
  if (finished && deps.afterFinish) await deps.afterFinish(project, finished)
  return { done: true }
}
