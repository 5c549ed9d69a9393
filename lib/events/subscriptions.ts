import { z } from 'zod'
import { ObjectMetaSchema } from '../model/meta.js'
import type { Db } from '../store/client.js'
import { listResources, updateResource, type StoredResource } from '../store/resources.js'
import { tugboatDataOf, type CloudEvent } from './types.js'

export const EVENTS_API_VERSION = 'tugboat.io/v1alpha1'
export const EVENT_SUBSCRIPTION_KIND = 'EventSubscription'

const TypePatternSchema = z
  .string()
  .min(1)
  .refine((p) => !p.slice(0, -1).includes('*'), {
    message: 'a type is exact, or a prefix ending in "*" (e.g. dev.cdevents.service.*)',
  })

/** Where to POST which events, and the Secret (cred-type generic, key `secret`) that signs them. */
export const EventSubscriptionSpecSchema = z
  .object({
    url: z.string().refine(
      (value) => {
        try {
          const url = new URL(value)
          return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password
        } catch {
          return false
        }
      },
      { message: 'must be an http:// or https:// URL without credentials in it' },
    ),
    /** Event types: exact, or a prefix ending in `*`. All types when absent. */
    types: z.array(TypePatternSchema).optional(),
    /** Only events about these Stages. All events (also those about no Stage) when absent. */
    stages: z.array(z.string().min(1)).optional(),
    /** A Secret in the project with a `secret` key: deliveries carry `X-Tugboat-Signature-256`. */
    secretRef: z
      .object({ name: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict()
export type EventSubscriptionSpec = z.infer<typeof EventSubscriptionSpecSchema>

/** The manifest users apply (`tugboat apply`, `/v1beta1/resources`). Add to `applicableKinds`. */
export const EventSubscriptionManifestSchema = z
  .object({
    apiVersion: z.literal(EVENTS_API_VERSION, { message: `must be "${EVENTS_API_VERSION}"` }),
    kind: z.literal(EVENT_SUBSCRIPTION_KIND),
    metadata: ObjectMetaSchema,
    spec: EventSubscriptionSpecSchema,
  })
  .strict()
export type EventSubscriptionManifest = z.infer<typeof EventSubscriptionManifestSchema>

/** One delivery attempt as the subscription's status shows it. */
export const DeliveryStatusSchema = z.object({
  eventId: z.string(),
  type: z.string(),
  attemptAt: z.string(),
  attempt: z.number().int(),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
})
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>

export const EventSubscriptionStatusSchema = z
  .object({
    lastDelivery: DeliveryStatusSchema.optional(),
    /** The most recent attempts, newest first (at most RECENT_DELIVERIES). */
    deliveries: z.array(DeliveryStatusSchema).optional(),
  })
  .passthrough()

export const RECENT_DELIVERIES = 10

export interface EventSubscription {
  name: string
  project: string
  spec: EventSubscriptionSpec
}

/** True when `type` matches one of `patterns` (exact, or prefix before a trailing `*`); no patterns match all. */
export function typeMatches(patterns: readonly string[] | undefined, type: string): boolean {
  if (!patterns?.length) return true
  return patterns.some((p) => (p.endsWith('*') ? type.startsWith(p.slice(0, -1)) : p === type))
}

/** Whether a subscription wants an event: its types, and its stages (an event about no Stage never matches a stage filter). */
export function subscriptionMatches(spec: EventSubscriptionSpec, event: CloudEvent): boolean {
  if (!typeMatches(spec.types, event.type)) return false
  if (!spec.stages?.length) return true
  const stage = tugboatDataOf(event)?.stage
  return stage !== undefined && spec.stages.includes(stage)
}

/** The project's EventSubscriptions. One that does not parse is skipped, with a log line (it cannot be delivered to). */
export async function listSubscriptions(
  db: Db,
  project: string,
  log?: (line: string) => void,
): Promise<EventSubscription[]> {
  const out: EventSubscription[] = []
  for (const resource of await listResources(db, project, EVENT_SUBSCRIPTION_KIND)) {
    const spec = EventSubscriptionSpecSchema.safeParse(resource.spec)
    if (spec.success) out.push({ name: resource.metadata.name, project, spec: spec.data })
    else log?.(`EventSubscription ${project}/${resource.metadata.name} has an invalid spec; skipped`)
  }
  return out
}

/** Adds an attempt to the subscription's status (lastDelivery and the recent list). */
export async function recordDeliveryStatus(
  db: Db,
  project: string,
  name: string,
  delivery: DeliveryStatus,
): Promise<StoredResource> {
  return updateResource(db, { project, kind: EVENT_SUBSCRIPTION_KIND, name }, (current) => {
    const status = EventSubscriptionStatusSchema.parse(current.status ?? {})
    const recent = [
      delivery,
      ...(status.deliveries ?? []).filter(
        (d) => !(d.eventId === delivery.eventId && d.attempt === delivery.attempt),
      ),
    ]
    return {
      ...current,
      status: { ...status, lastDelivery: delivery, deliveries: recent.slice(0, RECENT_DELIVERIES) },
    }
  })
}
