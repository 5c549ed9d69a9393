import fs from 'node:fs'
import path from 'node:path'
import { ZodError } from 'zod'
import { isTerminal, messageOf, TugboatError } from '../errors.js'
import { evaluateDeep, evaluateCondition } from '../expressions/index.js'
import type { PromotionStep } from '../model/resources.js'
import { describeIssues } from '../model/zod-errors.js'
import type { Promotion, PromotionPhase, PromotionStatus, StepExecution } from '../store/promotions.js'
import type { CredentialsLookup, FreightCollection, KargoActions, Step, StepResult } from '../steps/types.js'
import { parseDuration } from './durations.js'
import { evaluateVars, stepEnvironment, type ExpressionScope } from './expression-env.js'
import { stepAlias } from './tasks.js'

/** What the engine needs from outside: the step registry, credentials, persistence of progress, a clock. */
export interface EngineDeps {
  steps: ReadonlyMap<string, Step<unknown>>
  credentials: CredentialsLookup
  /** Persists the status after every step. Must fail if someone else changed the Promotion (lost lease). */
  save: (status: PromotionStatus) => Promise<void>
  /** Persists the final status together with the Stage and Freight (one transaction). */
  complete: (status: PromotionStatus) => Promise<void>
  /** True once an abort was requested (checked between steps). */
  abortRequested: () => Promise<boolean>
  /** Root for per-Promotion workspaces (os.tmpdir() by default). */
  workRoot: string
  now?: () => Date
  /** Milliseconds left before the invocation must stop (Lambda's remaining time minus a margin). */
  remainingMs?: () => number
  log?: (line: string) => void
  freightMetadata?: Record<string, Record<string, unknown>>
  stageMetadata?: Record<string, Record<string, unknown>>
  /** Kargo-side effects for set-freight-alias / set-metadata. */
  kargo?: KargoActions
  /** Outbound HTTP with the deployment's allow-list, for steps that call user-given URLs. */
  fetch?: typeof fetch
}

export type EngineOutcome =
  | {
      kind: 'finished'
      phase: Extract<PromotionPhase, 'Succeeded' | 'Failed' | 'Errored' | 'Aborted'>
      status: PromotionStatus
    }
  | { kind: 'wait'; retryAfterMs: number; status: PromotionStatus }

/** Steps whose only effect is inside the workspace: replayed to rebuild a lost workspace, never skipped. */
const WORKSPACE_ONLY_STEPS = new Set([
  'git-clone',
  'git-clear',
  'kustomize-set-image',
  'kustomize-build',
  'git-commit',
  'copy',
  'delete',
  'file-write',
  'yaml-update',
  'json-update',
  'toml-update',
  'yaml-parse',
  'json-parse',
  'toml-parse',
  'yaml-merge',
  'tar',
  'untar',
  'helm-template',
  'helm-update-chart',
  'compose-output',
  'git-tag',
])

const DEFAULT_STEP_TIMEOUT_MS = 5 * 60_000
const ERROR_RETRY_BACKOFF_MS = 5_000
/** Do not start a step with less time than this left in the invocation; resume in a fresh one instead. */
const MIN_TIME_FOR_A_STEP_MS = 60_000

interface WorkspaceMarker {
  promotion: string
  /** Index of the last step whose workspace effects are present. */
  builtThrough: number
}

function readMarker(dir: string): WorkspaceMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, '.tugboat-workspace.json'), 'utf8')) as WorkspaceMarker
  } catch {
    return undefined
  }
}

function writeMarker(dir: string, marker: WorkspaceMarker): void {
  fs.writeFileSync(path.join(dir, '.tugboat-workspace.json'), JSON.stringify(marker))
}

/** The Promotion's private workspace directory. */
export function workspaceFor(workRoot: string, project: string, promotion: string): string {
  return path.join(workRoot, 'tugboat-work', project, promotion)
}

/**
 * Runs a Promotion's steps from where it stands, saving after every step, until it finishes or must wait.
 * Re-entrant: called again after a wait, a crash or a duplicate delivery it resumes at `currentStep`;
 * if the workspace was lost (new container) it replays earlier workspace-only steps first and skips
 * earlier steps with remote effects, reusing their recorded outputs.
 */
export async function runPromotion(
  deps: EngineDeps,
  project: string,
  promotion: Promotion,
): Promise<EngineOutcome> {
  const now = () => deps.now?.() ?? new Date()
  const log = deps.log ?? (() => {})
  const steps = promotion.spec.steps
  const status: PromotionStatus = structuredClone(promotion.status)
  status.phase = 'Running'
  status.startedAt ??= now().toISOString()
  status.currentStep ??= 0
  status.state ??= {}
  status.stepState ??= {}
  status.stepExecutionMetadata ??= steps.map((s, i) => ({
    alias: stepAlias(s, i),
    status: 'Pending' as const,
  }))
  const meta = status.stepExecutionMetadata
  const outputs = status.state
  const freight = (status.freightCollection ?? { items: {} }) as unknown as FreightCollection
  const targetFreight = {
    name: promotion.spec.freight,
    origin: Object.values(freight.items)[0]?.origin ?? { kind: 'Warehouse', name: '' },
  }
  const scope: ExpressionScope = {
    project,
    stage: promotion.spec.stage,
    promotion: promotion.metadata.name,
    ...(promotion.createdBy ? { actor: promotion.createdBy } : {}),
    freight,
    targetFreight,
    outputs,
    stepStatuses: Object.fromEntries(meta.map((m) => [m.alias, m.status])),
    ...(deps.freightMetadata ? { freightMetadata: deps.freightMetadata } : {}),
    ...(deps.stageMetadata ? { stageMetadata: deps.stageMetadata } : {}),
  }
  const workDir = workspaceFor(deps.workRoot, project, promotion.metadata.name)
  fs.mkdirSync(workDir, { recursive: true })
  const marker = readMarker(workDir)
  let builtThrough = marker?.promotion === promotion.metadata.name ? marker.builtThrough : -1
  const interrupted = meta[status.currentStep]
  if (interrupted?.status === 'Running' && !status.stepState[interrupted.alias]) {
    // The last attempt died inside this step: its workspace may be half-written, so rebuild it from scratch.
    log(`[${promotion.metadata.name}] resuming after an interrupted step "${interrupted.alias}"`)
    fs.rmSync(workDir, { recursive: true, force: true })
    fs.mkdirSync(workDir, { recursive: true })
    builtThrough = -1
  }

  const finish = async (
    phase: 'Succeeded' | 'Failed' | 'Errored' | 'Aborted',
    message?: string,
  ): Promise<EngineOutcome> => {
    status.phase = phase
    status.finishedAt = now().toISOString()
    if (message) status.message = message
    else delete status.message
    delete status.stepState
    await deps.complete(status)
    fs.rmSync(workDir, { recursive: true, force: true })
    return { kind: 'finished', phase, status }
  }

  const baseEnv = stepEnvironment(scope, {}, '')
  const promotionVars = evaluateVars(promotion.spec.vars, {}, baseEnv)

  const prepare = (step: PromotionStep, index: number) => {
    const alias = stepAlias(step, index)
    const envWithoutVars = stepEnvironment(scope, promotionVars, alias)
    const vars = evaluateVars(step.vars, promotionVars, envWithoutVars)
    const env = stepEnvironment(scope, vars, alias)
    return { alias, env }
  }

  const execute = async (
    step: PromotionStep,
    index: number,
    alias: string,
    env: Record<string, unknown>,
  ): Promise<StepResult> => {
    const implementation = deps.steps.get(step.uses ?? '')
    if (!implementation)
      return { status: 'Errored', message: `step "${step.uses}" is not supported by Tugboat` }
    let config: unknown
    try {
      config = implementation.config.parse(evaluateDeep(step.config ?? {}, env))
    } catch (error) {
      const reason = error instanceof ZodError ? describeIssues(error.issues).join('; ') : messageOf(error)
      return { status: 'Errored', message: `invalid config for step "${alias}" (${step.uses}): ${reason}` }
    }
    try {
      return await implementation.run(
        {
          project,
          stage: promotion.spec.stage,
          promotion: promotion.metadata.name,
          workDir,
          alias,
          freight,
          outputs,
          ...(status.stepState?.[alias] ? { state: status.stepState[alias] } : {}),
          credentials: deps.credentials,
          log: (line) => log(`[${promotion.metadata.name}] ${alias}: ${line}`),
          startedAt: new Date(status.startedAt!),
          ...(deps.kargo ? { kargo: deps.kargo } : {}),
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        },
        config,
      )
    } catch (error) {
      const message = error instanceof TugboatError || error instanceof Error ? error.message : String(error)
      return { status: 'Errored', message, ...(isTerminal(error) ? {} : { output: { __retryable: true } }) }
    }
  }

  // Rebuild a lost workspace: replay workspace-only steps that already succeeded.
  for (let i = builtThrough + 1; i < status.currentStep; i++) {
    const step = steps[i]!
    if (meta[i]?.status !== 'Succeeded' || !WORKSPACE_ONLY_STEPS.has(step.uses ?? '')) continue
    const { alias, env } = prepare(step, i)
    log(`[${promotion.metadata.name}] replaying ${alias} to rebuild the workspace`)
    const result = await execute(step, i, alias, env)
    if (result.status !== 'Succeeded')
      return finish(
        'Errored',
        `could not rebuild the workspace at step "${alias}": ${result.message ?? result.status}`,
      )
    builtThrough = i
  }
  builtThrough = Math.max(builtThrough, status.currentStep - 1)
  writeMarker(workDir, { promotion: promotion.metadata.name, builtThrough })

  for (let i = status.currentStep; i < steps.length; i++) {
    const step = steps[i]!
    const record: StepExecution = meta[i] ?? { alias: stepAlias(step, i), status: 'Pending' }
    meta[i] = record
    status.currentStep = i
    if (await deps.abortRequested()) return finish('Aborted', 'aborted by request')
    if (deps.remainingMs && deps.remainingMs() < MIN_TIME_FOR_A_STEP_MS) {
      await deps.save(status)
      return { kind: 'wait', retryAfterMs: 0, status }
    }

    const { alias, env } = prepare(step, i)
    const anyFailed = Object.values(scope.stepStatuses).some((s) => s === 'Failed' || s === 'Errored')
    let shouldRun: boolean
    try {
      shouldRun = step.if ? evaluateCondition(step.if, env) : !anyFailed
    } catch (error) {
      record.status = 'Errored'
      record.message = `if: ${messageOf(error)}`
      scope.stepStatuses[alias] = 'Errored'
      return finish('Errored', `step "${alias}" if: ${messageOf(error)}`)
    }
    if (!shouldRun) {
      record.status = 'Skipped'
      scope.stepStatuses[alias] = 'Skipped'
      status.currentStep = i + 1
      builtThrough = i
      writeMarker(workDir, { promotion: promotion.metadata.name, builtThrough })
      await deps.save(status)
      continue
    }

    record.startedAt ??= now().toISOString()
    record.attempts = (record.attempts ?? 0) + 1
    record.status = 'Running'
    const timeoutMs = step.retry?.timeout
      ? parseDuration(step.retry.timeout, `steps[${i}].retry.timeout`)
      : (deps.steps.get(step.uses ?? '')?.defaultTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS)
    log(`[${promotion.metadata.name}] step ${i + 1}/${steps.length} ${alias} (${step.uses})`)
    const result = await execute(step, i, alias, env)

    if (result.status === 'Running') {
      const elapsed = now().getTime() - Date.parse(record.startedAt)
      if (elapsed > timeoutMs) {
        result.status = 'Errored'
        result.message = `timed out after ${Math.round(elapsed / 1000)}s${result.message ? `: ${result.message}` : ''}`
      } else {
        record.message = result.message ?? 'waiting'
        status.stepState![alias] = result.state ?? {}
        await deps.save(status)
        return { kind: 'wait', retryAfterMs: result.retryAfterMs ?? 5_000, status }
      }
    }

    delete status.stepState![alias]
    if (result.status === 'Errored' && result.output?.__retryable) {
      record.errorCount = (record.errorCount ?? 0) + 1
      const threshold = step.retry?.errorThreshold ?? 1
      if (record.errorCount < threshold) {
        record.status = 'Running'
        record.message = `error ${record.errorCount} of ${threshold}, retrying: ${result.message}`
        await deps.save(status)
        return { kind: 'wait', retryAfterMs: ERROR_RETRY_BACKOFF_MS * record.errorCount, status }
      }
    }

    record.status =
      result.status === 'Succeeded'
        ? 'Succeeded'
        : result.status === 'Skipped'
          ? 'Skipped'
          : result.status === 'Failed'
            ? 'Failed'
            : 'Errored'
    record.finishedAt = now().toISOString()
    if (result.message) record.message = result.message
    else delete record.message
    scope.stepStatuses[alias] = record.status
    if (result.output && (record.status === 'Succeeded' || record.status === 'Skipped')) {
      const { __retryable: _r, ...clean } = result.output
      outputs[alias] = clean
    }
    if (record.status === 'Failed' || record.status === 'Errored') {
      if (step.continueOnError) {
        record.continueOnError = true
      } else {
        status.currentStep = i
        return finish(
          record.status,
          `step "${alias}" ${record.status === 'Failed' ? 'failed' : 'errored'}: ${result.message ?? 'no message'}`,
        )
      }
    }
    status.currentStep = i + 1
    builtThrough = i
    writeMarker(workDir, { promotion: promotion.metadata.name, builtThrough })
    await deps.save(status)
  }
  return finish('Succeeded')
}
