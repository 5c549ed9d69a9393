/**
 * Inbound CloudEvents (`POST /v1beta1/projects/{p}/events`): what each accepted type does, once per event id.
 * - dev.cdevents.artifact.published.*           → refresh the Warehouses subscribed to the artifact's repository
 * - dev.cdeventsx.tugboat-promotion.requested.* → promote Freight to a Stage
 * - dev.cdevents.testsuiterun.finished.*        → record an external verification of the Stage's current Freight
 */
import { z } from 'zod'
import type { Actor } from '../auth/actor.js'
import { ConflictError, ValidationError } from '../errors.js'
import { promoteToStage, type FreightSelector } from '../promotion/create.js'
import { addTestSuiteResult, requiredTestSuites } from '../reconcile/test-suites.js'
import { recordVerification } from '../reconcile/verification.js'
import type { Db } from '../store/client.js'
import { findFreight } from '../store/freight.js'
import { requireResource } from '../store/resources.js'
import { requireStage } from '../store/stages.js'
import { repositoriesOfPurl } from './purl.js'
import { refreshAll, warehousesFor } from './refresh.js'
import { claimInbound, finishInbound, releaseInbound } from './store.js'
import { INBOUND_TYPE_PREFIXES, type CloudEvent } from './types.js'

export type TestOutcome = 'success' | 'failure' | 'cancel' | 'error'

export interface ExternalVerification {
  project: string
  stage: string
  /** Name or alias; must be the Stage's current Freight. Unset = whatever is current. */
  freight?: string
  outcome: TestOutcome
  /** The test suite's name (or id), matched against the Stage's required suites. */
  suite?: string
  message?: string
  actor: Actor
  /** Identifies the result (the inbound event id), so a replay does not add a second entry. */
  id: string
}

export interface InboundDeps {
  db: Db
  now?: () => Date
  /** Polls one Warehouse now. Required for artifact.published. */
  refreshWarehouse?: (project: string, warehouse: string) => Promise<unknown>
  /** Sends a Promotion to the promotions queue; with it, promotion.requested uses `promoteToStage`. */
  enqueuePromotion?: (message: { project: string; stage: string; promotion: string }) => Promise<void>
  /** Overrides how promotion.requested promotes (default: promoteToStage, manual). */
  promote?: (input: {
    project: string
    stage: string
    selector: FreightSelector
    actor: Actor
  }) => Promise<{ metadata: { name: string } }>
  /** Overrides how testsuiterun.finished is recorded (default: `recordExternalVerification`). */
  recordExternalVerification?: (input: ExternalVerification) => Promise<{ freight: string; phase: string }>
}

export const InboundActionSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('refresh'),
    warehouse: z.string(),
    ok: z.boolean(),
    message: z.string().optional(),
  }),
  z.object({ action: z.literal('promote'), stage: z.string(), promotion: z.string() }),
  z.object({ action: z.literal('verify'), stage: z.string(), freight: z.string(), phase: z.string() }),
])
export type InboundAction = z.infer<typeof InboundActionSchema>

export interface InboundResult {
  id: string
  type: string
  actions: InboundAction[]
}

/** The accepted type an inbound event is, or undefined. */
export function inboundKind(type: string): keyof typeof INBOUND_TYPE_PREFIXES | undefined {
  for (const [kind, prefix] of Object.entries(INBOUND_TYPE_PREFIXES)) {
    if (type.startsWith(prefix)) return kind as keyof typeof INBOUND_TYPE_PREFIXES
  }
  // The dotted spelling some integrations use; the spec's custom-event form is tugboat-promotion.
  if (type.startsWith('dev.cdeventsx.tugboat.promotion.requested.')) return 'promotionRequested'
  return undefined
}

const RecordSchema = z.record(z.string(), z.unknown())

/**
 * The parts of an inbound event's data: a CDEvent's `subject` (id, content) and `customData` when present (the
 * `context` may be left out), and the data itself for plain JSON. The CloudEvent `subject` stands in for a missing
 * subject id.
 */
function partsOf(event: CloudEvent): {
  subjectId?: string
  content: Record<string, unknown>
  custom: Record<string, unknown>
  plain: Record<string, unknown>
} {
  const data = RecordSchema.safeParse(event.data)
  const plain = data.success ? data.data : {}
  const subject = RecordSchema.safeParse(plain.subject)
  const content = subject.success ? RecordSchema.safeParse(subject.data.content) : undefined
  const custom = RecordSchema.safeParse(plain.customData)
  const subjectId = str(subject.success ? subject.data.id : undefined, event.subject)
  return {
    ...(subjectId ? { subjectId } : {}),
    content: content?.success ? content.data : {},
    custom: custom.success ? custom.data : {},
    plain,
  }
}

function str(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v !== '') return v
  return undefined
}

/** A Stage from a CDEvents environment id: `<project>/<stage>` (this project only) or `<stage>`. */
function stageOfEnvironment(project: string, environment: unknown): string | undefined {
  const parsed = RecordSchema.safeParse(environment)
  const id = parsed.success ? str(parsed.data.id) : undefined
  if (!id) return undefined
  const slash = id.lastIndexOf('/')
  if (slash < 0) return id
  if (id.slice(0, slash) !== project) {
    throw new ValidationError(`environment.id "${id}" names another project; this is project "${project}"`)
  }
  return id.slice(slash + 1)
}

async function onArtifactPublished(
  deps: InboundDeps,
  project: string,
  event: CloudEvent,
): Promise<InboundAction[]> {
  const parts = partsOf(event)
  const fromPurl = repositoriesOfPurl(parts.subjectId ?? '')
  const repoURL = str(parts.custom.repoURL, parts.content.repoURL, parts.plain.repoURL)
  const change = {
    images: [...fromPurl.images, ...(repoURL ? [repoURL] : [])],
    git: [...fromPurl.git, ...(repoURL ? [repoURL] : [])],
    charts: [...fromPurl.charts, ...(repoURL ? [repoURL] : [])],
  }
  if (!change.images.length && !change.git.length && !change.charts.length) {
    throw new ValidationError(
      'artifact.published needs subject.id as a purl (pkg:oci/…?repository_url=…, pkg:github/…) or customData.repoURL',
    )
  }
  if (!deps.refreshWarehouse) throw new Error('discovery is not configured in this deployment')
  const warehouses = await warehousesFor(deps.db, project, change)
  return (await refreshAll(deps.refreshWarehouse, project, warehouses)).map((r) => ({
    action: 'refresh' as const,
    ...r,
  }))
}

const PromotionRequestSchema = z
  .object({
    stage: z.string().min(1),
    freight: z.string().min(1).optional(),
    freightAlias: z.string().min(1).optional(),
    warehouse: z.string().min(1).optional(),
  })
  .refine((r) => [r.freight, r.freightAlias, r.warehouse].filter(Boolean).length === 1, {
    message: 'set exactly one of freight, freightAlias or warehouse',
  })

async function onPromotionRequested(
  deps: InboundDeps,
  project: string,
  event: CloudEvent,
  actor: Actor,
): Promise<InboundAction[]> {
  const parts = partsOf(event)
  const source = Object.keys(parts.content).length
    ? parts.content
    : Object.keys(parts.custom).length
      ? parts.custom
      : parts.plain
  const request = PromotionRequestSchema.parse({
    stage: str(source.stage, stageOfEnvironment(project, source.environment)),
    freight: str(source.freight),
    freightAlias: str(source.freightAlias),
    warehouse: str(source.warehouse),
  })
  const selector: FreightSelector = request.freight
    ? { freight: request.freight }
    : request.freightAlias
      ? { freightAlias: request.freightAlias }
      : { warehouse: request.warehouse! }
  const promote =
    deps.promote ??
    (deps.enqueuePromotion
      ? (input: { project: string; stage: string; selector: FreightSelector; actor: Actor }) =>
          promoteToStage(
            { db: deps.db, enqueuePromotion: deps.enqueuePromotion!, ...(deps.now ? { now: deps.now } : {}) },
            { ...input, manual: true },
          )
      : undefined)
  if (!promote) throw new Error('the promotions queue is not configured')
  const promotion = await promote({ project, stage: request.stage, selector, actor })
  return [{ action: 'promote', stage: request.stage, promotion: promotion.metadata.name }]
}

const OutcomeSchema = z.enum(['success', 'failure', 'cancel', 'error'], {
  message: 'outcome must be success, failure, cancel or error',
})

async function onTestSuiteRunFinished(
  deps: InboundDeps,
  project: string,
  event: CloudEvent,
  actor: Actor,
): Promise<InboundAction[]> {
  const parts = partsOf(event)
  const stage = str(
    parts.custom.stage,
    parts.plain.stage,
    stageOfEnvironment(project, parts.content.environment ?? parts.plain.environment),
  )
  if (!stage)
    throw new ValidationError(
      'testsuiterun.finished needs the Stage: subject.content.environment.id "<project>/<stage>" or customData.stage',
    )
  const outcome = OutcomeSchema.parse(str(parts.content.outcome, parts.plain.outcome))
  const testSuite = RecordSchema.safeParse(parts.content.testSuite ?? parts.plain.testSuite)
  const suiteName = testSuite.success ? str(testSuite.data.name, testSuite.data.id) : undefined
  const message =
    str(parts.content.reason, parts.custom.message, parts.plain.message, parts.plain.reason) ??
    (suiteName ? `test suite ${suiteName}: ${outcome}` : `external tests: ${outcome}`)
  const freight = str(parts.custom.freight, parts.plain.freight)
  const record =
    deps.recordExternalVerification ??
    ((input: ExternalVerification) => recordExternalVerification(deps, input))
  const done = await record({
    project,
    stage,
    ...(freight ? { freight } : {}),
    outcome,
    ...(suiteName ? { suite: suiteName } : {}),
    message,
    actor,
    id: event.id,
  })
  return [{ action: 'verify', stage, freight: done.freight, phase: done.phase }]
}

const phaseOfOutcome: Record<TestOutcome, string> = {
  success: 'Successful',
  failure: 'Failed',
  error: 'Error',
  cancel: 'Aborted',
}

/**
 * Records an external test result as a verification of the Stage's current Freight (the Stage's
 * verificationHistory; `verifiedIn` on success). 409 when the Stage holds other Freight or none.
 */
export async function recordExternalVerification(
  deps: Pick<InboundDeps, 'db' | 'now'>,
  input: ExternalVerification,
): Promise<{ freight: string; phase: string }> {
  const now = deps.now?.() ?? new Date()
  const stage = await requireStage(deps.db, input.project, input.stage)
  const current = stage.status.freightHistory?.[0]
  if (!current) throw new ConflictError(`Stage "${input.stage}" has no Freight to verify yet`)
  const names = Object.values(current.items).map((f) => f.name)
  let freight = names[0]!
  if (input.freight) {
    const found = await findFreight(deps.db, input.project, input.freight)
    if (!found || !names.includes(found.metadata.name)) {
      throw new ConflictError(
        `Freight "${input.freight}" is not the current Freight of Stage "${input.stage}" (it holds ${names.join(', ')}); result not recorded`,
      )
    }
    freight = found.metadata.name
  }
  const phase = phaseOfOutcome[input.outcome]
  await addTestSuiteResult(deps.db, stage, current.id, {
    id: input.id,
    ...(input.suite ? { suite: input.suite } : {}),
    outcome: input.outcome,
    actor: input.actor.name,
    ...(input.message ? { message: input.message } : {}),
    receivedAt: now.toISOString(),
  })
  // A Stage that requires test suites is verified by reconcile once every one of them (and its health and
  // analysis) has passed; any failed result fails verification at once, required or not.
  if (input.outcome === 'success' && requiredTestSuites(stage).length) return { freight, phase }
  await recordVerification(
    deps.db,
    stage,
    {
      id: input.id,
      phase,
      actor: input.actor.name,
      startTime: now.toISOString(),
      finishTime: now.toISOString(),
      ...(input.message ? { message: input.message } : {}),
    },
    now,
  )
  return { freight, phase }
}

/**
 * Handles one inbound event for a project, once per event id: a repeated id returns `{duplicate: true}` with the
 * first result and does nothing. Unknown types are a ValidationError naming the type. If handling fails, the id
 * is released so the sender's retry is handled.
 */
export async function handleInboundEvent(
  deps: InboundDeps,
  input: { project: string; event: CloudEvent; actor: Actor },
): Promise<InboundResult & { duplicate: boolean }> {
  const { project, event, actor } = input
  const kind = inboundKind(event.type)
  if (!kind) {
    throw new ValidationError(
      `unsupported event type "${event.type}"; Tugboat accepts ${Object.values(INBOUND_TYPE_PREFIXES)
        .map((p) => `${p}*`)
        .join(', ')}`,
      { data: { type: event.type } },
    )
  }
  await requireResource(deps.db, { project, kind: 'Project', name: project })
  const now = deps.now?.() ?? new Date()
  const claim = await claimInbound(deps.db, project, event.id, now)
  if (!claim.claimed) {
    const previous = z.object({ actions: z.array(InboundActionSchema) }).safeParse(claim.result)
    return {
      id: event.id,
      type: event.type,
      duplicate: true,
      actions: previous.success ? previous.data.actions : [],
    }
  }
  try {
    const actions =
      kind === 'artifactPublished'
        ? await onArtifactPublished(deps, project, event)
        : kind === 'promotionRequested'
          ? await onPromotionRequested(deps, project, event, actor)
          : await onTestSuiteRunFinished(deps, project, event, actor)
    const result: InboundResult = { id: event.id, type: event.type, actions }
    await finishInbound(deps.db, project, event.id, result)
    return { ...result, duplicate: false }
  } catch (error) {
    await releaseInbound(deps.db, project, event.id).catch(() => undefined)
    throw error
  }
}
