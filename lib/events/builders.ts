/**
 * Pure builders of the events Tugboat emits. Each takes plain inputs (names, phases, the Freight's artifacts) and
 * returns CloudEvents ready for `outboxItem`. None reads the store or the clock unless told (`options.now`).
 */
import { envelope, type EnvelopeOptions } from './envelope.js'
import { chartPurl, commitPurl, imagePurl } from './purl.js'
import {
  EVENT_TYPES,
  type CloudEvent,
  type FreightInfo,
  type PromotionInfo,
  type TugboatEventData,
  type VerificationInfo,
} from './types.js'

/** How a Stage's Freight changed with a successful Promotion. */
export type DeploymentChange = 'deployed' | 'upgraded' | 'rolledback'

/** Longest free text (a Promotion's or a poll's message) an event carries; SQS takes 256 KiB per message. */
export const MAX_MESSAGE_LENGTH = 2_000

function clip(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text
}

/**
 * The FreightInfo of a stored Freight (or a Promotion's freight reference): name, alias, origin Warehouse,
 * discovery time and artifacts.
 */
export function freightInfo(freight: {
  metadata?: { name: string }
  name?: string
  alias?: string
  origin?: { name?: string }
  discoveredAt?: string
  images?: Array<Record<string, unknown>>
  commits?: Array<Record<string, unknown>>
  charts?: Array<Record<string, unknown>>
}): FreightInfo {
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  const pick = <K extends string>(item: Record<string, unknown>, keys: readonly K[]) =>
    Object.fromEntries(keys.flatMap((k) => (s(item[k]) ? [[k, s(item[k])]] : []))) as Partial<
      Record<K, string>
    >
  return {
    name: freight.metadata?.name ?? freight.name ?? '',
    ...(freight.alias ? { alias: freight.alias } : {}),
    ...(freight.origin?.name ? { warehouse: freight.origin.name } : {}),
    ...(freight.discoveredAt ? { discoveredAt: freight.discoveredAt } : {}),
    ...(freight.images?.length
      ? { images: freight.images.map((i) => pick(i, ['repoURL', 'tag', 'digest'] as const)) }
      : {}),
    ...(freight.commits?.length
      ? { commits: freight.commits.map((c) => pick(c, ['repoURL', 'id', 'tag', 'branch'] as const)) }
      : {}),
    ...(freight.charts?.length
      ? { charts: freight.charts.map((c) => pick(c, ['repoURL', 'name', 'version'] as const)) }
      : {}),
  }
}

function freightRef(freight: FreightInfo): { name: string; alias?: string } {
  return { name: freight.name, ...(freight.alias ? { alias: freight.alias } : {}) }
}

function promotionRef(promotion: PromotionInfo): TugboatEventData['promotion'] {
  return {
    name: promotion.name,
    phase: promotion.phase,
    ...(promotion.message ? { message: clip(promotion.message) } : {}),
  }
}

/** The Stage as a CDEvents environment: `{id: "<project>/<stage>"}`. */
export function stageEnvironment(project: string, stage: string): { id: string } {
  return { id: `${project}/${stage}` }
}

/**
 * The artifacts that stand for a Freight in CDEvents, as purls: its images; a Freight without images uses its
 * charts, then its commits. Each comes with the name of the service/artifact it is (the repository).
 */
export function freightArtifacts(freight: FreightInfo): Array<{ repository: string; purl: string }> {
  const images = (freight.images ?? []).filter((i): i is { repoURL: string; tag?: string; digest?: string } =>
    Boolean(i.repoURL),
  )
  if (images.length) return images.map((i) => ({ repository: i.repoURL, purl: imagePurl(i) }))
  const charts = (freight.charts ?? []).filter(
    (c): c is { repoURL: string; name?: string; version: string } => Boolean(c.repoURL && c.version),
  )
  if (charts.length)
    return charts.map((c) => ({
      repository: c.name ? `${c.repoURL.replace(/\/+$/, '')}/${c.name}` : c.repoURL,
      purl: chartPurl(c),
    }))
  const commits = (freight.commits ?? []).filter((c): c is { repoURL: string; id: string } =>
    Boolean(c.repoURL && c.id),
  )
  return commits.map((c) => ({ repository: c.repoURL, purl: commitPurl(c) }))
}

/**
 * deployed: the Stage had no Freight from this origin before; rolledback: the new Freight was discovered before
 * the one it replaces; upgraded otherwise. Undefined when the same Freight was promoted again.
 */
export function deploymentChange(
  previous: Pick<FreightInfo, 'name' | 'discoveredAt'> | undefined,
  next: Pick<FreightInfo, 'name' | 'discoveredAt'>,
): DeploymentChange | undefined {
  if (!previous) return 'deployed'
  if (previous.name === next.name) return undefined
  if (previous.discoveredAt && next.discoveredAt && next.discoveredAt < previous.discoveredAt)
    return 'rolledback'
  return 'upgraded'
}

const serviceTypes: Record<DeploymentChange, string> = {
  deployed: EVENT_TYPES.serviceDeployed,
  upgraded: EVENT_TYPES.serviceUpgraded,
  rolledback: EVENT_TYPES.serviceRolledback,
}

export interface PromotionEventInput {
  project: string
  stage: string
  promotion: PromotionInfo
  freight: FreightInfo
  actor?: string
}

/** `service.deployed|upgraded|rolledback` (CDEvents 0.5.1), one per artifact of the Freight now in the Stage. */
export function serviceEvents(
  input: PromotionEventInput & { change: DeploymentChange; previousFreight?: FreightInfo },
  options: EnvelopeOptions = {},
): CloudEvent[] {
  return freightArtifacts(input.freight).map((artifact, index) =>
    envelope({
      project: input.project,
      type: serviceTypes[input.change],
      subject: {
        id: artifact.repository,
        content: { environment: stageEnvironment(input.project, input.stage), artifactId: artifact.purl },
      },
      data: {
        project: input.project,
        stage: input.stage,
        freight: freightRef(input.freight),
        promotion: promotionRef(input.promotion),
        ...(input.previousFreight ? { previousFreight: freightRef(input.previousFreight) } : {}),
        ...(input.actor ? { actor: input.actor } : {}),
      },
      options: index === 0 ? options : { ...(options.now ? { now: options.now } : {}) },
    }),
  )
}

const promotionTypes = {
  created: EVENT_TYPES.promotionCreated,
  started: EVENT_TYPES.promotionStarted,
  succeeded: EVENT_TYPES.promotionSucceeded,
  failed: EVENT_TYPES.promotionFailed,
  errored: EVENT_TYPES.promotionErrored,
  aborted: EVENT_TYPES.promotionAborted,
} as const
export type PromotionVerb = keyof typeof promotionTypes

/** `dev.cdeventsx.tugboat-promotion.<verb>.0.1.0`; subject id `<project>/<promotion>`. */
export function promotionEvent(
  verb: PromotionVerb,
  input: PromotionEventInput,
  options: EnvelopeOptions = {},
): CloudEvent {
  const data: TugboatEventData = {
    project: input.project,
    stage: input.stage,
    freight: freightRef(input.freight),
    promotion: promotionRef(input.promotion),
    ...(input.actor ? { actor: input.actor } : {}),
  }
  return envelope({
    project: input.project,
    type: promotionTypes[verb],
    subject: {
      id: `${input.project}/${input.promotion.name}`,
      content: { ...data, environment: stageEnvironment(input.project, input.stage) },
    },
    data,
    options,
  })
}

/** The verb of a finished Promotion's phase, or undefined for a phase that is not final. */
export function finishedVerb(phase: string): PromotionVerb | undefined {
  switch (phase) {
    case 'Succeeded':
      return 'succeeded'
    case 'Failed':
      return 'failed'
    case 'Errored':
      return 'errored'
    case 'Aborted':
      return 'aborted'
    default:
      return undefined
  }
}

/**
 * The events of a Promotion reaching a final phase: the tugboat-promotion event for its phase and, when it
 * succeeded and changed the Stage's Freight, one service event per artifact. `previousFreight` is the Freight
 * from the same origin the Stage held before (absent: first Freight in the Stage).
 */
export function promotionFinishedEvents(
  input: PromotionEventInput & { previousFreight?: FreightInfo },
  options: { now?: Date } = {},
): CloudEvent[] {
  const verb = finishedVerb(input.promotion.phase)
  if (!verb) return []
  const events = [promotionEvent(verb, input, options)]
  if (verb === 'succeeded') {
    const change = deploymentChange(input.previousFreight, input.freight)
    if (change) events.push(...serviceEvents({ ...input, change }, options))
  }
  return events
}

/** `artifact.published` (CDEvents 0.5.1) for new Freight: one per artifact, subject id = its purl. */
export function artifactPublishedEvents(
  input: { project: string; warehouse: string; freight: FreightInfo },
  options: { now?: Date } = {},
): CloudEvent[] {
  return freightArtifacts(input.freight).map((artifact) =>
    envelope({
      project: input.project,
      type: EVENT_TYPES.artifactPublished,
      subject: { id: artifact.purl, content: {} },
      data: { project: input.project, warehouse: input.warehouse, freight: freightRef(input.freight) },
      options,
    }),
  )
}

const verificationTypes = {
  started: EVENT_TYPES.verificationStarted,
  succeeded: EVENT_TYPES.verificationSucceeded,
  failed: EVENT_TYPES.verificationFailed,
} as const

/** The verb of a verification phase (Kargo's AnalysisRun phases): Successful → succeeded; Running/Pending → started. */
export function verificationVerb(phase: string): keyof typeof verificationTypes {
  if (phase === 'Successful') return 'succeeded'
  if (phase === 'Running' || phase === 'Pending' || phase === '') return 'started'
  return 'failed'
}

/** `dev.cdeventsx.tugboat-verification.<started|succeeded|failed>.0.1.0` for the Stage's current Freight. */
export function verificationEvent(
  input: {
    project: string
    stage: string
    freight: FreightInfo
    verification: VerificationInfo
    actor?: string
  },
  options: EnvelopeOptions = {},
): CloudEvent {
  const verification = {
    ...(input.verification.id ? { id: input.verification.id } : {}),
    phase: input.verification.phase,
    ...(input.verification.message ? { message: clip(input.verification.message) } : {}),
  }
  const data: TugboatEventData = {
    project: input.project,
    stage: input.stage,
    freight: freightRef(input.freight),
    verification,
    ...(input.actor ? { actor: input.actor } : {}),
  }
  return envelope({
    project: input.project,
    type: verificationTypes[verificationVerb(input.verification.phase)],
    subject: {
      id: `${input.project}/${input.stage}/verification/${input.verification.id ?? input.freight.name}`,
      content: { ...data, environment: stageEnvironment(input.project, input.stage) },
    },
    data,
    options,
  })
}

/** `dev.cdeventsx.tugboat-freight.approved.0.1.0`: Freight approved for a Stage by hand. */
export function freightApprovedEvent(
  input: { project: string; stage: string; freight: FreightInfo; actor?: string },
  options: EnvelopeOptions = {},
): CloudEvent {
  const data: TugboatEventData = {
    project: input.project,
    stage: input.stage,
    freight: freightRef(input.freight),
    ...(input.freight.warehouse ? { warehouse: input.freight.warehouse } : {}),
    ...(input.actor ? { actor: input.actor } : {}),
  }
  return envelope({
    project: input.project,
    type: EVENT_TYPES.freightApproved,
    subject: { id: `${input.project}/${input.freight.name}`, content: { ...data } },
    data,
    options,
  })
}

/** `dev.cdeventsx.tugboat-discovery.failed.0.1.0`: a Warehouse's poll failed, with the (credential-free) reason. */
export function discoveryFailedEvent(
  input: { project: string; warehouse: string; message: string },
  options: EnvelopeOptions = {},
): CloudEvent {
  const data: TugboatEventData = {
    project: input.project,
    warehouse: input.warehouse,
    message: clip(input.message),
  }
  return envelope({
    project: input.project,
    type: EVENT_TYPES.discoveryFailed,
    subject: { id: `${input.project}/${input.warehouse}`, content: { ...data } },
    data,
    options,
  })
}
