import { ConflictError } from '../errors.js'
import { artifactPublishedEvents, freightInfo } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import { generateAlias } from '../model/alias.js'
import { freightName } from '../model/freight-name.js'
import type { FreightChart, FreightCommit, FreightImage } from '../model/resources.js'
import type { Db } from '../store/client.js'
import { createFreight, type Freight } from '../store/freight.js'
import type { DiscoveredCommit, DiscoveredImageReference } from './types.js'

/* Turning discovered artifacts into Freight: shared by polling and manual Freight creation (no source clients here). */

export interface DiscoveredArtifacts {
  discoveredAt: string
  images?: Array<{ repoURL: string; platform?: string; references: DiscoveredImageReference[] }>
  git?: Array<{ repoURL: string; commits: DiscoveredCommit[]; refs?: Record<string, string> }>
  charts?: Array<{ repoURL: string; name?: string; semverConstraint?: string; versions: string[] }>
}

/** The newest revision of every subscription: the contents of the Freight an Automatic Warehouse creates. */
export function newestArtifacts(artifacts: DiscoveredArtifacts): {
  images: FreightImage[]
  commits: FreightCommit[]
  charts: FreightChart[]
} {
  return {
    images: (artifacts.images ?? []).map((i) => ({
      repoURL: i.repoURL,
      tag: i.references[0]!.tag,
      digest: i.references[0]!.digest,
      ...(i.references[0]!.annotations ? { annotations: i.references[0]!.annotations } : {}),
    })),
    commits: (artifacts.git ?? []).map((g) => {
      const c = g.commits[0]!
      return {
        repoURL: g.repoURL,
        id: c.id,
        ...(c.branch ? { branch: c.branch } : {}),
        ...(c.tag ? { tag: c.tag } : {}),
        message: c.message,
        author: c.author,
        committer: c.committer,
      }
    }),
    charts: (artifacts.charts ?? []).map((c) => ({
      repoURL: c.repoURL,
      ...(c.name ? { name: c.name } : {}),
      version: c.versions[0]!,
    })),
  }
}

/** Creates Freight from chosen artifacts (idempotent by fingerprint), retrying aliases until one is free. */
export async function assembleFreight(
  db: Db,
  project: string,
  warehouse: string,
  contents: { images: FreightImage[]; commits: FreightCommit[]; charts: FreightChart[] },
  now: Date,
): Promise<{ created: boolean; freight: Freight }> {
  const name = freightName(warehouse, {
    images: contents.images.map((i) => ({
      repoURL: i.repoURL ?? '',
      tag: i.tag ?? '',
      ...(i.digest ? { digest: i.digest } : {}),
    })),
    commits: contents.commits.map((c) => ({
      repoURL: c.repoURL ?? '',
      id: c.id ?? '',
      ...(c.tag ? { tag: c.tag } : {}),
    })),
    charts: contents.charts.map((c) => ({
      repoURL: c.repoURL ?? '',
      name: c.name ?? '',
      version: c.version ?? '',
    })),
  })
  for (let attempt = 0; ; attempt++) {
    try {
      return await createFreight(
        db,
        {
          project,
          name,
          alias: generateAlias(),
          origin: { kind: 'Warehouse', name: warehouse },
          ...contents,
          discoveredAt: now,
        },
        // artifact.published goes out with the Freight (outbox, same transaction).
        (freight) =>
          outboxItems(
            db,
            artifactPublishedEvents({ project, warehouse, freight: freightInfo(freight) }, { now }),
          ),
      )
    } catch (error) {
      if (!(error instanceof ConflictError) || error.data.reason !== 'alias' || attempt >= 20) throw error
    }
  }
}
