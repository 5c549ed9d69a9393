import { appKey, appSources } from './application.js'
import type { Application, ApplicationSource, HelmParameter } from './schemas.js'

/** One `sources[]` entry of the `argocd-update` step config. */
export interface SourceUpdate {
  repoURL: string
  chart?: string
  desiredRevision?: string
  updateTargetRevision?: boolean
  kustomize?: { images?: Array<{ repoURL: string; tag?: string; digest?: string; newName?: string }> }
  helm?: { images: Array<{ key: string; value: string }> }
}

/**
 * Canonical form of a git URL for comparison: lower case, no credentials, no trailing `/` or `.git`;
 * scp-style `git@host:org/repo` becomes `ssh://git@host/org/repo`. Unrecognised input is returned as-is.
 */
export function normalizeGitURL(repoURL: string): string {
  const lower = repoURL.trim().toLowerCase()
  const trimPath = (p: string) => p.replace(/\/+$/, '').replace(/\.git$/, '')
  if (/^(https?|ssh):\/\//.test(lower)) {
    let url: URL
    try {
      url = new URL(lower)
    } catch {
      return repoURL
    }
    if (url.search) return repoURL
    if (url.protocol !== 'ssh:') {
      url.username = ''
      url.password = ''
    }
    url.pathname = trimPath(url.pathname)
    return url.toString().replace(/\/+$/, '')
  }
  const scp = /^((?:[\w-]+@)?[\w-]+(?:\.[\w-]+)*)(?::(.*))?$/.exec(lower)
  if (!scp) return repoURL
  const path = trimPath(scp[2] ?? '')
  return path ? `ssh://${scp[1]}/${path.replace(/^\/+/, '')}` : `ssh://${scp[1]}`
}

/**
 * The desired revision of each app source, aligned with {@link appSources}: the `desiredRevision` of the update
 * whose `repoURL` and `chart` equal the source's exactly, or `''` when none does (as Kargo does).
 */
export function desiredRevisionsFor(app: Application, updates: readonly SourceUpdate[]): string[] {
  return appSources(app).map((source) => {
    const update = updates.find(
      (candidate) => candidate.repoURL === source.repoURL && (candidate.chart ?? '') === (source.chart ?? ''),
    )
    return update?.desiredRevision ?? ''
  })
}

function updateMatches(update: SourceUpdate, source: ApplicationSource): boolean {
  if (source.chart || update.chart) {
    return source.repoURL === update.repoURL && (source.chart ?? '') === (update.chart ?? '')
  }
  return normalizeGitURL(source.repoURL ?? '') === normalizeGitURL(update.repoURL)
}

/** `<image>[=<newName>]@<digest>` or `<image>[=<newName>]:<tag>` (the digest wins). */
export function kustomizeImage(image: {
  repoURL: string
  tag?: string
  digest?: string
  newName?: string
}): string {
  const name = image.newName ? `${image.repoURL}=${image.newName}` : image.repoURL
  if (image.digest) return `${name}@${image.digest}`
  return `${name}:${image.tag ?? ''}`
}

function applyUpdate(
  update: SourceUpdate,
  desiredRevision: string,
  original: ApplicationSource,
): ApplicationSource {
  const source: ApplicationSource = structuredClone(original)
  if (update.updateTargetRevision && desiredRevision !== '') source.targetRevision = desiredRevision
  const images = update.kustomize?.images ?? []
  if (images.length > 0) {
    // Replaced wholesale, as Kargo does.
    source.kustomize = { ...source.kustomize, images: images.map(kustomizeImage) }
  }
  const helmImages = update.helm?.images ?? []
  if (helmImages.length > 0) {
    const parameters: HelmParameter[] = [...(source.helm?.parameters ?? [])]
    for (const { key, value } of helmImages) {
      const index = parameters.findIndex((p) => p.name === key)
      if (index >= 0) parameters[index] = { name: key, value }
      else parameters.push({ name: key, value })
    }
    source.helm = { ...source.helm, parameters }
  }
  return source
}

/**
 * The app's sources after the updates: each update applies to the first source it matches (exact repoURL and
 * chart for Helm, normalised URL for git). Throws when an update matches no source.
 */
export function buildDesiredSources(
  app: Application,
  updates: readonly SourceUpdate[],
  desiredRevisions: readonly string[],
): ApplicationSource[] {
  const sources = appSources(app).map((source) => structuredClone(source))
  for (const update of updates) {
    const index = sources.findIndex((source) => updateMatches(update, source))
    if (index < 0) {
      const chart = update.chart ? ` and chart "${update.chart}"` : ''
      throw new Error(`no source of Argo CD app "${appKey(app)}" matches repoURL "${update.repoURL}"${chart}`)
    }
    sources[index] = applyUpdate(update, desiredRevisions[index] ?? '', sources[index]!)
  }
  return sources
}
