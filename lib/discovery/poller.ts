import { ConflictError, messageOf, NotFoundError, ValidationError } from '../errors.js'
import { setCondition, type Condition } from '../model/meta.js'
import { WarehouseSpecSchema } from '../model/resources.js'
import { parseDuration } from '../promotion/durations.js'
import type { Db } from '../store/client.js'
import type { Freight } from '../store/freight.js'
import {
  getResource,
  queryIndex,
  updateResource,
  updateTogether,
  type StoredResource,
} from '../store/resources.js'
import { keys } from '../store/table.js'
import { assembleFreight, newestArtifacts, type DiscoveredArtifacts } from './freight-assembly.js'
import { discoveryFailedEvent } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import type { createTokenCache } from './oci/registry-client.js'
import { discoverCharts } from './chart.js'
import { discoverCommits } from './git.js'
import { discoverImages, type KnownImage } from './image.js'
import {
  ChartSubscriptionSchema,
  GitSubscriptionSchema,
  ImageSubscriptionSchema,
  type Credentials,
} from './types.js'

export interface PollDeps {
  db: Db
  /** Repository credentials of the project, by type and URL. */
  credentials: (
    project: string,
    type: 'git' | 'image' | 'helm',
    repoURL: string,
  ) => Promise<Credentials | undefined>
  now?: () => Date
  /** Shortest interval honoured, whatever a Warehouse asks for. */
  minIntervalMs?: number
  tokenCache?: ReturnType<typeof createTokenCache>
  fetch?: typeof globalThis.fetch
  log?: (line: string) => void
  /** Called with each new piece of Freight (auto-promotion, events). */
  onFreight?: (project: string, freight: Freight) => Promise<void>
}

/** How long a claim on a Warehouse lasts: an invocation that dies mid-poll frees it after this. */
export const DISCOVERY_LEASE_MS = 5 * 60_000

type Subscription = { image?: unknown; git?: unknown; chart?: unknown }

/** The outcome of one poll, for the API's refresh and the CLI. */
export interface PollResult {
  warehouse: string
  ok: boolean
  message?: string
  freightCreated?: string[]
}

async function discover(
  deps: PollDeps,
  project: string,
  subscriptions: Subscription[],
  previous: DiscoveredArtifacts | undefined,
): Promise<DiscoveredArtifacts> {
  const out: DiscoveredArtifacts = { discoveredAt: (deps.now?.() ?? new Date()).toISOString() }
  for (const [index, subscription] of subscriptions.entries()) {
    if (subscription.image) {
      const sub = ImageSubscriptionSchema.parse(subscription.image)
      const before = previous?.images?.find((i) => i.repoURL === sub.repoURL)
      const known = new Map<string, KnownImage>(
        (before?.references ?? []).map((r) => [
          r.tag,
          { digest: r.digest, ...(r.createdAt ? { createdAt: r.createdAt } : {}) },
        ]),
      )
      const credentials = await deps.credentials(project, 'image', sub.repoURL)
      const result = await discoverImages(sub, {
        known,
        ...(credentials ? { credentials } : {}),
        ...(deps.tokenCache ? { tokenCache: deps.tokenCache } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      })
      if (result.references.length === 0)
        throw new ValidationError(
          `subscriptions[${index}]: no tag of ${sub.repoURL} matches the subscription`,
        )
      ;(out.images ??= []).push({
        repoURL: result.repoURL,
        ...(result.platform ? { platform: result.platform } : {}),
        references: result.references,
      })
    } else if (subscription.git) {
      const sub = GitSubscriptionSchema.parse(subscription.git)
      const before = previous?.git?.find((g) => g.repoURL === sub.repoURL)
      const credentials = await deps.credentials(project, 'git', sub.repoURL)
      const result = await discoverCommits(sub, {
        ...(before?.refs ? { lastSeenRefs: before.refs } : {}),
        ...(credentials ? { credentials } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      })
      const commits = result.unchanged && before ? before.commits : result.commits
      if (commits.length === 0)
        throw new ValidationError(
          `subscriptions[${index}]: no commit of ${sub.repoURL} matches the subscription`,
        )
      ;(out.git ??= []).push({ repoURL: result.repoURL, commits, refs: result.refs })
    } else if (subscription.chart) {
      const sub = ChartSubscriptionSchema.parse(subscription.chart)
      const credentials = await deps.credentials(project, 'helm', sub.repoURL)
      const result = await discoverCharts(sub, {
        ...(credentials ? { credentials } : {}),
        ...(deps.tokenCache ? { tokenCache: deps.tokenCache } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      })
      if (result.versions.length === 0)
        throw new ValidationError(
          `subscriptions[${index}]: no version of ${sub.repoURL}${sub.name ? `/${sub.name}` : ''} matches the subscription`,
        )
      ;(out.charts ??= []).push({
        repoURL: result.repoURL,
        ...(result.name ? { name: result.name } : {}),
        ...(result.semverConstraint ? { semverConstraint: result.semverConstraint } : {}),
        versions: result.versions,
      })
    }
  }
  return out
}

/** Claims a due Warehouse by pushing its next poll time ahead; false when another invocation has it. */
async function claim(db: Db, project: string, name: string, now: Date): Promise<boolean> {
  let claimed = false
  try {
    await updateResource(
      db,
      { project, kind: 'Warehouse', name },
      (current) => {
        const next = (current.status as { nextDiscoveryAt?: string } | undefined)?.nextDiscoveryAt
        if (next && Date.parse(next) > now.getTime()) return undefined
        claimed = true
        return {
          ...current,
          status: {
            ...current.status,
            nextDiscoveryAt: new Date(now.getTime() + DISCOVERY_LEASE_MS).toISOString(),
          },
        }
      },
      { attempts: 1 },
    )
  } catch (error) {
    if (error instanceof ConflictError) return false
    throw error
  }
  return claimed
}

/**
 * Polls one Warehouse and records the outcome on it: discovered artifacts, Freight (Automatic policy),
 * conditions with a useful message on failure, and when it is next due. Never throws for a source's error.
 */
export async function pollWarehouse(
  deps: PollDeps,
  project: string,
  name: string,
  options: { force?: boolean } = {},
): Promise<PollResult> {
  const now = deps.now?.() ?? new Date()
  if (!options.force && !(await claim(deps.db, project, name, now)))
    return { warehouse: name, ok: true, message: 'already being polled' }
  const resource = await getResource(deps.db, { project, kind: 'Warehouse', name })
  if (!resource) throw new NotFoundError(`Warehouse "${name}" not found in project "${project}"`)
  const spec = WarehouseSpecSchema.parse(resource.spec)
  const intervalMs = Math.max(parseDuration(spec.interval, 'spec.interval'), deps.minIntervalMs ?? 0)
  const previous = (resource.status as { discoveredArtifacts?: DiscoveredArtifacts } | undefined)
    ?.discoveredArtifacts
  let artifacts: DiscoveredArtifacts | undefined
  let failure: string | undefined
  let newFailure = false
  const created: Freight[] = []
  try {
    artifacts = await discover(deps, project, spec.subscriptions as Subscription[], previous)
    if (spec.freightCreationPolicy === 'Automatic') {
      const result = await assembleFreight(deps.db, project, name, newestArtifacts(artifacts), now)
      if (result.created) created.push(result.freight)
    }
  } catch (error) {
    failure = messageOf(error)
    deps.log?.(`discovery failed for ${project}/${name}: ${failure}`)
  }
  await updateTogether(
    deps.db,
    [
      {
        ref: { project, kind: 'Warehouse', name },
        change: (current) => {
          const status = { ...(current.status ?? {}) } as Record<string, unknown> & {
            conditions?: Condition[]
          }
          const ready = status.conditions?.find((c) => c.type === 'Ready')
          // Subscribers hear of a failure once, and again only if the reason changes, not on every poll.
          newFailure = failure !== undefined && !(ready?.status === 'False' && ready.message === failure)
          if (artifacts) status.discoveredArtifacts = artifacts
          if (created[0]) status.lastFreightID = created[0].metadata.name
          status.nextDiscoveryAt = new Date(now.getTime() + intervalMs).toISOString()
          status.lastDiscoveryAt = now.toISOString()
          status.observedGeneration = current.metadata.generation
          status.conditions = setCondition(
            status.conditions,
            failure
              ? { type: 'Ready', status: 'False', reason: 'DiscoveryFailed', message: failure }
              : {
                  type: 'Ready',
                  status: 'True',
                  reason: 'DiscoverySucceeded',
                  message: `discovered at ${now.toISOString()}`,
                },
            now,
          )
          return { ...current, status }
        },
      },
    ],
    8,
    () =>
      failure && newFailure
        ? outboxItems(deps.db, [
            discoveryFailedEvent({ project, warehouse: name, message: failure }, { now }),
          ])
        : [],
  )
  for (const freight of created) await deps.onFreight?.(project, freight)
  return {
    warehouse: name,
    ok: !failure,
    ...(failure ? { message: failure } : {}),
    freightCreated: created.map((f) => f.metadata.name),
  }
}

/** Finds due Warehouses with a Query on the due index and polls each; one failing never stops the others. */
export async function pollDueWarehouses(deps: PollDeps): Promise<PollResult[]> {
  const now = deps.now?.() ?? new Date()
  const due = await queryIndex(deps.db, 'GSI2', keys.dueWarehouses, { upTo: `${now.toISOString()}#\uffff` })
  const results: PollResult[] = []
  for (const warehouse of due as StoredResource[]) {
    const project = warehouse.metadata.namespace!
    try {
      results.push(await pollWarehouse(deps, project, warehouse.metadata.name))
    } catch (error) {
      results.push({
        warehouse: `${project}/${warehouse.metadata.name}`,
        ok: false,
        message: messageOf(error),
      })
    }
  }
  return results
}

