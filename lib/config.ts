import { z } from 'zod'

/** Deployment configuration, parsed once from the environment. */
export const ConfigSchema = z.object({
  TUGBOAT_TABLE: z.string().min(1).default('tugboat'),
  TUGBOAT_PROMOTIONS_QUEUE_URL: z.string().optional(),
  AWS_REGION: z.string().default('us-east-1'),
  /** base64 of 32 bytes; encrypts repository credentials at rest. */
  TUGBOAT_ENCRYPTION_KEY: z.string().optional(),
  /** Shortest Warehouse interval honoured, in seconds. */
  TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(60),
  /** Public base URL of the API (for receiver URLs and links). */
  TUGBOAT_PUBLIC_URL: z.string().optional(),
  ARGOCD_SERVER: z.string().optional(),
  ARGOCD_AUTH_TOKEN: z.string().optional(),
  ARGOCD_INSECURE: z.string().optional(),
})
export type Config = z.infer<typeof ConfigSchema>

let cached: Config | undefined

/** The configuration of this process. Call inside handlers, never at import time. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  if (env === process.env && cached) return cached
  const parsed = ConfigSchema.parse(env)
  if (env === process.env) cached = parsed
  return parsed
}

/** For tests and the local runtime, which set the environment after import. */
export function resetConfig(): void {
  cached = undefined
}
