import { TerminalError } from '../errors.js'
import { redactURL } from '../git/redact.js'

/** Where a repository lives, as the provider clients need it. */
export interface RepoLocation {
  /** `http` or `https` (SSH URLs map to `https`, as Kargo's clients do). */
  scheme: 'http' | 'https'
  /** Host with its port when one is given over http(s), lowercased. */
  host: string
  /** The repository path without leading/trailing `/` and `.git`: `owner/repo`, or `group/sub/project` on GitLab. */
  path: string
}

/**
 * Parses a repoURL (`https://host/owner/repo.git`, `ssh://git@host/owner/repo`, `git@host:owner/repo.git`) into
 * scheme, host and repository path. A TerminalError when it is not a URL or names no repository.
 */
export function parseRepoURL(repoURL: string): RepoLocation {
  let url = repoURL.trim()
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(url)
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `ssh://${scp[1]}/${scp[2]}`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TerminalError(`repoURL "${redactURL(repoURL)}" is not a URL`, { data: { field: 'repoURL' } })
  }
  const web = parsed.protocol === 'http:' || parsed.protocol === 'https:'
  const path = decodeURIComponent(parsed.pathname)
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
  if (path === '' || parsed.hostname === '') {
    throw new TerminalError(`repoURL "${redactURL(repoURL)}" names no repository`, {
      data: { field: 'repoURL' },
    })
  }
  return {
    scheme: parsed.protocol === 'http:' ? 'http' : 'https',
    host: web ? parsed.host : parsed.hostname,
    path,
  }
}

/**
 * Splits `owner/repo`, with the `owner/repo` slug messages name and the `/repos/{owner}/{repo}` API path GitHub and
 * Gitea share. A TerminalError when the path has another shape (GitHub and Gitea have no subgroups).
 */
export function ownerAndRepo(
  location: RepoLocation,
  provider: string,
): { owner: string; repo: string; slug: string; repoPath: string } {
  const parts = location.path.split('/')
  const [owner, repo] = parts
  if (parts.length !== 2 || !owner || !repo) {
    throw new TerminalError(
      `cannot find the ${provider} owner and repository in "${location.path}" (expected owner/repo)`,
      { data: { field: 'repoURL' } },
    )
  }
  return {
    owner,
    repo,
    slug: `${owner}/${repo}`,
    repoPath: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`,
  }
}
