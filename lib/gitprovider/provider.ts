import { TerminalError } from '../errors.js'
import type { RepoCredentials, StepContext } from '../steps/types.js'
import { giteaProvider } from './gitea.js'
import { githubProvider } from './github.js'
import { gitlabProvider } from './gitlab.js'
import { parseRepoURL } from './repo-url.js'
import type { GitProvider, GitProviderName, GitProviderOptions } from './types.js'

/*
 * Which client serves a repoURL. As in Kargo, an explicit `provider` wins; otherwise the host decides: "github" in
 * it or `*.ghe.com` → GitHub, "gitlab" → GitLab, "gitea" → Gitea. A self-hosted server on any other host
 * (git.example.com) needs `provider` in the step's config; its API root is then derived from the repoURL's scheme
 * and host (`/api/v3` GitHub Enterprise, `/api/v4` GitLab, `/api/v1` Gitea).
 */

/** The provider a repoURL's host suggests, or `undefined`. */
export function inferProviderName(repoURL: string): GitProviderName | undefined {
  let host: string
  try {
    host = parseRepoURL(repoURL).host
  } catch {
    return undefined
  }
  const hostname = host.replace(/:\d+$/, '')
  if (host.includes('github') || hostname.endsWith('.ghe.com')) return 'github'
  if (host.includes('gitlab')) return 'gitlab'
  if (host.includes('gitea')) return 'gitea'
  if (hostname === 'bitbucket.org') return 'bitbucket'
  if (hostname === 'dev.azure.com' || hostname.endsWith('.visualstudio.com')) return 'azure'
  return undefined
}

/** A client for the repository at `repoURL`. A TerminalError when the provider is unknown or not supported. */
export function newGitProvider(repoURL: string, opts: GitProviderOptions = {}): GitProvider {
  const location = parseRepoURL(repoURL)
  const name = opts.name ?? inferProviderName(repoURL)
  switch (name) {
    case 'github':
      return githubProvider(location, opts)
    case 'gitlab':
      return gitlabProvider(location, opts)
    case 'gitea':
      return giteaProvider(location, opts)
    case 'azure':
    case 'bitbucket':
      throw new TerminalError(`the ${name} git provider is not supported by Tugboat yet`, {
        data: { field: 'provider' },
      })
    default:
      throw new TerminalError(
        `cannot tell the git provider of ${location.host}; set "provider" (github, gitlab or gitea) in the step's config`,
        { data: { field: 'provider' } },
      )
  }
}

/** What the pull-request steps pass on from their config. */
export interface ProviderStepConfig {
  repoURL: string
  provider?: GitProviderName | undefined
  insecureSkipTLSVerify?: boolean | undefined
}

/** Extra client options a step factory is built with (tests point them at a fake; deployments at a proxy). */
export type ProviderOverrides = Pick<GitProviderOptions, 'apiBaseURL' | 'fetch' | 'requestTimeoutMs'>

/**
 * A client for a step's repository, authenticated as Kargo does: with the password of the project's git credentials
 * for `repoURL` as the API token (anonymous without credentials).
 */
export async function gitProviderFor(
  ctx: StepContext,
  cfg: ProviderStepConfig,
  overrides: ProviderOverrides = {},
): Promise<GitProvider> {
  return providerWithCredentials(await ctx.credentials('git', cfg.repoURL), cfg, overrides, ctx.signal)
}

/** {@link gitProviderFor} with credentials the step already looked up. */
export function providerWithCredentials(
  creds: RepoCredentials | undefined,
  cfg: ProviderStepConfig,
  overrides: ProviderOverrides = {},
  signal?: AbortSignal,
): GitProvider {
  return newGitProvider(cfg.repoURL, {
    ...overrides,
    ...(cfg.provider ? { name: cfg.provider } : {}),
    ...(creds?.password ? { token: creds.password } : {}),
    ...(cfg.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
    ...(signal ? { signal } : {}),
  })
}
