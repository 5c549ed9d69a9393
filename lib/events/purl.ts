/**
 * Package URLs (https://github.com/package-url/purl-spec) for the artifacts in Freight, as CDEvents wants for
 * `artifactId` and artifact subjects, and the reverse: which repositories an inbound purl points at.
 */

export interface Purl {
  type: string
  namespace?: string
  name: string
  version?: string
  qualifiers: Record<string, string>
}

// Qualifier values keep `/` and `:` readable (purl's own OCI examples do: repository_url=docker.io/library/debian).
function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, '/').replace(/%3A/gi, ':')
}

/** Renders a purl in canonical order (qualifiers sorted by key, empty ones dropped). */
export function formatPurl(purl: Purl): string {
  const path = [purl.namespace, purl.name]
    .filter((p): p is string => Boolean(p))
    .flatMap((p) => p.split('/'))
    .map((segment) => encodeURIComponent(segment))
    .join('/')
  const version = purl.version ? `@${encodeURIComponent(purl.version)}` : ''
  const qualifiers = Object.entries(purl.qualifiers)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${encodeValue(v)}`)
    .join('&')
  return `pkg:${purl.type}/${path}${version}${qualifiers ? `?${qualifiers}` : ''}`
}

/** Parses a purl; undefined when it is not one. */
export function parsePurl(text: string): Purl | undefined {
  const match = /^pkg:\/*([a-zA-Z][a-zA-Z0-9.+-]*)\/([^?#]+?)(?:@([^?#]+))?(?:\?([^#]*))?(?:#.*)?$/.exec(
    text.trim(),
  )
  if (!match) return undefined
  try {
    const segments = match[2]!
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s))
    const name = segments.pop()
    if (!name) return undefined
    const qualifiers: Record<string, string> = {}
    for (const pair of (match[4] ?? '').split('&').filter(Boolean)) {
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      qualifiers[pair.slice(0, eq).toLowerCase()] = decodeURIComponent(pair.slice(eq + 1))
    }
    return {
      type: match[1]!.toLowerCase(),
      ...(segments.length ? { namespace: segments.join('/') } : {}),
      name,
      ...(match[3] ? { version: decodeURIComponent(match[3]) } : {}),
      qualifiers,
    }
  } catch {
    return undefined
  }
}

/** `docker.io/library/nginx` for `nginx`; other references keep their registry. Drops a scheme. */
function fullImageRepository(repoURL: string): string {
  const bare = repoURL.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '')
  const first = bare.split('/')[0] ?? ''
  const hasRegistry =
    bare.includes('/') && (first === 'localhost' || first.includes('.') || first.includes(':'))
  if (hasRegistry) return bare
  return bare.includes('/') ? `docker.io/${bare}` : `docker.io/library/${bare}`
}

/** `pkg:oci/<name>@<digest>?repository_url=<registry/path>&tag=<tag>` for an image. */
export function imagePurl(image: { repoURL: string; tag?: string; digest?: string }): string {
  const repository = fullImageRepository(image.repoURL)
  const name = (repository.split('/').pop() ?? repository).toLowerCase()
  return formatPurl({
    type: 'oci',
    name,
    ...(image.digest ? { version: image.digest } : {}),
    qualifiers: { repository_url: repository, ...(image.tag ? { tag: image.tag } : {}) },
  })
}

/** A commit: `pkg:github/<owner>/<repo>@<sha>` on github.com, else `pkg:generic/<repo>@<sha>?vcs_url=git+<url>@<sha>`. */
export function commitPurl(commit: { repoURL: string; id: string }): string {
  const https = /^https?:\/\/(?:[^@/]+@)?github\.com\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/i.exec(commit.repoURL)
  if (https)
    return formatPurl({
      type: 'github',
      namespace: https[1]!.toLowerCase(),
      name: https[2]!.toLowerCase(),
      version: commit.id,
      qualifiers: {},
    })
  const name =
    (commit.repoURL
      .replace(/\.git\/?$/, '')
      .split(/[/:]/)
      .pop() ??
      'repository') ||
    'repository'
  const url = /^[a-z+]+:\/\//i.test(commit.repoURL)
    ? commit.repoURL
    : `ssh://${commit.repoURL.replace(':', '/')}`
  return formatPurl({
    type: 'generic',
    name,
    version: commit.id,
    qualifiers: { vcs_url: `git+${url}@${commit.id}` },
  })
}

/** A chart: `pkg:generic/<name>@<version>?repository_url=<url>` (purl has no Helm type; OCI charts keep oci://). */
export function chartPurl(chart: { repoURL: string; name?: string; version: string }): string {
  const name = chart.name ?? chart.repoURL.replace(/\/+$/, '').split('/').pop() ?? 'chart'
  return formatPurl({
    type: 'generic',
    name,
    version: chart.version,
    qualifiers: { repository_url: chart.repoURL },
  })
}

/** Repositories an inbound purl points at, by kind (what Warehouse subscriptions may be subscribed to). */
export function repositoriesOfPurl(text: string): { images: string[]; git: string[]; charts: string[] } {
  const out = { images: [] as string[], git: [] as string[], charts: [] as string[] }
  const purl = parsePurl(text)
  if (!purl) return out
  const repositoryUrl = purl.qualifiers.repository_url
  switch (purl.type) {
    case 'oci': {
      const repo = repositoryUrl ?? purl.name
      out.images.push(repo)
      out.charts.push(`oci://${repo.replace(/^oci:\/\//, '')}`)
      break
    }
    case 'docker': {
      const registry = repositoryUrl ?? 'docker.io'
      out.images.push([registry, purl.namespace, purl.name].filter(Boolean).join('/'))
      break
    }
    case 'github':
    case 'gitlab':
    case 'bitbucket': {
      const host = { github: 'github.com', gitlab: 'gitlab.com', bitbucket: 'bitbucket.org' }[purl.type]
      out.git.push(`https://${host}/${[purl.namespace, purl.name].filter(Boolean).join('/')}`)
      break
    }
    case 'helm':
      if (repositoryUrl) out.charts.push(repositoryUrl)
      break
    default: {
      const vcs = purl.qualifiers.vcs_url
      if (vcs) out.git.push(vcs.replace(/^git\+/, '').replace(/@[^@/]*$/, ''))
      if (repositoryUrl) out.charts.push(repositoryUrl)
    }
  }
  return out
}
