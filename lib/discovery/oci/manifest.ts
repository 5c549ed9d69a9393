import { z } from 'zod'

/** Media types of manifests and indexes this client reads. */
export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
} as const

/** The Accept header for manifest reads: indexes and image manifests, OCI and Docker v2. */
export const manifestAccept = [
  MediaTypes.ociIndex,
  MediaTypes.dockerList,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifest,
].join(', ')

const AnnotationsSchema = z.record(z.string(), z.string())

export const PlatformSchema = z.object({
  os: z.string().optional(),
  architecture: z.string().optional(),
  variant: z.string().optional(),
})

export const DescriptorSchema = z.object({
  mediaType: z.string().optional(),
  digest: z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'not a digest'),
  size: z.number().optional(),
  platform: PlatformSchema.optional(),
  annotations: AnnotationsSchema.optional(),
  artifactType: z.string().optional(),
})
export type Descriptor = z.infer<typeof DescriptorSchema>

export const ImageIndexSchema = z.object({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
  annotations: AnnotationsSchema.optional(),
})
export type ImageIndex = z.infer<typeof ImageIndexSchema>

export const ImageManifestSchema = z.object({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema).nullish(),
  annotations: AnnotationsSchema.optional(),
})
export type ImageManifest = z.infer<typeof ImageManifestSchema>

/** The parts of an image config blob discovery reads. */
export const ImageConfigSchema = z.object({
  created: z.string().optional(),
  os: z.string().optional(),
  architecture: z.string().optional(),
  variant: z.string().optional(),
  config: z.object({ Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
})
export type ImageConfig = z.infer<typeof ImageConfigSchema>

export const TagListSchema = z.object({
  name: z.string().optional(),
  tags: z.array(z.string()).nullish(),
})

/** The Docker token service's answer (either field name may carry the token). */
export const TokenResponseSchema = z
  .object({
    token: z.string().optional(),
    access_token: z.string().optional(),
    expires_in: z.number().optional(),
    issued_at: z.string().optional(),
  })
  .refine((r) => r.token !== undefined || r.access_token !== undefined, 'no token in the response')

/** Distribution's error body. */
export const RegistryErrorBodySchema = z.object({
  errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() })).optional(),
})
