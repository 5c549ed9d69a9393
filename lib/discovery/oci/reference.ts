import { ValidationError } from '../../errors.js'

/** Where an image repository lives: the host the API is called on, the repository path, and the scheme. */
export interface RepositoryLocation {
  /** Registry host as the user wrote it (`ghcr.io`, `127.0.0.1:5000`, `docker.io`). */
  registry: string
  /** Host the Distribution API is served from (`registry-1.docker.io` for Docker Hub). */
  apiHost: string
  /** Repository path inside the registry (`library/nginx`, `demo/app`). */
  repository: string
  scheme: 'http' | 'https'
}

const dockerHubHosts = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** True for loopback hosts (any port), which are spoken to over plain HTTP. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '')
  return name === 'localhost' || name === '127.0.0.1' || name === '[::1]'
}

/**
 * Parses an image repository URL (`nginx`, `docker.io/library/nginx`, `ghcr.io/org/app`, `127.0.0.1:5000/demo/app`)
 * with Docker's rules: a first segment is a registry host only if it has a `.` or `:`, or is `localhost`.
 */
export function parseRepositoryURL(repoURL: string): RepositoryLocation {
  const trimmed = repoURL.trim()
  if (trimmed === '' || /[@\s]/.test(trimmed) || trimmed.includes('://')) {
    throw new ValidationError(`invalid image repository URL ${JSON.stringify(repoURL)}`, { path: 'repoURL' })
  }
  const slash = trimmed.indexOf('/')
  const first = slash === -1 ? '' : trimmed.slice(0, slash)
  const isHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')
  let registry = isHost ? first : 'docker.io'
  let repository = isHost ? trimmed.slice(slash + 1) : trimmed
  if (
    repository === '' ||
    repository.startsWith('/') ||
    repository.endsWith('/') ||
    repository.includes('//')
  ) {
    throw new ValidationError(`invalid image repository URL ${JSON.stringify(repoURL)}`, { path: 'repoURL' })
  }
  if (/:[^/]*$/.test(repository)) {
    throw new ValidationError(`image repository URL ${JSON.stringify(repoURL)} must not include a tag`, {
      path: 'repoURL',
    })
  }
  let apiHost = registry
  if (dockerHubHosts.has(registry)) {
    registry = 'docker.io'
    apiHost = 'registry-1.docker.io'
    if (!repository.includes('/')) repository = `library/${repository}`
  }
  return { registry, apiHost, repository, scheme: isLoopbackHost(apiHost) ? 'http' : 'https' }
}
