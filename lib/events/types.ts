import { z } from 'zod'

/** The CDEvents spec version Tugboat speaks (context.specversion). */
export const CDEVENTS_SPEC_VERSION = '0.5.1'

/** The event types Tugboat emits. Standard CDEvents where one fits, `dev.cdeventsx.tugboat-<subject>.<predicate>` otherwise. */
export const EVENT_TYPES = {
  serviceDeployed: 'dev.cdevents.service.deployed.0.3.0',
  serviceUpgraded: 'dev.cdevents.service.upgraded.0.3.0',
  serviceRolledback: 'dev.cdevents.service.rolledback.0.3.0',
  artifactPublished: 'dev.cdevents.artifact.published.0.3.0',
  promotionCreated: 'dev.cdeventsx.tugboat-promotion.created.0.1.0',
  promotionStarted: 'dev.cdeventsx.tugboat-promotion.started.0.1.0',
  promotionSucceeded: 'dev.cdeventsx.tugboat-promotion.succeeded.0.1.0',
  promotionFailed: 'dev.cdeventsx.tugboat-promotion.failed.0.1.0',
  promotionErrored: 'dev.cdeventsx.tugboat-promotion.errored.0.1.0',
  promotionAborted: 'dev.cdeventsx.tugboat-promotion.aborted.0.1.0',
  verificationStarted: 'dev.cdeventsx.tugboat-verification.started.0.1.0',
  verificationSucceeded: 'dev.cdeventsx.tugboat-verification.succeeded.0.1.0',
  verificationFailed: 'dev.cdeventsx.tugboat-verification.failed.0.1.0',
  freightApproved: 'dev.cdeventsx.tugboat-freight.approved.0.1.0',
  discoveryFailed: 'dev.cdeventsx.tugboat-discovery.failed.0.1.0',
} as const
export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES]

/** The inbound event types `POST /v1beta1/projects/{p}/events` acts on (any version). */
export const INBOUND_TYPE_PREFIXES = {
  artifactPublished: 'dev.cdevents.artifact.published.',
  promotionRequested: 'dev.cdeventsx.tugboat-promotion.requested.',
  testSuiteRunFinished: 'dev.cdevents.testsuiterun.finished.',
} as const

/** A CloudEvents 1.0 event in structured JSON form. Extension attributes pass through. */
export const CloudEventSchema = z
  .object({
    specversion: z.literal('1.0', { message: 'must be "1.0" (CloudEvents 1.0)' }),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1).optional(),
    time: z.string().optional(),
    datacontenttype: z.string().optional(),
    dataschema: z.string().optional(),
    data: z.unknown().optional(),
  })
  .catchall(z.unknown())
export type CloudEvent = z.infer<typeof CloudEventSchema>

/** A Freight as events name it. Artifacts are optional; they feed purls. */
export interface FreightInfo {
  name: string
  alias?: string
  /** The Warehouse it came from. */
  warehouse?: string
  /** When it was discovered; orders Freight for upgrade vs rollback. */
  discoveredAt?: string
  images?: Array<{ repoURL?: string; tag?: string; digest?: string }>
  commits?: Array<{ repoURL?: string; id?: string; tag?: string; branch?: string }>
  charts?: Array<{ repoURL?: string; name?: string; version?: string }>
}

export interface PromotionInfo {
  name: string
  phase: string
  message?: string
}

export interface VerificationInfo {
  id?: string
  phase: string
  message?: string
}

/**
 * What every Tugboat event carries in `customData` (and custom events also in `subject.content`):
 * where it happened and what it was about. Never credentials.
 */
export const TugboatEventDataSchema = z
  .object({
    project: z.string(),
    stage: z.string().optional(),
    warehouse: z.string().optional(),
    freight: z.object({ name: z.string(), alias: z.string().optional() }).optional(),
    promotion: z.object({ name: z.string(), phase: z.string(), message: z.string().optional() }).optional(),
    verification: z
      .object({ id: z.string().optional(), phase: z.string(), message: z.string().optional() })
      .optional(),
    actor: z.string().optional(),
    message: z.string().optional(),
  })
  .passthrough()
export type TugboatEventData = z.infer<typeof TugboatEventDataSchema>

/** The CDEvent carried as a CloudEvent's data (CDEvents CloudEvents binding). */
export const CDEventSchema = z
  .object({
    context: z
      .object({
        specversion: z.string(),
        id: z.string(),
        source: z.string(),
        type: z.string(),
        timestamp: z.string(),
      })
      .passthrough(),
    subject: z
      .object({
        id: z.string(),
        source: z.string().optional(),
        content: z.record(z.string(), z.unknown()).optional(),
      })
      .passthrough(),
    customData: z.unknown().optional(),
    customDataContentType: z.string().optional(),
  })
  .passthrough()
export type CDEvent = z.infer<typeof CDEventSchema>

/** The Tugboat data of an emitted event (its `customData`), if it has any. */
export function tugboatDataOf(event: CloudEvent): TugboatEventData | undefined {
  const parsed = CDEventSchema.safeParse(event.data)
  if (!parsed.success) return undefined
  const data = TugboatEventDataSchema.safeParse(parsed.data.customData)
  return data.success ? data.data : undefined
}
