import { ValidationError } from '../errors.js'
import type { FreightChart, FreightCommit, FreightImage } from '../model/resources.js'
import type { Db } from '../store/client.js'
import type { Freight } from '../store/freight.js'
import { requireResource } from '../store/resources.js'
import { assembleFreight, type DiscoveredArtifacts } from './freight-assembly.js'

export interface FreightRequest {
  warehouse: string
  images?: Array<{ repoURL: string; tag?: string; digest?: string }>
  commits?: Array<{ repoURL: string; id?: string; tag?: string }>
  charts?: Array<{ repoURL: string; name?: string; version: string }>
}

/**
 * Assembles Freight from artifacts a Warehouse has discovered (its `status.discoveredArtifacts`), for
 * `freightCreationPolicy: Manual` (and hand-picked Freight on Automatic ones). Every subscription needs exactly
 * one artifact, and each must be one the Warehouse discovered. Idempotent by fingerprint.
 */
export async function createFreightFromDiscovered(
  db: Db,
  project: string,
  request: FreightRequest,
  now = new Date(),
): Promise<{ created: boolean; freight: Freight }> {
  const warehouse = await requireResource(db, { project, kind: 'Warehouse', name: request.warehouse })
  const discovered = (warehouse.status as { discoveredArtifacts?: DiscoveredArtifacts } | undefined)
    ?.discoveredArtifacts
  if (!discovered)
    throw new ValidationError(
      `Warehouse "${request.warehouse}" has not discovered anything yet; refresh it first`,
    )
  const images: FreightImage[] = []
  for (const subscription of discovered.images ?? []) {
    const wanted = (request.images ?? []).filter((i) => i.repoURL === subscription.repoURL)
    if (wanted.length !== 1)
      throw new ValidationError(`images: name exactly one revision of ${subscription.repoURL}`)
    const match = subscription.references.find(
      (r) =>
        (wanted[0]!.tag ? r.tag === wanted[0]!.tag : true) &&
        (wanted[0]!.digest ? r.digest === wanted[0]!.digest : true),
    )
    if (!match)
      throw new ValidationError(
        `images: ${subscription.repoURL}:${wanted[0]!.tag ?? wanted[0]!.digest} was not discovered by Warehouse "${request.warehouse}"`,
      )
    images.push({ repoURL: subscription.repoURL, tag: match.tag, digest: match.digest })
  }
  const commits: FreightCommit[] = []
  for (const subscription of discovered.git ?? []) {
    const wanted = (request.commits ?? []).filter((c) => c.repoURL === subscription.repoURL)
    if (wanted.length !== 1)
      throw new ValidationError(`commits: name exactly one commit of ${subscription.repoURL}`)
    const match = subscription.commits.find(
      (c) =>
        (wanted[0]!.id ? c.id.startsWith(wanted[0]!.id) : true) &&
        (wanted[0]!.tag ? c.tag === wanted[0]!.tag : true),
    )
    if (!match)
      throw new ValidationError(
        `commits: ${wanted[0]!.id ?? wanted[0]!.tag} of ${subscription.repoURL} was not discovered by Warehouse "${request.warehouse}"`,
      )
    commits.push({
      repoURL: subscription.repoURL,
      id: match.id,
      ...(match.tag ? { tag: match.tag } : {}),
      ...(match.branch ? { branch: match.branch } : {}),
      message: match.message,
      author: match.author,
      committer: match.committer,
    })
  }
  const charts: FreightChart[] = []
  for (const subscription of discovered.charts ?? []) {
    const wanted = (request.charts ?? []).filter(
      (c) => c.repoURL === subscription.repoURL && (!subscription.name || c.name === subscription.name),
    )
    if (wanted.length !== 1)
      throw new ValidationError(
        `charts: name exactly one version of ${subscription.repoURL}${subscription.name ? `/${subscription.name}` : ''}`,
      )
    if (!subscription.versions.includes(wanted[0]!.version))
      throw new ValidationError(
        `charts: version ${wanted[0]!.version} was not discovered by Warehouse "${request.warehouse}"`,
      )
    charts.push({
      repoURL: subscription.repoURL,
      ...(subscription.name ? { name: subscription.name } : {}),
      version: wanted[0]!.version,
    })
  }
  return assembleFreight(db, project, request.warehouse, { images, commits, charts }, now)
}
