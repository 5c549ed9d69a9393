/** Git providers Kargo can name a commit URL for (the `provider` of `git-push`). */
export type GitProvider = 'azure' | 'bitbucket' | 'gitea' | 'github' | 'gitlab'

/**
 * The web URL of a commit, as Kargo's git providers build it, or `undefined` when the provider is neither given nor
 * recognisable from the host (github/gitlab/gitea in the host name, bitbucket.org, dev.azure.com, *.visualstudio.com).
 */
export function commitURL(repoURL: string, sha: string, provider?: GitProvider): string | undefined {
  const parsed = parseRepoURL(repoURL)
  if (!parsed) return undefined
  const name = provider ?? inferProvider(parsed.host)
  switch (name) {
    case 'github': {
      const parts = parsed.path.replace(/^\//, '').split('/')
      if (parts.length !== 2) return undefined
      return `https://${parsed.host}/${parts[0]}/${parts[1]}/commit/${sha}`
    }
    case 'gitlab':
      return `https://${parsed.host}${parsed.path}/-/commit/${sha}`
    case 'gitea':
      return `https://${parsed.host}${parsed.path}/commit/${sha}`
    case 'bitbucket':
      return `https://${parsed.host}${parsed.path}/commits/${sha}`
    case 'azure':
      return `https://dev.azure.com${parsed.path.replace(/^\/v3/, '')}/commit/${sha}`
    default:
      return undefined
  }
}

function inferProvider(host: string): GitProvider | undefined {
  const hostname = host.replace(/:\d+$/, '')
  if (host.includes('github') || host.endsWith('.ghe.com')) return 'github'
  if (host.includes('gitlab')) return 'gitlab'
  if (host.includes('gitea')) return 'gitea'
  if (hostname === 'bitbucket.org') return 'bitbucket'
  if (host === 'dev.azure.com' || host.endsWith('visualstudio.com')) return 'azure'
  return undefined
}

/** Host and path of a git URL, normalised as Kargo does: lowercased, no user info, no `.git`, no trailing `/`. */
function parseRepoURL(repoURL: string): { host: string; path: string } | undefined {
  let url = repoURL.trim().toLowerCase()
  const scp = /^([^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(url)
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//.test(url)) url = `ssh://${scp[2]}/${scp[3]}`
  try {
    const parsed = new URL(url)
    const path = parsed.pathname.replace(/\/+$/, '').replace(/\.git$/, '')
    return { host: parsed.host, path }
  } catch {
    return undefined
  }
}
