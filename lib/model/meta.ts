import { z } from 'zod'

export const KARGO_API_VERSION = 'kargo.akuity.io/v1alpha1'

/** A Kubernetes object name (DNS-1123 subdomain). */
export const ResourceNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    message: 'must be lowercase letters, digits, "-" or ".", starting and ending with a letter or digit',
  })

/** ObjectMeta as users write it. Server-set fields are accepted (kubectl output round-trips) and ignored. */
export const ObjectMetaSchema = z
  .object({
    name: ResourceNameSchema,
    namespace: ResourceNameSchema.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    resourceVersion: z.string().optional(),
    uid: z.string().optional(),
    generation: z.number().int().optional(),
    creationTimestamp: z.string().nullable().optional(),
    deletionTimestamp: z.string().nullable().optional(),
    finalizers: z.array(z.string()).optional(),
    ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
    managedFields: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .strict()
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>

/** Metadata as Tugboat stores and returns it. */
export interface StoredMeta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  resourceVersion: string
  uid: string
  generation: number
  creationTimestamp: string
}

/** A Kubernetes-style condition. */
export const ConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string().optional(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
})
export type Condition = z.infer<typeof ConditionSchema>

/** Returns `conditions` with `next` set, keeping lastTransitionTime when the status did not change. */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now = new Date(),
): Condition[] {
  const list = conditions ?? []
  const previous = list.find((c) => c.type === next.type)
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString()
  return [...list.filter((c) => c.type !== next.type), { ...next, lastTransitionTime }]
}
