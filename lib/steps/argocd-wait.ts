import { z } from 'zod'
import { messageOf } from '../errors.js'
import { appKey, isOperationInProgress } from '../argocd/application.js'
import type { ArgoCDStepDeps } from '../argocd/provider.js'
import type { Application } from '../argocd/schemas.js'
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
 * `argocd-wait`: waits, without sleeping, until apps are healthy / synced / idle. Like Kargo's, it needs no
 * authorized-stage annotation (it only reads), fails at once on a ComparisonError or InvalidSpecError condition,
 * and fails when health regresses to Degraded while waiting for `health`. Health is trusted only once the app was
 * reconciled after its last operation finished.
 */

const WaitForSchema = z.enum(['health', 'sync', 'operation', 'suspended', 'degraded'])
export type WaitFor = z.infer<typeof WaitForSchema>

const AppWaitSchema = z
  .strictObject({
    name: z.string().optional(),
    namespace: z.string().min(1).optional(),
    selector: AppSelectorSchema.optional(),
    waitFor: z
      .array(WaitForSchema)
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'waitFor items must be unique' })
      .optional(),
  })
  .superRefine(nameXorSelector)

/** Mirrors `argocd-wait-config.json`. `waitFor` defaults to health, sync and operation. */
export const ArgoCDWaitConfigSchema = z.strictObject({ apps: z.array(AppWaitSchema).min(1) })
export type ArgoCDWaitConfig = z.infer<typeof ArgoCDWaitConfigSchema>

const DEFAULT_WAIT_FOR: WaitFor[] = ['health', 'sync', 'operation']
const ERROR_CONDITIONS = new Set(['ComparisonError', 'InvalidSpecError'])

const WaitStateSchema = z.object({
  startedAt: z.number(),
  /** Last seen health per app (`namespace/name`), to notice a regression to Degraded. */
  health: z.record(z.string(), z.string()).default({}),
})
type WaitState = z.infer<typeof WaitStateSchema>

/** The `argocd-wait` step. Output: `{ apps: [{name, namespace}], healthStatus: {"ns/name": "Healthy", ...} }`. */
export function argocdWaitStep(deps: ArgoCDStepDeps): Step<ArgoCDWaitConfig> {
  return {
    kind: 'argocd-wait',
    config: ArgoCDWaitConfigSchema,
    requires: ['argocd'],
    defaultTimeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    run: (ctx, config) => runWait(deps, ctx, config),
  }
}

/** Where an app stands against its `waitFor` conditions. */
export type WaitVerdict = { ready: true } | { ready: false; message: string; fatal?: boolean }

/**
 * Judges one app: not ready while any condition fails (`fatal` when it never will pass: a ComparisonError or
 * InvalidSpecError condition, or health regressing to Degraded from anything but Degraded/Unknown).
 */
export function waitVerdict(
  app: Application,
  waitFor: readonly WaitFor[],
  previousHealth?: string,
): WaitVerdict {
  const label = appLabel(app.metadata.name, app.metadata.namespace)
  const status = app.status ?? {}
  const errors = (status.conditions ?? []).filter((c) => ERROR_CONDITIONS.has(c.type))
  if (errors.length > 0) {
    const message = errors.map((c) => `${label} has a ${c.type} condition: ${c.message ?? ''}`).join('; ')
    return { ready: false, fatal: true, message }
  }
  if (waitFor.includes('operation') && isOperationInProgress(app)) {
    return { ready: false, message: `${label} has an operation in progress` }
  }
  const health = status.health?.status ?? ''
  const wantsHealth =
    waitFor.includes('health') || waitFor.includes('suspended') || waitFor.includes('degraded')
  if (wantsHealth) {
    const finishedAt = status.operationState?.finishedAt
    if (finishedAt && (!status.reconciledAt || Date.parse(status.reconciledAt) < Date.parse(finishedAt))) {
      return {
        ready: false,
        message: `${label} was not reconciled since its last operation; its health is not trusted yet`,
      }
    }
    if (
      waitFor.includes('health') &&
      health === 'Degraded' &&
      previousHealth &&
      previousHealth !== 'Degraded' &&
      previousHealth !== 'Unknown'
    ) {
      const detail = status.health?.message ? `: ${status.health.message}` : ''
      return {
        ready: false,
        fatal: true,
        message: `${label} health regressed from ${previousHealth} to Degraded${detail}`,
      }
    }
    const passed =
      (waitFor.includes('health') && health === 'Healthy') ||
      (waitFor.includes('suspended') && health === 'Suspended') ||
      (waitFor.includes('degraded') && health === 'Degraded')
    if (!passed) return { ready: false, message: `${label} is ${health || 'of unknown health'}` }
  }
  if (waitFor.includes('sync') && status.sync?.status !== 'Synced') {
    return { ready: false, message: `${label} is ${status.sync?.status || 'of unknown sync status'}` }
  }
  return { ready: true }
}

async function runWait(
  deps: ArgoCDStepDeps,
  ctx: StepContext,
  config: ArgoCDWaitConfig,
): Promise<StepResult> {
  const now = deps.now ?? Date.now
  // The engine enforces the step timeout (`retry.timeout`, else `defaultTimeoutMs`); deps.timeoutMs adds our own.
  const timeoutMs = deps.timeoutMs ?? Number.POSITIVE_INFINITY
  const previous = WaitStateSchema.safeParse(ctx.state ?? undefined)
  const state: WaitState = previous.success ? previous.data : { startedAt: now(), health: {} }
  const timedOut = () => now() - state.startedAt >= timeoutMs
  const client = await deps.argocd(ctx.project)

  const resolved: Array<{ name: string; namespace?: string }> = []
  const waiting: string[] = []
  const fatal: string[] = []
  const output = () => ({ apps: resolved, healthStatus: { ...state.health } })
  try {
    for (const entry of config.apps) {
      const waitFor = entry.waitFor ?? DEFAULT_WAIT_FOR
      for (const app of await resolveApps(client, entry, ctx.signal)) {
        const key = appKey(app)
        resolved.push({
          name: app.metadata.name,
          ...(app.metadata.namespace ? { namespace: app.metadata.namespace } : {}),
        })
        const previousHealth = state.health[key]
        const health = app.status?.health?.status
        if (health) state.health[key] = health
        const verdict = waitVerdict(app, waitFor, previousHealth)
        if (!verdict.ready) (verdict.fatal ? fatal : waiting).push(verdict.message)
      }
    }
  } catch (error) {
    // A missing or forbidden app, a refused token: TerminalError. Upstream trouble: wait, within the timeout.
    if (!isTransient(error)) throw stepErrorOf(error)
    waiting.push(`waiting for Argo CD: ${messageOf(error)}`)
  }

  if (fatal.length > 0) return { status: 'Failed', message: fatal.join('; '), output: output() }
  if (waiting.length === 0) return { status: 'Succeeded', message: 'all apps are ready', output: output() }
  if (timedOut()) {
    return {
      status: 'Failed',
      message: `timed out after ${formatDuration(timeoutMs)}: ${waiting.join('; ')}`,
      output: output(),
    }
  }
  return {
    status: 'Running',
    message: waiting.join('; '),
    retryAfterMs: deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    state,
    output: output(),
  }
}
