import { z } from 'zod'
import { KARGO_API_VERSION, ObjectMetaSchema } from './meta.js'
import {
  ProjectSpecSchema,
  ProjectConfigSpecSchema,
  WarehouseSpecSchema,
  StageSpecSchema,
  PromotionTaskSpecSchema,
  PromotionSpecSchema,
  FreightOriginSchema,
  FreightCommitsSchema,
  FreightImagesSchema,
  FreightChartsSchema,
} from './generated/index.js'

export {
  ProjectSpecSchema,
  ProjectConfigSpecSchema,
  WarehouseSpecSchema,
  StageSpecSchema,
  PromotionTaskSpecSchema,
  PromotionSpecSchema,
}

const kargoManifest = <K extends string, S extends z.ZodType>(kind: K, spec: S) =>
  z
    .object({
      apiVersion: z.literal(KARGO_API_VERSION, { message: `must be "${KARGO_API_VERSION}"` }),
      kind: z.literal(kind),
      metadata: ObjectMetaSchema,
      spec,
    })
    .strict()

/** A Project: a unit of tenancy. The seed's legacy `spec.promotionPolicies` is accepted. */
export const ProjectManifestSchema = kargoManifest('Project', ProjectSpecSchema.optional())
export type ProjectManifest = z.infer<typeof ProjectManifestSchema>

/** Project-level configuration: promotion policies and webhook receivers. */
export const ProjectConfigManifestSchema = kargoManifest('ProjectConfig', ProjectConfigSpecSchema.optional())
export type ProjectConfigManifest = z.infer<typeof ProjectConfigManifestSchema>

export const WarehouseManifestSchema = kargoManifest('Warehouse', WarehouseSpecSchema)
export type WarehouseManifest = z.infer<typeof WarehouseManifestSchema>
export type WarehouseSpec = z.infer<typeof WarehouseSpecSchema>

export const StageManifestSchema = kargoManifest('Stage', StageSpecSchema)
export type StageManifest = z.infer<typeof StageManifestSchema>
export type StageSpec = z.infer<typeof StageSpecSchema>

export const PromotionTaskManifestSchema = kargoManifest('PromotionTask', PromotionTaskSpecSchema)
export type PromotionTaskManifest = z.infer<typeof PromotionTaskManifestSchema>

export type PromotionSpec = z.infer<typeof PromotionSpecSchema>
export type PromotionStep = NonNullable<PromotionSpec['steps']>[number]

export const FreightOriginRefSchema = FreightOriginSchema
export type FreightOrigin = z.infer<typeof FreightOriginSchema>
export type FreightCommit = z.infer<typeof FreightCommitsSchema>[number]
export type FreightImage = z.infer<typeof FreightImagesSchema>[number]
export type FreightChart = z.infer<typeof FreightChartsSchema>[number]

/** Repository credentials as Kargo takes them: a v1 Secret labelled `kargo.akuity.io/cred-type`. */
export const CRED_TYPE_LABEL = 'kargo.akuity.io/cred-type'
export const CredentialTypeSchema = z.enum(['git', 'image', 'helm', 'generic', 'argocd'])
export type CredentialType = z.infer<typeof CredentialTypeSchema>

export const SecretManifestSchema = z
  .object({
    apiVersion: z.literal('v1', { message: 'must be "v1"' }),
    kind: z.literal('Secret'),
    type: z.string().optional(),
    metadata: ObjectMetaSchema.extend({
      labels: z.record(z.string(), z.string()).refine((labels) => CRED_TYPE_LABEL in labels, {
        message: `a Secret needs the label ${CRED_TYPE_LABEL}: git|image|helm|generic|argocd`,
      }),
    }),
    stringData: z.record(z.string(), z.string()).optional(),
    data: z.record(z.string(), z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')).optional(),
    immutable: z.boolean().optional(),
  })
  .strict()
  .superRefine((secret, ctx) => {
    const type = secret.metadata.labels[CRED_TYPE_LABEL]
    if (!CredentialTypeSchema.safeParse(type).success) {
      ctx.addIssue({
        code: 'custom',
        path: ['metadata', 'labels', CRED_TYPE_LABEL],
        message: `must be one of git, image, helm, generic, argocd (got "${type}")`,
      })
    }
  })
export type SecretManifest = z.infer<typeof SecretManifestSchema>

/** The metric providers Tugboat can evaluate without a cluster. */
export const SUPPORTED_METRIC_PROVIDERS = ['web', 'prometheus'] as const

const WebMetricSchema = z
  .object({
    url: z.string().min(1),
    method: z.enum(['GET', 'POST', 'PUT']).optional(),
    headers: z.array(z.object({ key: z.string(), value: z.string() }).strict()).optional(),
    body: z.string().optional(),
    jsonBody: z.unknown().optional(),
    jsonPath: z.string().optional(),
    timeoutSeconds: z.number().int().positive().optional(),
    insecure: z.boolean().optional(),
  })
  .strict()

const PrometheusMetricSchema = z
  .object({
    address: z.string().min(1),
    query: z.string().min(1),
    timeout: z.number().int().positive().optional(),
    insecure: z.boolean().optional(),
    headers: z.array(z.object({ key: z.string(), value: z.string() }).strict()).optional(),
  })
  .strict()

const MetricSchema = z
  .object({
    name: z.string().min(1),
    interval: z.string().optional(),
    initialDelay: z.string().optional(),
    count: z.union([z.number().int(), z.string()]).optional(),
    successCondition: z.string().optional(),
    failureCondition: z.string().optional(),
    failureLimit: z.union([z.number().int(), z.string()]).optional(),
    inconclusiveLimit: z.union([z.number().int(), z.string()]).optional(),
    consecutiveErrorLimit: z.union([z.number().int(), z.string()]).optional(),
    provider: z.record(z.string(), z.unknown()).superRefine((provider, ctx) => {
      const names = Object.keys(provider)
      const unsupported = names.filter((n) => !(SUPPORTED_METRIC_PROVIDERS as readonly string[]).includes(n))
      if (names.length !== 1 || unsupported.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `metric provider ${unsupported.length ? `"${unsupported.join('", "')}" is` : 'must be exactly one and'} not supported by Tugboat; supported providers: ${SUPPORTED_METRIC_PROVIDERS.join(', ')}`,
        })
        return
      }
      const schema = names[0] === 'web' ? WebMetricSchema : PrometheusMetricSchema
      const parsed = schema.safeParse(provider[names[0]!])
      for (const issue of parsed.error?.issues ?? []) {
        ctx.addIssue({ code: 'custom', path: [names[0]!, ...issue.path.map(String)], message: issue.message })
      }
    }),
  })
  .strict()

/** Argo Rollouts' AnalysisTemplate, limited to what serverless evaluation supports. */
export const AnalysisTemplateManifestSchema = z
  .object({
    apiVersion: z.literal('argoproj.io/v1alpha1', { message: 'must be "argoproj.io/v1alpha1"' }),
    kind: z.literal('AnalysisTemplate'),
    metadata: ObjectMetaSchema,
    spec: z
      .object({
        args: z
          .array(
            z
              .object({
                name: z.string().min(1),
                value: z.string().optional(),
                valueFrom: z.record(z.string(), z.unknown()).optional(),
              })
              .strict(),
          )
          .optional(),
        metrics: z.array(MetricSchema).min(1),
        dryRun: z.array(z.object({ metricName: z.string() }).strict()).optional(),
        measurementRetention: z
          .array(z.object({ metricName: z.string(), limit: z.number().int() }).strict())
          .optional(),
      })
      .strict(),
  })
  .strict()
export type AnalysisTemplateManifest = z.infer<typeof AnalysisTemplateManifestSchema>
export type AnalysisMetric = z.infer<typeof MetricSchema>
export type WebMetric = z.infer<typeof WebMetricSchema>
export type PrometheusMetric = z.infer<typeof PrometheusMetricSchema>
