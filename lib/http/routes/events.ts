import { Hono } from 'hono'
import { canPromote, canView } from '../../auth/actor.js'
import { ValidationError } from '../../errors.js'
import { handleInboundEvent, type InboundDeps } from '../../events/inbound.js'
import { EVENT_SUBSCRIPTION_KIND } from '../../events/subscriptions.js'
import { CloudEventSchema, type CloudEvent } from '../../events/types.js'
import { listResources, requireResource } from '../../store/resources.js'
import { requireRole, type AuthEnv } from '../auth.js'

/** What the event routes need: the store, plus how to refresh, promote and record results (see InboundDeps). */
export type EventRouteDeps = InboundDeps

// CloudEvents HTTP binding: binary-mode attribute headers are percent-encoded where they are not printable ASCII.
function headerValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new ValidationError(`${what} is not valid JSON`)
  }
}

/**
 * Reads one CloudEvent from a request, in structured mode (`Content-Type: application/cloudevents+json`, or JSON
 * with `specversion`) or binary mode (`ce-*` headers, the data in the body).
 */
export function readCloudEvent(request: {
  header: (name: string) => string | undefined
  text: string
}): CloudEvent {
  const contentType = (request.header('content-type') ?? '').toLowerCase()
  if (contentType.startsWith('application/cloudevents-batch+json')) {
    throw new ValidationError('batched CloudEvents are not supported; send one event per request')
  }
  const binary = request.header('ce-specversion') !== undefined
  if (contentType.startsWith('application/cloudevents+json') || (!binary && contentType.includes('json'))) {
    return CloudEventSchema.parse(parseJson(request.text, 'the CloudEvent'))
  }
  if (!binary) {
    throw new ValidationError(
      'send a CloudEvent: structured mode (Content-Type: application/cloudevents+json) or binary mode (ce-specversion, ce-id, ce-source, ce-type headers)',
    )
  }
  const attributes: Record<string, unknown> = {}
  for (const name of ['specversion', 'id', 'source', 'type', 'subject', 'time', 'dataschema']) {
    const value = headerValue(request.header(`ce-${name}`))
    if (value !== undefined) attributes[name] = value
  }
  if (contentType) attributes.datacontenttype = request.header('content-type')
  if (request.text !== '') {
    attributes.data = contentType.includes('json') ? parseJson(request.text, 'the event data') : request.text
  }
  return CloudEventSchema.parse(attributes)
}

/**
 * `/v1beta1/projects/{project}/events` (inbound CloudEvents, promoter role) and
 * `/v1beta1/projects/{project}/event-subscriptions[/{name}]` (outbound subscriptions with their delivery status).
 */
export function eventRoutes(deps: EventRouteDeps) {
  const app = new Hono<AuthEnv>()

  app.post('/:project/events', async (c) => {
    const project = c.req.param('project')
    const actor = c.get('actor')
    requireRole(actor, canPromote(actor, project), `send events to project "${project}"`)
    const event = readCloudEvent({ header: (name) => c.req.header(name), text: await c.req.text() })
    const result = await handleInboundEvent(deps, { project, event, actor })
    return c.json(result, result.duplicate ? 200 : 202)
  })

  app.get('/:project/event-subscriptions', async (c) => {
    const project = c.req.param('project')
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    await requireResource(deps.db, { project, kind: 'Project', name: project })
    return c.json({
      kind: `${EVENT_SUBSCRIPTION_KIND}List`,
      items: await listResources(deps.db, project, EVENT_SUBSCRIPTION_KIND),
    })
  })

  app.get('/:project/event-subscriptions/:name', async (c) => {
    const { project, name } = c.req.param()
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    return c.json(await requireResource(deps.db, { project, kind: EVENT_SUBSCRIPTION_KIND, name }))
  })

  return app
}
