import { z } from 'zod'
import { TerminalError, messageOf } from '../errors.js'
import {
  PROMOTION_INFO_KEY,
  REFRESH_ANNOTATION,
  appKey,
  appSources,
  authorizationProblem,
  currentOperation,
  hasDesiredRevision,
  isAutoSyncEnabled,
  isMultiSource,
  isOperationInProgress,
  operationPromotion,
  operationRevisions,
  revisionsMatch,
  syncResultRevisions,
} from '../argocd/application.js'
import type { ArgoCDClient } from '../argocd/client.js'
import { OperationInProgressError, SyncWindowBlockedError } from '../argocd/errors.js'
import type { ArgoCDStepDeps } from '../argocd/provider.js'
import { ArgoCDAppHealthCheckSchema } from '../argocd/health.js'
import type { Application, ApplicationSource } from '../argocd/schemas.js'
import {
  buildDesiredSources,
  desiredRevisionsFor,
  normalizeGitURL,
  type SourceUpdate,
} from '../argocd/source-update.js'
import {
  AppSelectorSchema,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_TIMEOUT_MS,
  appLabel,
  formatDuration,
  isTransient,
  nameXorSelector,
  resolveApps,
  stepErrorOf,
} from '../argocd/step-support.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `argocd-update`, over Argo CD's REST API. Kargo patches the Application (spec + `.operation`) through Kubernetes
 * in one write; the API server drops `.operation` from PATCH, so here it is two calls: PATCH the spec (with a hard
 * refresh), then POST /sync tagged with the Promotion. The step never sleeps: while Argo CD works it answers
 * Running with `retryAfterMs` and a `state`, and on the next call rebuilds its decision from the app itself
 * (the Promotion tag on the operation tells whether the sync is ours), so a repeated call never syncs twice.
 */

const KustomizeImageUpdateSchema = z
  .strictObject({
    repoURL: z.string().min(1),
    tag: z.string().optional(),
    digest: z.string().optional(),
    newName: z.string().min(1).optional(),
  })
  .refine((image) => !(image.tag && image.digest), { message: 'tag and digest are mutually exclusive' })

const SourceUpdateSchema = z
  .strictObject({
    repoURL: z.string().min(1),
    chart: z.string().min(1).optional(),
    desiredRevision: z.string().min(1).optional(),
    /** Legacy (Kargo < 1.1): the alias of an earlier step whose output `commit` is the desired revision. */
    desiredCommitFromStep: z.string().min(1).optional(),
    updateTargetRevision: z.boolean().optional(),
    kustomize: z.strictObject({ images: z.array(KustomizeImageUpdateSchema).min(1).optional() }).optional(),
    helm: z
      .strictObject({
        images: z.array(z.strictObject({ key: z.string().min(1), value: z.string() })).min(1),
      })
      .optional(),
  })
  .superRefine((source, ctx) => {
    if (source.desiredRevision && source.desiredCommitFromStep) {
      ctx.addIssue({
        code: 'custom',
        message: 'desiredRevision and desiredCommitFromStep are mutually exclusive',
        path: ['desiredCommitFromStep'],
      })
    }
    if (source.updateTargetRevision && !source.desiredRevision && !source.desiredCommitFromStep) {
      ctx.addIssue({
        code: 'custom',
        message: 'updateTargetRevision needs desiredRevision',
        path: ['desiredRevision'],
      })
    }
  })

const AppUpdateSchema = z
  .strictObject({
    name: z.string().optional(),
    namespace: z.string().min(1).optional(),
    selector: AppSelectorSchema.optional(),
    sources: z.array(SourceUpdateSchema).min(1).optional(),
  })
  .superRefine(nameXorSelector)

/** Mirrors `argocd-update-config.json`, plus the legacy `sources[].desiredCommitFromStep`. */
export const ArgoCDUpdateConfigSchema = z.strictObject({ apps: z.array(AppUpdateSchema).min(1) })
export type ArgoCDUpdateConfig = z.infer<typeof ArgoCDUpdateConfigSchema>

/**
 * The step's output on success. `apps` lists every app it synced with the revisions it must run (`''` where any
 * will do, aligned with the app's sources) and when the sync finished. `healthChecks` holds the same entries for
 * the engine, which copies them to the Stage (`status.healthChecks`); the Stage's health is then
 * `checkArgoCDHealth(client, healthChecks)` (each app judged by `appHealthForStage`).
 */
export const ArgoCDUpdateOutputSchema = z.object({
  apps: z.array(ArgoCDAppHealthCheckSchema),
  healthChecks: z.array(ArgoCDAppHealthCheckSchema),
})
export type ArgoCDUpdateOutput = z.infer<typeof ArgoCDUpdateOutputSchema>

const AppProgressSchema = z.object({
  /** Our sync request was accepted this many times. */
  syncs: z.number().int().default(0),
  /** We follow an operation someone else started on the desired revision instead of starting ours. */
  adopted: z.boolean().default(false),
})
type AppProgress = z.infer<typeof AppProgressSchema>

const UpdateStateSchema = z.object({
  startedAt: z.number(),
  apps: z.record(z.string(), AppProgressSchema).default({}),
})
type UpdateState = z.infer<typeof UpdateStateSchema>

/** A sync that finished on the desired revision but keeps reporting another one is not retried forever. */
const MAX_SYNCS = 3

interface Plan {
  app: Application
  label: string
  desiredRevisions: string[]
  desiredSources: ApplicationSource[]
}

type Outcome =
  | { phase: 'Succeeded'; finishedAt?: string }
  | { phase: 'Running'; message: string }
  | { phase: 'Failed'; message: string }

/** The `argocd-update` step, given the way to reach Argo CD (see {@link ArgoCDStepDeps}). */
export function argocdUpdateStep(deps: ArgoCDStepDeps): Step<ArgoCDUpdateConfig> {
  return {
    kind: 'argocd-update',
    config: ArgoCDUpdateConfigSchema,
    requires: ['argocd'],
    defaultTimeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    run: (ctx, config) => runUpdate(deps, ctx, config),
  }
}

async function runUpdate(
  deps: ArgoCDStepDeps,
  ctx: StepContext,
  config: ArgoCDUpdateConfig,
): Promise<StepResult> {
  const now = deps.now ?? Date.now
  // The engine enforces the step timeout (`retry.timeout`, else `defaultTimeoutMs`); deps.timeoutMs adds our own.
  const timeoutMs = deps.timeoutMs ?? Number.POSITIVE_INFINITY
  const pollMs = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS
  const previous = UpdateStateSchema.safeParse(ctx.state ?? undefined)
  const state: UpdateState = previous.success ? previous.data : { startedAt: now(), apps: {} }
  const timedOut = now() - state.startedAt >= timeoutMs
  const running = (message: string): StepResult => ({
    status: 'Running',
    message,
    retryAfterMs: pollMs,
    state,
  })

  const client = await deps.argocd(ctx.project)

  // 1. Read, authorise and plan every app before changing any of them.
  let plans: Plan[]
  try {
    plans = await planAll(client, ctx, config)
  } catch (error) {
    if (!isTransient(error)) throw stepErrorOf(error)
    const message = `waiting for Argo CD: ${messageOf(error)}`
    if (!timedOut) return running(message)
    return { status: 'Failed', message: `timed out after ${formatDuration(timeoutMs)}: ${message}` }
  }

  // 2. Move each app one step further.
  const outcomes: Array<{ plan: Plan; outcome: Outcome }> = []
  for (const plan of plans) {
    const key = appKey(plan.app)
    const progress = (state.apps[key] ??= AppProgressSchema.parse({}))
    let outcome: Outcome
    try {
      outcome = await advance(client, ctx, plan, progress, !timedOut)
    } catch (error) {
      if (!isTransient(error)) throw stepErrorOf(error)
      outcome = { phase: 'Running', message: messageOf(error) }
    }
    outcomes.push({ plan, outcome })
    if (outcome.phase === 'Failed') break
  }

  const failed = outcomes.flatMap(({ outcome }) => (outcome.phase === 'Failed' ? [outcome.message] : []))
  if (failed.length > 0) return { status: 'Failed', message: failed.join('; ') }
  const waiting = outcomes.flatMap(({ outcome }) => (outcome.phase === 'Running' ? [outcome.message] : []))
  if (waiting.length > 0) {
    if (timedOut || now() - state.startedAt >= timeoutMs) {
      return {
        status: 'Failed',
        message: `timed out after ${formatDuration(timeoutMs)}: ${waiting.join('; ')}`,
      }
    }
    return running(waiting.join('; '))
  }
  const checks: ArgoCDUpdateOutput['apps'] = outcomes.map(({ plan, outcome }) => ({
    name: plan.app.metadata.name,
    ...(plan.app.metadata.namespace ? { namespace: plan.app.metadata.namespace } : {}),
    desiredRevisions: plan.desiredRevisions,
    ...(outcome.phase === 'Succeeded' && outcome.finishedAt
      ? { operationFinishedAt: outcome.finishedAt }
      : {}),
  }))
  const output: ArgoCDUpdateOutput = { apps: checks, healthChecks: checks }
  const names = outcomes.map(({ plan }) => plan.label).join(', ')
  return { status: 'Succeeded', message: `synced ${names}`, output }
}

function resolveUpdates(
  ctx: StepContext,
  sources: NonNullable<ArgoCDUpdateConfig['apps'][number]['sources']>,
  index: number,
): SourceUpdate[] {
  return sources.map(({ desiredCommitFromStep, ...source }, i) => {
    if (!desiredCommitFromStep) return source
    const commit = ctx.outputs[desiredCommitFromStep]?.commit
    if (typeof commit !== 'string' || commit === '') {
      throw new TerminalError(
        `apps[${index}].sources[${i}].desiredCommitFromStep: step "${desiredCommitFromStep}" has no "commit" output`,
        { data: { path: `apps[${index}].sources[${i}].desiredCommitFromStep` } },
      )
    }
    return { ...source, desiredRevision: commit }
  })
}

async function planAll(client: ArgoCDClient, ctx: StepContext, config: ArgoCDUpdateConfig): Promise<Plan[]> {
  const plans: Plan[] = []
  for (const [index, entry] of config.apps.entries()) {
    const updates = resolveUpdates(ctx, entry.sources ?? [], index)
    const found = await resolveApps(client, entry, ctx.signal)
    const problems = found.map((app) => authorizationProblem(app, ctx.project, ctx.stage))
    const apps = found.filter((_, i) => problems[i] === undefined)
    if (apps.length === 0) {
      if (entry.name) throw new TerminalError(problems[0] ?? 'not authorized')
      throw new TerminalError(
        `found ${found.length} Argo CD app(s) matching the selector, but none permits updates by ` +
          `Stage "${ctx.stage}" of project "${ctx.project}" (annotation "kargo.akuity.io/authorized-stage")`,
      )
    }
    for (const [i, problem] of problems.entries()) {
      if (problem)
        ctx.log(`skipping ${appLabel(found[i]!.metadata.name, found[i]!.metadata.namespace)}: ${problem}`)
    }
    const failures: string[] = []
    for (const app of apps) {
      const desiredRevisions = desiredRevisionsFor(app, updates)
      warnOnInexactRevisionMatch(ctx, index, app, updates)
      try {
        const desiredSources = buildDesiredSources(app, updates, desiredRevisions)
        plans.push({
          app,
          label: appLabel(app.metadata.name, app.metadata.namespace),
          desiredRevisions,
          desiredSources,
        })
      } catch (error) {
        failures.push(messageOf(error))
      }
    }
    if (failures.length > 0) {
      const prefix =
        apps.length > 1 ? 'the selected apps must all have matching sources; nothing was updated: ' : ''
      throw new TerminalError(prefix + failures.join('; '))
    }
  }
  return plans
}

/**
 * Kargo takes a desired revision only from an update whose repoURL (and chart) equal the source's exactly, but
 * applies the rest to a git source whose URL is merely equivalent. Say so, since the revision then goes unused.
 */
function warnOnInexactRevisionMatch(
  ctx: StepContext,
  index: number,
  app: Application,
  updates: SourceUpdate[],
) {
  const sources = appSources(app)
  for (const [i, update] of updates.entries()) {
    if (!update.desiredRevision) continue
    const exact = sources.some(
      (s) => s.repoURL === update.repoURL && (s.chart ?? '') === (update.chart ?? ''),
    )
    if (exact || update.chart) continue
    const similar = sources.find(
      (s) => !s.chart && normalizeGitURL(s.repoURL ?? '') === normalizeGitURL(update.repoURL),
    )
    if (similar) {
      ctx.log(
        `apps[${index}].sources[${i}]: desiredRevision is ignored for ${appLabel(app.metadata.name, app.metadata.namespace)}: ` +
          `its repoURL must equal the source's exactly ("${similar.repoURL ?? ''}")`,
      )
    }
  }
}

/** The fields this step changes on a source, to compare without noise. */
function owned(source: ApplicationSource | undefined): string {
  return JSON.stringify([
    source?.targetRevision ?? '',
    source?.kustomize?.images ?? [],
    (source?.helm?.parameters ?? []).map((p) => [p.name ?? '', p.value ?? '', p.forceString ?? false]),
  ])
}

function sameOwnedFields(a: readonly ApplicationSource[], b: readonly ApplicationSource[]): boolean {
  return a.length === b.length && a.every((source, i) => owned(source) === owned(b[i]))
}

/** Someone else's running operation does what we want: the desired revisions, with the desired sources. */
function operationDoesOurJob(app: Application, plan: Plan): boolean {
  if (!hasDesiredRevision(plan.desiredRevisions)) return false
  if (!sameOwnedFields(appSources(app), plan.desiredSources)) return false
  const operation = currentOperation(app)
  const revisions = operationRevisions(operation)
  const observed = revisions.length > 0 ? revisions : syncResultRevisions(app.status?.operationState)
  if (!revisionsMatch(observed, plan.desiredRevisions)) return false
  const recorded = operation?.sync?.sources ?? (operation?.sync?.source ? [operation.sync.source] : undefined)
  return recorded === undefined || sameOwnedFields(recorded, plan.desiredSources)
}

function describeInitiator(app: Application): string {
  const by = currentOperation(app)?.initiatedBy
  if (by?.automated) return 'an automated sync'
  return by?.username ? `an operation started by "${by.username}"` : 'another operation'
}

/** Inspects one app and does what comes next: nothing, wait, PATCH + sync, or conclude. */
async function advance(
  client: ArgoCDClient,
  ctx: StepContext,
  plan: Plan,
  progress: AppProgress,
  mayAct: boolean,
): Promise<Outcome> {
  const { app, label } = plan
  const operationState = app.status?.operationState
  const ours = operationPromotion(currentOperation(app)) === ctx.promotion
  const inProgress = isOperationInProgress(app)

  if (ours && inProgress) {
    return {
      phase: 'Running',
      message: `waiting for the sync of ${label} (${operationState?.phase ?? 'requested'})`,
    }
  }
  if (ours && operationState) {
    if (operationState.phase !== 'Succeeded') {
      return {
        phase: 'Failed',
        message: `the sync of ${label} ${operationState.phase === 'Error' ? 'errored' : 'failed'}: ${operationState.message ?? 'no message'}`,
      }
    }
    const result = syncResultRevisions(operationState)
    if (result.length > 0 && revisionsMatch(result, plan.desiredRevisions)) {
      return {
        phase: 'Succeeded',
        ...(operationState.finishedAt ? { finishedAt: operationState.finishedAt } : {}),
      }
    }
    if (progress.syncs >= MAX_SYNCS) {
      return {
        phase: 'Failed',
        message:
          `${label} was synced ${progress.syncs} times but Argo CD reports revision(s) ` +
          `${JSON.stringify(result)} instead of ${JSON.stringify(plan.desiredRevisions)}` +
          (isAutoSyncEnabled(app)
            ? ' (auto-sync apps sync their targetRevision only: set updateTargetRevision: true)'
            : ''),
      }
    }
    ctx.log(
      `${label}: the last sync ran on ${JSON.stringify(result)}, not the desired revisions; syncing again`,
    )
  } else if (inProgress) {
    if (progress.adopted || operationDoesOurJob(app, plan)) {
      progress.adopted = true
      return {
        phase: 'Running',
        message: `waiting for ${describeInitiator(app)} of ${label} on the desired revision`,
      }
    }
    return {
      phase: 'Running',
      message: `waiting for ${describeInitiator(app)} of ${label} to finish before syncing`,
    }
  } else if (progress.adopted) {
    progress.adopted = false
    const result = syncResultRevisions(operationState)
    if (
      operationState?.phase === 'Succeeded' &&
      revisionsMatch(result, plan.desiredRevisions) &&
      sameOwnedFields(appSources(app), plan.desiredSources)
    ) {
      return {
        phase: 'Succeeded',
        ...(operationState.finishedAt ? { finishedAt: operationState.finishedAt } : {}),
      }
    }
    ctx.log(
      `${label}: the operation we waited for ended ${operationState?.phase ?? 'without a result'}; syncing`,
    )
  }

  if (!mayAct) return { phase: 'Running', message: `${label} is not synced to the desired revisions yet` }
  return await patchAndSync(client, ctx, plan, progress)
}

async function patchAndSync(
  client: ArgoCDClient,
  ctx: StepContext,
  plan: Plan,
  progress: AppProgress,
): Promise<Outcome> {
  const { app, label, desiredSources, desiredRevisions } = plan
  const where = {
    ...(app.metadata.namespace ? { namespace: app.metadata.namespace } : {}),
    ...(app.spec.project ? { project: app.spec.project } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  }
  const multi = isMultiSource(app)
  if (!sameOwnedFields(appSources(app), desiredSources)) {
    // Merge patch: `spec.source` merges key by key; `spec.sources` is an array, so it is sent whole (every field
    // we read is kept, unknown ones included).
    await client.patchApplication(app.metadata.name, {
      ...where,
      patchType: 'merge',
      patch: {
        metadata: { annotations: { [REFRESH_ANNOTATION]: 'hard' } },
        spec: multi ? { sources: desiredSources } : { source: desiredSources[0] },
      },
    })
    ctx.log(`updated the sources of ${label}`)
  }

  // An explicit revision pins the sync to the exact commit even if a branch moved on. Auto-sync apps refuse an
  // explicit revision that differs from targetRevision (400), so there the (patched) targetRevision decides.
  const autoSync = isAutoSyncEnabled(app)
  const explicit = desiredRevisions.flatMap((revision, i) =>
    revision !== '' && (!autoSync || revision === (desiredSources[i]?.targetRevision ?? ''))
      ? [{ revision, position: i + 1 }]
      : [],
  )
  const revisionFields = multi
    ? explicit.length > 0
      ? { revisions: explicit.map((e) => e.revision), sourcePositions: explicit.map((e) => e.position) }
      : {}
    : explicit[0]
      ? { revision: explicit[0].revision }
      : {}
  try {
    await client.syncApplication(app.metadata.name, {
      ...where,
      ...revisionFields,
      infos: [
        { name: 'Reason', value: 'Promotion triggered a sync of this Application resource.' },
        { name: PROMOTION_INFO_KEY, value: ctx.promotion },
      ],
    })
  } catch (error) {
    if (error instanceof OperationInProgressError) {
      // Probably auto-sync reacting to the PATCH; the next look decides whether to adopt it or wait it out.
      return {
        phase: 'Running',
        message: `${label}: another operation is already in progress; looking again soon`,
      }
    }
    if (error instanceof SyncWindowBlockedError) return { phase: 'Running', message: error.message }
    throw error
  }
  progress.syncs += 1
  const target = desiredRevisions.filter((r) => r !== '').join(', ')
  ctx.log(`requested a sync of ${label}${target ? ` to ${target}` : ''}`)
  return { phase: 'Running', message: `requested a sync of ${label}` }
}
