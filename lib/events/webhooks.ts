/**
 * Webhook receivers declared in a project's ProjectConfig (`spec.webhookReceivers`), served Kargo-style at
 * `/webhooks/<type>/<sha256(project + receiver name + secret value)>`: the path is unguessable without the secret,
 * and providers that sign (GitHub, Gitea) or send a token (GitLab, Harbor) are checked as well.
 */
import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { z } from 'zod'
import { evaluate, evaluateTemplate } from '../expressions/index.js'
import { messageOf } from '../errors.js'
import { normalizeChartURL, normalizeGitURL, normalizeImageURL } from '../model/freight-name.js'
import { ConditionSchema, setCondition } from '../model/meta.js'
import { ProjectConfigSpecSchema } from '../model/resources.js'
import type { Db } from '../store/client.js'
import { getResource, listResources, updateResource, type StoredResource } from '../store/resources.js'
import type { Sealer } from '../store/sealing.js'
import { refreshAll, warehousesFor, type RefreshOutcome } from './refresh.js'
import {
  evaluateReceiver,
  genericBody,
  RECEIVER_SECRET_KEYS,
  SUPPORTED_RECEIVER_TYPES,
  type ReceiverRequest,
  type ReceiverType,
} from './receivers.js'
import { getCredential } from '../store/credentials.js'
import { getWebhookRoute, replaceWebhookRoutes } from './store.js'

/** Where receivers are mounted on the API's base URL. */
export const WEBHOOK_BASE_PATH = '/webhooks'

type ReceiverConfig = NonNullable<z.infer<typeof ProjectConfigSpecSchema>['webhookReceivers']>[number]
type GenericConfig = NonNullable<ReceiverConfig['generic']>

export interface WebhookDeps {
  db: Db
  sealer: Sealer
  /** Polls one Warehouse now. */
  refreshWarehouse?: (project: string, warehouse: string) => Promise<unknown>
  log?: (line: string) => void
}

/** The type of a receiver config: the one provider key that is set. */
export function receiverTypeOf(config: ReceiverConfig): ReceiverType | undefined {
  const set = (Object.keys(RECEIVER_SECRET_KEYS) as ReceiverType[]).filter(
    (type) => config[type] !== undefined,
  )
  return set.length === 1 ? set[0] : undefined
}

/**
 * Kargo's receiver path: `/webhooks/<type>/<hex sha256(project + name + secret values)>`. Changing the secret
 * changes the URL (as in Kargo). Keep this function stable: users paste these URLs into their providers.
 */
export function receiverPath(
  project: string,
  type: ReceiverType,
  name: string,
  secretValues: readonly string[],
): string {
  const hash = createHash('sha256')
    .update(project + name + secretValues.join(''))
    .digest('hex')
  return `${WEBHOOK_BASE_PATH}/${type}/${hash}`
}

/** What ProjectConfig.status.webhookReceivers shows. */
export interface ReceiverDetails {
  name: string
  path: string
  url: string
}

const projectConfigRef = (project: string) => ({ project, kind: 'ProjectConfig', name: project })

function receiverConfigsOf(config: StoredResource | undefined): ReceiverConfig[] {
  if (!config) return []
  return ProjectConfigSpecSchema.optional().parse(config.spec)?.webhookReceivers ?? []
}

function secretNameOf(config: ReceiverConfig, type: ReceiverType): string {
  const block = config[type]
  return block?.secretRef.name ?? ''
}

async function resolveReceiver(
  deps: Pick<WebhookDeps, 'db' | 'sealer'>,
  project: string,
  config: ReceiverConfig,
): Promise<{ type: ReceiverType; path: string; secretData: Record<string, string> } | { problem: string }> {
  const type = receiverTypeOf(config)
  if (!type)
    return {
      problem: `webhook receiver "${config.name}": set exactly one provider (github, gitlab, dockerhub, …)`,
    }
  const secretName = secretNameOf(config, type)
  if (!secretName) return { problem: `webhook receiver "${config.name}": ${type}.secretRef.name is required` }
  const secretData = (await getCredential(deps.db, deps.sealer, project, secretName))?.data
  if (!secretData)
    return {
      problem: `webhook receiver "${config.name}": Secret "${secretName}" not found in project "${project}"`,
    }
  const key = RECEIVER_SECRET_KEYS[type]
  const value = secretData[key]
  if (value === undefined || value === '')
    return { problem: `webhook receiver "${config.name}": Secret "${secretName}" has no "${key}" key` }
  return { type, path: receiverPath(project, type, config.name, [value]), secretData }
}

/**
 * Each receiver's path and URL (for ProjectConfig.status.webhookReceivers), plus problems (missing Secrets or
 * keys) for a condition. `baseUrl` is the API's public URL (TUGBOAT_PUBLIC_URL).
 */
export async function webhookReceiverDetails(
  deps: Pick<WebhookDeps, 'db' | 'sealer'>,
  project: string,
  baseUrl = '',
  /** The project's ProjectConfig when the caller has read it (null: it has none); read here otherwise. */
  projectConfig?: StoredResource | null,
): Promise<{ receivers: ReceiverDetails[]; problems: string[] }> {
  const receivers: ReceiverDetails[] = []
  const problems: string[] = []
  const stored =
    projectConfig === undefined ? await getResource(deps.db, projectConfigRef(project)) : projectConfig
  for (const config of receiverConfigsOf(stored ?? undefined)) {
    const resolved = await resolveReceiver(deps, project, config)
    if ('problem' in resolved) {
      problems.push(resolved.problem)
      continue
    }
    receivers.push({
      name: config.name,
      path: resolved.path,
      url: `${baseUrl.replace(/\/+$/, '')}${resolved.path}`,
    })
  }
  return { receivers, problems }
}

/**
 * Points the webhook routes at the project's current receivers (call after a ProjectConfig or Secret of the
 * project changes, and on the reconcile schedule to heal). Returns what `webhookReceiverDetails` returns.
 */
export async function syncWebhookRoutes(
  deps: Pick<WebhookDeps, 'db' | 'sealer'>,
  project: string,
  baseUrl = '',
  projectConfig?: StoredResource | null,
): Promise<{ receivers: ReceiverDetails[]; problems: string[] }> {
  const details = await webhookReceiverDetails(deps, project, baseUrl, projectConfig)
  await replaceWebhookRoutes(
    deps.db,
    project,
    details.receivers.map((r) => ({ path: r.path.slice(WEBHOOK_BASE_PATH.length + 1), receiver: r.name })),
  )
  return details
}

/**
 * `syncWebhookRoutes`, then records the receivers on the ProjectConfig as Kargo does: `status.webhookReceivers`
 * ([{name, path, url}]) and a `WebhookReceiversReady` condition naming any problem. Writes only when something
 * changed, so it is cheap to call on every reconcile pass.
 */
export async function syncWebhookReceivers(
  deps: Pick<WebhookDeps, 'db' | 'sealer'>,
  project: string,
  baseUrl = '',
  now = new Date(),
): Promise<{ receivers: ReceiverDetails[]; problems: string[] }> {
  const config = await getResource(deps.db, projectConfigRef(project))
  const details = await syncWebhookRoutes(deps, project, baseUrl, config ?? null)
  const statusFor = (status: Record<string, unknown>) => {
    if (!details.receivers.length && !details.problems.length && status.webhookReceivers === undefined)
      return undefined
    const conditions = setCondition(
      z
        .array(ConditionSchema)
        .catch([])
        .parse(status.conditions ?? []),
      details.problems.length
        ? {
            type: 'WebhookReceiversReady',
            status: 'False',
            reason: 'ReceiverProblems',
            message: details.problems.join('; '),
          }
        : {
            type: 'WebhookReceiversReady',
            status: 'True',
            reason: 'Ready',
            message: `${details.receivers.length} webhook receiver(s) ready`,
          },
      now,
    )
    const next = { ...status, webhookReceivers: details.receivers, conditions }
    // DynamoDB does not keep map key order: compare by value.
    return isDeepStrictEqual(next, status) ? undefined : next
  }
  // Reconcile calls this on every pass: write (and read again, for the version guard) only on a change.
  if (!config || !statusFor({ ...(config.status ?? {}) })) return details
  await updateResource(deps.db, projectConfigRef(project), (current) => {
    const next = statusFor({ ...(current.status ?? {}) })
    return next ? { ...current, status: next } : undefined
  })
  return details
}

/** The HTTP answer to a webhook request. */
export interface WebhookResponse {
  status: 200 | 400 | 401 | 404 | 500 | 501
  body: Record<string, unknown>
}

const notFound: WebhookResponse = { status: 404, body: { error: 'no webhook receiver at this path' } }

function refreshed(results: RefreshOutcome[], what: string): WebhookResponse {
  const failures = results.filter((r) => !r.ok)
  const msg = `refreshed ${results.length - failures.length} of ${results.length} warehouse(s)`
  return {
    status: failures.length ? 500 : 200,
    body: {
      msg,
      event: what,
      warehouses: results,
      ...(failures.length
        ? { error: `failed to refresh ${failures.length} of ${results.length} warehouses` }
        : {}),
    },
  }
}

/**
 * Handles a request to `/webhooks/<type>/<hash>`: finds the receiver, checks that the path still matches its
 * current secret (a rotated secret retires the old URL), authenticates the request the provider's way, and
 * refreshes the Warehouses it concerns. Nothing is refreshed for a request that fails authentication.
 */
export async function handleWebhook(
  deps: WebhookDeps,
  input: { type: string; hash: string; request: ReceiverRequest },
): Promise<WebhookResponse> {
  if (!(input.type in RECEIVER_SECRET_KEYS) || !/^[0-9a-f]{64}$/.test(input.hash)) return notFound
  const route = await getWebhookRoute(deps.db, `${input.type}/${input.hash}`)
  if (!route) return notFound
  const config = receiverConfigsOf(await getResource(deps.db, projectConfigRef(route.project))).find(
    (c) => c.name === route.receiver,
  )
  if (!config) return notFound
  const resolved = await resolveReceiver(deps, route.project, config)
  if ('problem' in resolved || resolved.path !== `${WEBHOOK_BASE_PATH}/${input.type}/${input.hash}`)
    return notFound
  const type = resolved.type
  if (!SUPPORTED_RECEIVER_TYPES.includes(type))
    return { status: 501, body: { error: `${type} webhook receivers are not supported by Tugboat yet` } }
  if (!deps.refreshWarehouse)
    return { status: 500, body: { error: 'discovery is not configured in this deployment' } }
  if (type === 'generic') return runGenericReceiver(deps, route.project, config.generic!, input.request)
  const verdict = evaluateReceiver(type, resolved.secretData, input.request)
  switch (verdict.kind) {
    case 'unauthorized':
      deps.log?.(`webhook ${route.project}/${config.name}: refused (${verdict.message})`)
      return { status: 401, body: { error: verdict.message } }
    case 'bad-request':
      return { status: 400, body: { error: verdict.message } }
    case 'ignored':
      return { status: 200, body: { msg: verdict.message } }
    case 'refresh': {
      const warehouses = await warehousesFor(deps.db, route.project, verdict.change)
      return refreshed(await refreshAll(deps.refreshWarehouse, route.project, warehouses), verdict.what)
    }
  }
}

// ---- generic receivers ----

type Action = NonNullable<GenericConfig['actions']>[number]
type Criteria = NonNullable<Action['targetSelectionCriteria']>[number]

interface ActionResult {
  action: string
  whenExpression?: string
  matchedWhenExpression: boolean
  selectedTargets?: Array<{ namespace: string; name: string; success: boolean }>
  result: 'NotApplicable' | 'Error' | 'Success' | 'PartialSuccess' | 'Failure'
  summary?: string
}

function asString(template: string, env: Record<string, unknown>): string {
  const value = evaluateTemplate(template, env)
  if (typeof value !== 'string')
    throw new Error(`expression ${JSON.stringify(template)} evaluated to ${typeof value}; not a string`)
  return value
}

function labelsMatch(
  selector: NonNullable<Criteria['labelSelector']>,
  labels: Record<string, string>,
  env: Record<string, unknown>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== asString(value, env)) return false
  for (const expr of selector.matchExpressions ?? []) {
    const values = (expr.values ?? []).map((v) => asString(v, env))
    const has = expr.key in labels
    switch (expr.operator) {
      case 'In':
        if (!has || !values.includes(labels[expr.key]!)) return false
        break
      case 'NotIn':
        if (has && values.includes(labels[expr.key]!)) return false
        break
      case 'Exists':
        if (!has) return false
        break
      case 'DoesNotExist':
        if (has) return false
        break
      default:
        throw new Error(`unsupported label selector operator "${expr.operator}"`)
    }
  }
  return true
}

/** The repository URLs a Warehouse subscribes to, each in every normalised form a generic value may be compared with. */
function subscribedURLs(spec: unknown): Set<string> {
  const out = new Set<string>()
  const parsed = z
    .object({
      subscriptions: z
        .array(z.record(z.string(), z.object({ repoURL: z.string() }).passthrough()))
        .default([]),
    })
    .passthrough()
    .safeParse(spec)
  if (!parsed.success) return out
  for (const sub of parsed.data.subscriptions) {
    if (sub.git) out.add(normalizeGitURL(sub.git.repoURL))
    if (sub.image) out.add(normalizeImageURL(sub.image.repoURL))
    if (sub.chart) out.add(normalizeChartURL(sub.chart.repoURL))
  }
  return out
}

async function selectTargets(
  db: Db,
  project: string,
  criteria: Criteria,
  env: Record<string, unknown>,
): Promise<string[]> {
  if (criteria.kind !== 'Warehouse') throw new Error(`unsupported target kind "${criteria.kind}"`)
  const name = criteria.name ? asString(criteria.name, env) : undefined
  const out: string[] = []
  for (const warehouse of await listResources(db, project, 'Warehouse')) {
    if (name !== undefined && warehouse.metadata.name !== name) continue
    if (criteria.labelSelector && !labelsMatch(criteria.labelSelector, warehouse.metadata.labels ?? {}, env))
      continue
    let indexed = true
    for (const index of criteria.indexSelector?.matchIndices ?? []) {
      if (index.key !== 'subscribedURLs')
        throw new Error(`index "${index.key}" is not supported for Warehouses`)
      if (index.operator !== 'Equal' && index.operator !== 'NotEqual')
        throw new Error(`unsupported operator "${index.operator}" in index selector`)
      const has = subscribedURLs(warehouse.spec).has(asString(index.value, env))
      if ((index.operator === 'Equal') !== has) indexed = false
    }
    if (indexed) out.push(warehouse.metadata.name)
  }
  return out
}

/**
 * A generic receiver (Kargo parity): for each action, `whenExpression` (an expr-lang expression over `request`,
 * `params`, `normalizeGit|Image|Chart`) decides whether it applies; `targetSelectionCriteria` pick Warehouses by
 * name, labels or subscribed URL (values may be `${{ }}` templates); the action (Refresh) runs on them.
 */
export async function runGenericReceiver(
  deps: WebhookDeps,
  project: string,
  config: GenericConfig,
  request: ReceiverRequest,
): Promise<WebhookResponse> {
  const body = genericBody(request.body)
  if (!body.ok) return { status: 400, body: { error: body.message } }
  const baseEnv: Record<string, unknown> = {
    normalizeGit: normalizeGitURL,
    normalizeImage: normalizeImageURL,
    normalizeChart: normalizeChartURL,
    request: {
      header: (name: string) => request.header(name) ?? '',
      headers: (name: string) =>
        (request.header(name) ?? '')
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      body: body.value,
      params: (name: string) => request.query(name) ?? '',
    },
  }
  const results: ActionResult[] = []
  for (const action of config.actions ?? []) {
    const env = { ...baseEnv, params: { ...(action.parameters ?? {}) } }
    const result: ActionResult = {
      action: action.action,
      ...(action.whenExpression ? { whenExpression: action.whenExpression } : {}),
      matchedWhenExpression: false,
      result: 'NotApplicable',
    }
    try {
      const met = action.whenExpression ? evaluate(action.whenExpression, env) : true
      if (typeof met !== 'boolean')
        throw new Error(`whenExpression evaluated to ${typeof met}; expected bool`)
      result.matchedWhenExpression = met
      if (!met) {
        results.push({ ...result, summary: 'Request did not match whenExpression' })
        continue
      }
    } catch (error) {
      results.push({
        ...result,
        result: 'Error',
        summary: `Error evaluating whenExpression: ${messageOf(error)}`,
      })
      continue
    }
    let targets: string[]
    try {
      const selected = new Set<string>()
      for (const criteria of action.targetSelectionCriteria ?? [])
        for (const name of await selectTargets(deps.db, project, criteria, env)) selected.add(name)
      targets = [...selected].sort()
    } catch (error) {
      results.push({
        ...result,
        result: 'Error',
        summary: `Error evaluating targetSelectionCriteria: ${messageOf(error)}`,
      })
      continue
    }
    const outcomes = await refreshAll(deps.refreshWarehouse!, project, targets)
    const ok = outcomes.filter((o) => o.ok).length
    results.push({
      ...result,
      selectedTargets: outcomes.map((o) => ({ namespace: project, name: o.warehouse, success: o.ok })),
      result: ok === outcomes.length ? 'Success' : ok === 0 ? 'Failure' : 'PartialSuccess',
      summary: `Refreshed ${ok} of ${outcomes.length} selected resources`,
    })
  }
  const failed = results.some(
    (r) => r.result === 'Error' || r.result === 'Failure' || r.result === 'PartialSuccess',
  )
  return { status: failed ? 500 : 200, body: { results } }
}

/**
 * After an apply or delete: re-syncs the receivers of every project in which a ProjectConfig or a Secret changed
 * (a receiver's URL hashes its Secret's value). The write has already landed, so a failure here is reported to
 * `log` and healed by the next reconcile rather than failing the request.
 */
export async function syncReceiversAfterChange(
  deps: Pick<WebhookDeps, 'db' | 'sealer' | 'log'>,
  changed: ReadonlyArray<{ kind: string; project: string }>,
  baseUrl = '',
): Promise<void> {
  const projects = new Set(
    changed.filter((doc) => doc.kind === 'ProjectConfig' || doc.kind === 'Secret').map((doc) => doc.project),
  )
  for (const project of projects) {
    try {
      await syncWebhookReceivers(deps, project, baseUrl)
    } catch (error) {
      deps.log?.(`webhook receivers of project "${project}" not synced yet: ${messageOf(error)}`)
    }
  }
}

/** Every project's routes, healed at once (admin tooling and the local runtime's start-up). */
export async function syncAllWebhookRoutes(
  deps: Pick<WebhookDeps, 'db' | 'sealer'>,
  baseUrl = '',
): Promise<void> {
  for (const project of await listResources(deps.db, '', 'Project'))
    await syncWebhookRoutes(deps, project.metadata.name, baseUrl)
}
