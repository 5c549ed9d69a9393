import { randomUUID } from 'node:crypto'
import { CDEVENTS_SPEC_VERSION, type CDEvent, type CloudEvent, type TugboatEventData } from './types.js'

/** The CloudEvents/CDEvents `source` of everything a project emits. */
export function eventSource(project: string): string {
  return `/tugboat/projects/${encodeURIComponent(project)}`
}

/** The project named by an event `source` built by `eventSource`, if it is one. */
export function projectOfSource(source: string): string | undefined {
  const match = /^\/tugboat\/projects\/([^/]+)$/.exec(source)
  if (!match) return undefined
  try {
    return decodeURIComponent(match[1]!)
  } catch {
    return undefined
  }
}

/** Fixes the id and time of an event (tests, replays); both default to fresh values. */
export interface EnvelopeOptions {
  id?: string
  now?: Date
}

/**
 * Wraps a CDEvent in a CloudEvent as the CDEvents CloudEvents binding says: the CloudEvent id, source, type and
 * time are the CDEvent context's; the CloudEvent subject is the CDEvent subject id; the data is the whole CDEvent.
 * Tugboat's own fields travel in `customData` (JSON).
 */
export function envelope(input: {
  project: string
  type: string
  subject: { id: string; content: Record<string, unknown> }
  data: TugboatEventData
  options?: EnvelopeOptions
}): CloudEvent {
  const id = input.options?.id ?? randomUUID()
  const timestamp = (input.options?.now ?? new Date()).toISOString()
  const source = eventSource(input.project)
  const cdevent: CDEvent = {
    context: { specversion: CDEVENTS_SPEC_VERSION, id, source, type: input.type, timestamp },
    subject: { id: input.subject.id, source, content: input.subject.content },
    customData: dropUndefined(input.data),
    customDataContentType: 'application/json',
  }
  return {
    specversion: '1.0',
    id,
    source,
    type: input.type,
    subject: input.subject.id,
    time: timestamp,
    datacontenttype: 'application/json',
    data: cdevent,
  }
}

/** JSON round trip without undefined members (what the wire would carry anyway). */
export function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}
