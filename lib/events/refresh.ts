import { z } from 'zod'
import { messageOf } from '../errors.js'
import { compilePathFilter } from '../discovery/path-filter.js'
import { normalizeChartURL, normalizeGitURL, normalizeImageURL } from '../model/freight-name.js'
import type { Db } from '../store/client.js'
import { listResources, updateResource } from '../store/resources.js'

/** What changed upstream, as a webhook or an artifact event tells it. */
export interface RepositoryChange {
  /** Git repository URLs (any form: https, ssh, scp). */
  git?: string[]
  /** Image repository references (tags/digests are ignored). */
  images?: string[]
  /** Chart repository URLs (oci:// or http(s)). */
  charts?: string[]
  /** For git: the pushed ref (`refs/heads/main`, `refs/tags/v1.2.3`); unset = any. */
  ref?: string
  /** For git: the repository's default branch, for subscriptions that name no branch. */
  defaultBranch?: string
  /**
   * For git: every path the push changed. Unset or empty = unknown (e.g. truncated payloads), which refreshes
   * every subscribed Warehouse, as Kargo does.
   */
  changedPaths?: string[]
}

// Only what matching needs; the full schema is discovery's business (a Warehouse it rejects still matches here).
const GitSubSchema = z
  .object({
    repoURL: z.string(),
    branch: z.string().optional(),
    commitSelectionStrategy: z.string().optional(),
    includePaths: z.array(z.string()).optional(),
    excludePaths: z.array(z.string()).optional(),
  })
  .passthrough()
type GitSub = z.infer<typeof GitSubSchema>
const RepoSubSchema = z.object({ repoURL: z.string() }).passthrough()
const SubscriptionsSchema = z
  .object({
    subscriptions: z
      .array(
        z
          .object({
            git: GitSubSchema.optional(),
            image: RepoSubSchema.optional(),
            chart: RepoSubSchema.optional(),
          })
          .passthrough(),
      )
      .default([]),
  })
  .passthrough()
const PollOutcomeSchema = z.object({ ok: z.boolean(), message: z.string().optional() }).passthrough()

function gitRefMatches(sub: GitSub, change: RepositoryChange): boolean {
  if (!change.ref) return true
  const strategy = sub.commitSelectionStrategy ?? 'NewestFromBranch'
  if (strategy !== 'NewestFromBranch') return change.ref.startsWith('refs/tags/')
  if (!change.ref.startsWith('refs/heads/')) return false
  const branch = sub.branch || change.defaultBranch
  return branch === undefined || change.ref === `refs/heads/${branch}`
}

function gitPathsMatch(sub: GitSub, change: RepositoryChange): boolean {
  if (!change.changedPaths?.length) return true
  return compilePathFilter({
    ...(sub.includePaths ? { includePaths: sub.includePaths } : {}),
    ...(sub.excludePaths ? { excludePaths: sub.excludePaths } : {}),
  })(change.changedPaths)
}

/**
 * The Warehouses of a project subscribed to a changed repository (URLs compared Kargo-normalised). Git
 * subscriptions must also match the pushed ref (their branch, or tags for tag strategies) and their
 * includePaths/excludePaths must accept some changed path. Image and chart subscriptions match by repository only:
 * the poll applies their tag rules.
 */
export async function warehousesFor(db: Db, project: string, change: RepositoryChange): Promise<string[]> {
  const git = new Set((change.git ?? []).filter(Boolean).map(normalizeGitURL))
  const images = new Set((change.images ?? []).filter(Boolean).map(normalizeImageURL))
  const charts = new Set((change.charts ?? []).filter(Boolean).map(normalizeChartURL))
  const out: string[] = []
  for (const warehouse of await listResources(db, project, 'Warehouse')) {
    const spec = SubscriptionsSchema.safeParse(warehouse.spec)
    if (!spec.success) continue
    const matches = spec.data.subscriptions.some((sub) => {
      if (sub.git && git.has(normalizeGitURL(sub.git.repoURL))) {
        try {
          return gitRefMatches(sub.git, change) && gitPathsMatch(sub.git, change)
        } catch {
          return true // a filter that does not compile: let the poll report it
        }
      }
      if (sub.image && images.has(normalizeImageURL(sub.image.repoURL))) return true
      if (sub.chart) {
        const url = sub.chart.repoURL
        return (
          charts.has(normalizeChartURL(url)) ||
          (url.startsWith('oci://') && images.has(normalizeChartURL(url)))
        )
      }
      return false
    })
    if (matches) out.push(warehouse.metadata.name)
  }
  return out
}

/** One Warehouse refresh as the API reports it. */
export interface RefreshOutcome {
  warehouse: string
  ok: boolean
  message?: string
}

/** Refreshes Warehouses in parallel; one failing never stops the others. */
export async function refreshAll(
  refresh: (project: string, warehouse: string) => Promise<unknown>,
  project: string,
  warehouses: string[],
): Promise<RefreshOutcome[]> {
  const settled = await Promise.allSettled(warehouses.map((w) => refresh(project, w)))
  return settled.map((r, i) => {
    const warehouse = warehouses[i]!
    if (r.status === 'rejected') return { warehouse, ok: false, message: messageOf(r.reason) }
    // pollWarehouse answers {ok, message}; any other answer counts as done.
    const outcome = PollOutcomeSchema.safeParse(r.value)
    if (!outcome.success) return { warehouse, ok: true }
    return {
      warehouse,
      ok: outcome.data.ok,
      ...(outcome.data.message ? { message: outcome.data.message } : {}),
    }
  })
}

/**
 * Asks for a Warehouse poll without waiting for it: marks the Warehouse due now, so the next discover run (every
 * minute) polls it. For webhook senders with short timeouts (GitHub gives up after 10 s); `pollWarehouse` itself
 * is the synchronous alternative. Answers like a poll result, `{warehouse, ok, message}`.
 */
export async function requestRefresh(
  db: Db,
  project: string,
  warehouse: string,
  now = new Date(),
): Promise<{ warehouse: string; ok: boolean; message: string }> {
  await updateResource(db, { project, kind: 'Warehouse', name: warehouse }, (current) => {
    const status = z
      .object({ nextDiscoveryAt: z.string().optional() })
      .passthrough()
      .parse(current.status ?? {})
    if (status.nextDiscoveryAt && Date.parse(status.nextDiscoveryAt) <= now.getTime()) return undefined
    return { ...current, status: { ...status, nextDiscoveryAt: now.toISOString() } }
  })
  return { warehouse, ok: true, message: 'refresh requested; the next discovery run polls it' }
}
