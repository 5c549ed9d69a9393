import type { CredentialsLookup, RepoCredentials } from '../steps/types.js'

/** What a git operation needs to authenticate to one remote, and the secrets to scrub from any message about it. */
export interface GitAuth {
  /** Sent with every request (pre-emptive basic auth, so no 401 round trip). Empty when there are no credentials. */
  headers: Record<string, string>
  /** Every secret that must never appear in a message, output or log. */
  secrets: string[]
}

/** No credentials. */
export const anonymous: GitAuth = { headers: {}, secrets: [] }

/** Builds basic-auth headers from repository credentials (username defaults to `git`, as token-only hosts accept any). */
export function gitAuthFrom(creds: RepoCredentials | undefined): GitAuth {
  if (!creds || (creds.username === undefined && creds.password === undefined)) return anonymous
  const username = creds.username ?? 'git'
  const password = creds.password ?? ''
  const token = Buffer.from(`${username}:${password}`).toString('base64')
  return {
    headers: { Authorization: `Basic ${token}` },
    secrets: [password, token].filter((s) => s !== ''),
  }
}

/** Resolves the project's git credentials for `repoURL` (credentials embedded in the URL are left to isomorphic-git). */
export async function lookupGitAuth(lookup: CredentialsLookup, repoURL: string): Promise<GitAuth> {
  const auth = gitAuthFrom(await lookup('git', repoURL))
  const embedded = embeddedPassword(repoURL)
  return embedded ? { ...auth, secrets: [...auth.secrets, embedded] } : auth
}

function embeddedPassword(url: string): string | undefined {
  try {
    const parsed = new URL(url)
    return parsed.password ? decodeURIComponent(parsed.password) : undefined
  } catch {
    return undefined
  }
}
