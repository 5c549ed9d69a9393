import { z } from 'zod'

/*
 * The parts of Argo CD's `v1alpha1Application` (see `argocd-swagger.json`) that Tugboat reads. Every object is
 * loose: unknown fields are kept, so a source read here can be sent back in a merge patch without erasing
 * fields this file does not know. Argo CD omits empty fields; a `null` is read as "absent".
 */

const maybe = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => value ?? undefined, schema.optional())

/** `v1alpha1HelmParameter`. */
export const HelmParameterSchema = z.looseObject({
  name: maybe(z.string()),
  value: maybe(z.string()),
  forceString: maybe(z.boolean()),
})
export type HelmParameter = z.infer<typeof HelmParameterSchema>

/** `v1alpha1ApplicationSource`: one git directory, Helm chart or OCI artifact an app renders. */
export const ApplicationSourceSchema = z.looseObject({
  repoURL: maybe(z.string()),
  path: maybe(z.string()),
  chart: maybe(z.string()),
  targetRevision: maybe(z.string()),
  ref: maybe(z.string()),
  name: maybe(z.string()),
  helm: maybe(z.looseObject({ parameters: maybe(z.array(HelmParameterSchema)) })),
  kustomize: maybe(z.looseObject({ images: maybe(z.array(z.string())) })),
})
export type ApplicationSource = z.infer<typeof ApplicationSourceSchema>

/** `v1alpha1Info`: a name/value pair attached to an operation (we tag ours with the Promotion). */
export const InfoSchema = z.looseObject({ name: z.string(), value: z.string() })
export type Info = z.infer<typeof InfoSchema>

/** `v1alpha1Operation`: a requested (top-level `operation`) or recorded (`operationState.operation`) operation. */
export const OperationSchema = z.looseObject({
  sync: maybe(
    z.looseObject({
      revision: maybe(z.string()),
      revisions: maybe(z.array(z.string())),
      /** The source(s) the operation renders, when the server recorded them. */
      source: maybe(ApplicationSourceSchema),
      sources: maybe(z.array(ApplicationSourceSchema)),
    }),
  ),
  initiatedBy: maybe(z.looseObject({ username: maybe(z.string()), automated: maybe(z.boolean()) })),
  info: maybe(z.array(InfoSchema)),
})
export type Operation = z.infer<typeof OperationSchema>

/** Operation phases; `Succeeded`, `Failed` and `Error` are final. */
export type OperationPhase = 'Running' | 'Terminating' | 'Succeeded' | 'Failed' | 'Error'

/** `v1alpha1OperationState`: the controller's record of the current or last operation. */
export const OperationStateSchema = z.looseObject({
  phase: z.string(),
  message: maybe(z.string()),
  startedAt: maybe(z.string()),
  finishedAt: maybe(z.string()),
  retryCount: maybe(z.number()),
  operation: maybe(OperationSchema),
  syncResult: maybe(
    z.looseObject({
      revision: maybe(z.string()),
      revisions: maybe(z.array(z.string())),
    }),
  ),
})
export type OperationState = z.infer<typeof OperationStateSchema>

/** `v1alpha1ApplicationStatus`, reduced to sync, health, operation state, reconciliation time and conditions. */
export const ApplicationStatusSchema = z.looseObject({
  sync: maybe(
    z.looseObject({
      status: maybe(z.string()),
      revision: maybe(z.string()),
      revisions: maybe(z.array(z.string())),
    }),
  ),
  health: maybe(z.looseObject({ status: maybe(z.string()), message: maybe(z.string()) })),
  operationState: maybe(OperationStateSchema),
  reconciledAt: maybe(z.string()),
  conditions: maybe(z.array(z.looseObject({ type: z.string(), message: maybe(z.string()) }))),
})
export type ApplicationStatus = z.infer<typeof ApplicationStatusSchema>

/** `v1alpha1Application`. */
export const ApplicationSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: maybe(z.string()),
    labels: maybe(z.record(z.string(), z.string())),
    annotations: maybe(z.record(z.string(), z.string())),
    resourceVersion: maybe(z.string()),
  }),
  spec: z.looseObject({
    project: maybe(z.string()),
    source: maybe(ApplicationSourceSchema),
    sources: maybe(z.array(ApplicationSourceSchema)),
    syncPolicy: maybe(
      z.looseObject({
        automated: maybe(z.looseObject({ enabled: maybe(z.boolean()) })),
        syncOptions: maybe(z.array(z.string())),
      }),
    ),
  }),
  operation: maybe(OperationSchema),
  status: maybe(ApplicationStatusSchema),
})
export type Application = z.infer<typeof ApplicationSchema>

/** `v1alpha1ApplicationList` (its `items` is `null` when empty). */
export const ApplicationListSchema = z.looseObject({ items: maybe(z.array(ApplicationSchema)) })

/** grpc-gateway v1's error body: `{error, code, message, details}` (`error` and `message` are the same text). */
export const RuntimeErrorSchema = z.looseObject({
  error: maybe(z.string()),
  code: maybe(z.number()),
  message: maybe(z.string()),
})
export type RuntimeError = z.infer<typeof RuntimeErrorSchema>
