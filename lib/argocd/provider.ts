import { ArgoCDClient } from './client.js'
import { argoCDConfigFromEnv } from './config.js'

/**
 * Hands a step the Argo CD client for the Kargo project it runs in. One function, so the engine may later pick a
 * per-project server or token without the steps changing.
 */
export type ArgoCDClientProvider = (project: string) => Promise<ArgoCDClient>

/**
 * What the Argo CD steps are built with. Only `argocd` is required; the rest exist for tests and tuning.
 */
export interface ArgoCDStepDeps {
  argocd: ArgoCDClientProvider
  /** Clock, in ms since the epoch. */
  now?: () => number
  /**
   * The steps' `defaultTimeoutMs` (default 5 minutes), which the engine enforces unless the step sets
   * `retry.timeout`. When given, the steps also enforce it themselves, counting from the `startedAt` they keep in
   * their state, and answer Failed ("timed out after …") with what they were waiting for.
   */
  timeoutMs?: number
  /** How long to wait between checks (`retryAfterMs` of a Running result); default 5 s. */
  pollIntervalMs?: number
}

/**
 * A provider that serves every project from `ARGOCD_SERVER` / `ARGOCD_AUTH_TOKEN` / `ARGOCD_INSECURE`. The
 * environment is read on first use, not at import, and the client is reused.
 */
export function argoCDClientProviderFromEnv(
  env: Record<string, string | undefined> = process.env,
): ArgoCDClientProvider {
  let client: ArgoCDClient | undefined
  return async () => {
    client ??= ArgoCDClient.fromConfig(argoCDConfigFromEnv(env))
    return client
  }
}
