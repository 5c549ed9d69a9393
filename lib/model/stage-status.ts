import { z } from 'zod'
import { ConditionSchema } from './meta.js'

const FreightRefSchema = z
  .object({ name: z.string(), origin: z.object({ kind: z.string(), name: z.string() }) })
  .passthrough()

export const VerificationInfoSchema = z
  .object({
    id: z.string(),
    actor: z.string().optional(),
    phase: z.string(),
    message: z.string().optional(),
    startTime: z.string().optional(),
    finishTime: z.string().optional(),
    analysisRun: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
export type VerificationInfo = z.infer<typeof VerificationInfoSchema>

export const FreightCollectionSchema = z
  .object({
    id: z.string(),
    items: z.record(z.string(), FreightRefSchema),
    verificationHistory: z.array(VerificationInfoSchema).optional(),
  })
  .passthrough()
export type StageFreightCollection = z.infer<typeof FreightCollectionSchema>

export const StageHealthSchema = z
  .object({
    status: z.enum(['Healthy', 'Progressing', 'Unhealthy', 'Unknown', 'NotApplicable']),
    issues: z.array(z.string()).optional(),
    argoCDApps: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .passthrough()

export const PromotionRefSchema = z
  .object({
    name: z.string(),
    freight: FreightRefSchema.optional(),
    finishedAt: z.string().optional(),
    status: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()

export const AutoPromotionHoldSchema = z.object({
  freightName: z.string(),
  promotionName: z.string().optional(),
  actor: z.string().optional(),
  createdAt: z.string(),
  origin: z.object({ kind: z.string(), name: z.string() }),
})

/** Stage status as Tugboat writes it: Kargo's field names, plus the `phase` the Kargo CLI shows. */
export const StageStatusSchema = z
  .object({
    phase: z.enum(['NotApplicable', 'Steady', 'Promoting', 'Verifying', 'Failed']).optional(),
    conditions: z.array(ConditionSchema).optional(),
    freightHistory: z.array(FreightCollectionSchema).optional(),
    currentPromotion: PromotionRefSchema.optional(),
    lastPromotion: PromotionRefSchema.optional(),
    health: StageHealthSchema.optional(),
    autoPromotionHolds: z.record(z.string(), AutoPromotionHoldSchema).optional(),
    freightSummary: z.string().optional(),
    /** Tugboat: Argo CD apps whose health decides the Stage's health, registered by argocd-update. */
    healthChecks: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .passthrough()
export type StageStatus = z.infer<typeof StageStatusSchema>

/** How many FreightCollections a Stage remembers. */
export const FREIGHT_HISTORY_LIMIT = 10

/** `Warehouse/<name>`: the key of an origin in a FreightCollection. */
export function originKey(origin: { kind: string; name: string }): string {
  return `${origin.kind}/${origin.name}`
}
