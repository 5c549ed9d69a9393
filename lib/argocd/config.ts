import { z } from 'zod'
import { ValidationError } from '../errors.js'

/** How to reach one Argo CD API server. `server` is a normalised http(s) base URL without a trailing slash. */
export interface ArgoCDConfig {
  server: string
  token: string
  insecureSkipTLSVerify: boolean
  rootPath?: string
}

/** Adds `https://` when no scheme is given, and drops a trailing slash. Refuses anything but http and https. */
export function normalizeServerURL(input: string): string {
  const trimmed = input.trim()
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new ValidationError(`"${input}" is not a valid Argo CD server address`, { path: 'server' })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`Argo CD server must be an http(s) URL, got "${url.protocol}"`, {
      path: 'server',
    })
  }
  if (url.search || url.hash) {
    throw new ValidationError('Argo CD server address must not have a query or a fragment', {
      path: 'server',
    })
  }
  return url.toString().replace(/\/+$/, '')
}

/** Normalises `--rootpath`: `argocd`, `/argocd/` → `/argocd`; empty → undefined. */
export function normalizeRootPath(input: string | undefined): string | undefined {
  const trimmed = input?.trim().replace(/^\/+|\/+$/g, '')
  return trimmed ? `/${trimmed}` : undefined
}

const booleanFlag = z
  .string()
  .trim()
  .toLowerCase()
  .refine((value) => ['', 'true', 'false', '1', '0', 'yes', 'no'].includes(value), {
    message: 'must be true or false',
  })
  .transform((value) => value === 'true' || value === '1' || value === 'yes')

const ArgoCDEnvSchema = z.object({
  ARGOCD_SERVER: z.string().trim().min(1, 'is required'),
  ARGOCD_AUTH_TOKEN: z.string().trim().min(1, 'is required'),
  ARGOCD_INSECURE: booleanFlag.optional(),
  ARGOCD_ROOT_PATH: z.string().optional(),
})

/**
 * Reads `ARGOCD_SERVER` (a URL, or a host without scheme meaning https), `ARGOCD_AUTH_TOKEN`, `ARGOCD_INSECURE`
 * (`true` skips TLS verification) and the optional `ARGOCD_ROOT_PATH`. Throws ValidationError naming the
 * variable; never echoes the token.
 */
export function argoCDConfigFromEnv(env: Record<string, string | undefined> = process.env): ArgoCDConfig {
  const parsed = ArgoCDEnvSchema.safeParse({
    ARGOCD_SERVER: env.ARGOCD_SERVER,
    ARGOCD_AUTH_TOKEN: env.ARGOCD_AUTH_TOKEN,
    ARGOCD_INSECURE: env.ARGOCD_INSECURE,
    ARGOCD_ROOT_PATH: env.ARGOCD_ROOT_PATH,
  })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const variable = String(issue?.path[0] ?? 'ARGOCD_SERVER')
    const reason = issue?.code === 'invalid_type' ? 'is required' : (issue?.message ?? 'is invalid')
    throw new ValidationError(`${variable} ${reason}`, { path: variable })
  }
  const rootPath = normalizeRootPath(parsed.data.ARGOCD_ROOT_PATH)
  return {
    server: normalizeServerURL(parsed.data.ARGOCD_SERVER),
    token: parsed.data.ARGOCD_AUTH_TOKEN,
    insecureSkipTLSVerify: parsed.data.ARGOCD_INSECURE ?? false,
    ...(rootPath ? { rootPath } : {}),
  }
}
