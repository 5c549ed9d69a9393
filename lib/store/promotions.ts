import { z } from 'zod'
import { KARGO_API_VERSION } from '../model/meta.js'
import type { PromotionStep } from '../model/resources.js'
import type { FreightCollection, FreightReference } from '../steps/types.js'
import type { Db } from './client.js'
import {
  listResources,
  nextVersion,
  putItem,
  queryIndex,
  requireResource,
  getResource,
  type StoredResource,
  type TransactItem,
  type WriteResource,
} from './resources.js'
import { keys } from './table.js'

export const PromotionPhaseSchema = z.enum([
  'Pending',
  'Running',
  'Succeeded',
  'Failed',
  'Errored',
  'Aborted',
])
export type PromotionPhase = z.infer<typeof PromotionPhaseSchema>
export const TERMINAL_PHASES: readonly PromotionPhase[] = ['Succeeded', 'Failed', 'Errored', 'Aborted']

export const StepExecutionSchema = z.object({
  alias: z.string(),
  status: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Errored', 'Skipped', 'Aborted']),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
  errorCount: z.number().int().optional(),
  continueOnError: z.boolean().optional(),
  /** Tugboat: how many times this step ran (re-entrant waits and retries count). */
  attempts: z.number().int().optional(),
})
export type StepExecution = z.infer<typeof StepExecutionSchema>

export const PromotionStatusSchema = z
  .object({
    phase: PromotionPhaseSchema,
    message: z.string().optional(),
    currentStep: z.number().int().optional(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    freight: z.record(z.string(), z.unknown()).optional(),
    freightCollection: z.record(z.string(), z.unknown()).optional(),
    stepExecutionMetadata: z.array(StepExecutionSchema).optional(),
    /** Outputs of finished steps, by alias (Kargo keeps these in `state`). */
    state: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    /** Data a waiting step left for its next call, by alias. */
    stepState: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    healthChecks: z.array(z.object({ uses: z.string(), config: z.unknown() })).optional(),
    /** Who holds the right to run this Promotion now (a worker), and until when. */
    lease: z.object({ holder: z.string(), until: z.string() }).optional(),
    abortRequested: z.boolean().optional(),
    /** Tugboat: when a worker last saved progress (a stalled Promotion is re-queued by reconcile). */
    lastTouchedAt: z.string().optional(),
  })
  .passthrough()
export type PromotionStatus = z.infer<typeof PromotionStatusSchema>

export interface Promotion extends StoredResource {
  spec: {
    stage: string
    freight: string
    vars?: Array<{ name: string; value?: string }>
    steps: PromotionStep[]
  }
  status: PromotionStatus
  createdBy?: string
}

const PromotionShape = z
  .object({
    spec: z
      .object({ stage: z.string(), freight: z.string(), steps: z.array(z.record(z.string(), z.unknown())) })
      .passthrough(),
    status: PromotionStatusSchema,
  })
  .passthrough()

export function asPromotion(resource: StoredResource): Promotion {
  PromotionShape.parse(resource)
  return resource as Promotion
}

export interface NewPromotion {
  project: string
  name: string
  stage: string
  freight: FreightReference & { alias?: string }
  steps: PromotionStep[]
  vars?: Array<{ name: string; value?: string }>
  labels: Record<string, string>
  annotations: Record<string, string>
  createdBy: string
  now: Date
}

/** The transaction item that creates a Pending Promotion; the caller adds what must change with it. */
export function newPromotionItem(db: Db, input: NewPromotion): { item: TransactItem; promotion: Promotion } {
  const freightCollection: FreightCollection = {
    id: input.freight.name,
    items: { [`${input.freight.origin.kind}/${input.freight.origin.name}`]: input.freight },
  }
  const write: WriteResource = {
    ref: { project: input.project, kind: 'Promotion', name: input.name },
    resource: {
      apiVersion: KARGO_API_VERSION,
      kind: 'Promotion',
      metadata: { name: input.name, labels: input.labels, annotations: input.annotations },
      spec: {
        stage: input.stage,
        freight: input.freight.name,
        ...(input.vars?.length ? { vars: input.vars } : {}),
        steps: input.steps,
      },
      status: {
        phase: 'Pending',
        freight: { ...input.freight },
        freightCollection: { ...freightCollection },
      },
      createdBy: input.createdBy,
    },
    expect: 'absent',
  }
  const stored = nextVersion(write, undefined, input.now)
  return { item: { Put: putItem(db, write, stored) }, promotion: asPromotion(stored) }
}

export async function getPromotion(db: Db, project: string, name: string): Promise<Promotion | undefined> {
  const found = await getResource(db, { project, kind: 'Promotion', name })
  return found ? asPromotion(found) : undefined
}

export async function requirePromotion(db: Db, project: string, name: string): Promise<Promotion> {
  return asPromotion(await requireResource(db, { project, kind: 'Promotion', name }))
}

/** A Stage's Promotions, oldest first (creation order). */
export async function listStagePromotions(
  db: Db,
  project: string,
  stage: string,
  options: { newestFirst?: boolean; limit?: number } = {},
): Promise<Promotion[]> {
  return (await queryIndex(db, 'GSI1', keys.stagePromotions(project, stage), options)).map(asPromotion)
}

/** All Promotions of a project, newest first. */
export async function listPromotions(db: Db, project: string): Promise<Promotion[]> {
  const all = (await listResources(db, project, 'Promotion')).map(asPromotion)
  const order = (p: Promotion) => p.metadata.name.slice(p.spec.stage.length + 1)
  return all.sort((a, b) => (order(a) > order(b) ? -1 : order(a) < order(b) ? 1 : 0))
}
