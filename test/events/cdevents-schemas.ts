import fs from 'node:fs'
import path from 'node:path'
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { CloudEvent } from '../../lib/events/types.js'

const CONTRACTS = path.resolve(__dirname, '../../../shared/contracts/cdevents')
const CUSTOM_SCHEMA = path.resolve(__dirname, 'fixtures/cdevents-custom-0.5.1.json')

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
}

/** The schema file for a CDEvents type: dev.cdevents.service.deployed.0.3.0 → servicedeployed.json; cdeventsx → custom. */
function schemaFor(type: string): string {
  if (type.startsWith('dev.cdeventsx.')) return CUSTOM_SCHEMA
  const [, , subject, predicate] = type.split('.')
  return path.join(CONTRACTS, `${subject}${predicate}.json`)
}

/**
 * Validates emitted CloudEvents: the CDEvent in `data` against the CDEvents v0.5.1 JSON schema of its type
 * (../shared/contracts/cdevents, and the spec's custom-event schema for dev.cdeventsx.*), and the CloudEvents
 * binding (ce id/source/type/subject/time mirror the CDEvent). Returns the problems; empty when valid.
 */
export function cdeventsValidator(): (event: CloudEvent) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  addFormats.default(ajv)
  for (const file of fs.readdirSync(path.join(CONTRACTS, 'links')))
    ajv.addSchema(readJson(path.join(CONTRACTS, 'links', file)))
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>()
  return (event) => {
    const file = schemaFor(event.type)
    if (!fs.existsSync(file)) return [`no schema for ${event.type} (${file})`]
    let validate = compiled.get(file)
    if (!validate) {
      const schema = readJson(file)
      const existing = typeof schema.$id === 'string' ? ajv.getSchema(schema.$id) : undefined
      validate = existing ?? ajv.compile(schema)
      compiled.set(file, validate)
    }
    const problems: string[] = []
    if (!validate(event.data))
      problems.push(
        ...(validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`),
      )
    const data = event.data as { context?: Record<string, unknown>; subject?: Record<string, unknown> }
    if (event.specversion !== '1.0') problems.push('specversion is not 1.0')
    if (data.context?.specversion !== '0.5.1') problems.push('context.specversion is not 0.5.1')
    if (data.context?.id !== event.id) problems.push('ce id != context.id')
    if (data.context?.source !== event.source) problems.push('ce source != context.source')
    if (data.context?.type !== event.type) problems.push('ce type != context.type')
    if (data.context?.timestamp !== event.time) problems.push('ce time != context.timestamp')
    if (data.subject?.id !== event.subject) problems.push('ce subject != subject.id')
    return problems
  }
}
