import { createRequire } from 'node:module'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { hasExpression } from '../expressions/index.js'
import { implementedStepKinds } from './kinds.js'

const require = createRequire(import.meta.url)

/** Every Kargo built-in step that has a config schema (the file stem without `-config`). */
export const kargoStepKinds = [
  'argocd-update',
  'argocd-wait',
  'compose-output',
  'copy',
  'delete',
  'fail',
  'file-write',
  'git-clear',
  'git-clone',
  'git-commit',
  'git-merge-pr',
  'git-open-pr',
  'git-push',
  'git-tag',
  'git-wait-for-pr',
  'github-push',
  'helm-template',
  'helm-update-chart',
  'http',
  'http-download',
  'json-parse',
  'json-update',
  'kustomize-build',
  'kustomize-set-image',
  'oci-download',
  'oci-push',
  'set-freight-alias',
  'set-metadata',
  'tar',
  'toml-parse',
  'toml-update',
  'untar',
  'yaml-merge',
  'yaml-parse',
  'yaml-update',
] as const

type JsonObject = Record<string, unknown>

/** Legacy fields from the seeds, added to Kargo's current schemas. */
function withLegacyFields(kind: string, schema: JsonObject): JsonObject {
  const patched = structuredClone(schema)
  const props = (patched.properties ?? {}) as JsonObject
  if (kind === 'git-commit') {
    props.messageFromSteps = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }
    patched.required = ((patched.required as string[]) ?? []).filter((r) => r !== 'message')
    patched.anyOf = [{ required: ['message'] }, { required: ['messageFromSteps'] }]
  }
  if (kind === 'git-push') {
    props.branch = { type: 'string', minLength: 1 }
    // `branch` is the old name of `targetBranch`: it may stand in for it, never beside it or the other targets.
    const empty = { enum: ['', null] }
    const branches: JsonObject[] = (patched.oneOf as JsonObject[]).map((b) => ({
      ...b,
      properties: { ...(b.properties as JsonObject), branch: empty },
    }))
    const byTarget = branches.find((b) => (b.required as string[] | undefined)?.includes('targetBranch'))!
    branches.push({
      properties: { ...(byTarget.properties as JsonObject), targetBranch: empty, branch: { minLength: 1 } },
      required: ['branch'],
    })
    patched.oneOf = branches
  }
  if (kind === 'kustomize-set-image') {
    // Older Kargo (and seed 004) let an image name no tag or digest: it is taken from the Freight.
    const items = (props.images as JsonObject).items as JsonObject
    delete items.oneOf
    items.not = {
      required: ['tag', 'digest'],
      properties: { tag: { minLength: 1 }, digest: { minLength: 1 } },
    }
  }
  if (kind === 'argocd-update') {
    const defs = patched.definitions as Record<string, JsonObject>
    const source = defs.argoCDAppSourceUpdate!
    ;(source.properties as JsonObject).desiredCommitFromStep = { type: 'string', minLength: 1 }
  }
  patched.properties = props
  return patched
}

let ajv: Ajv2020 | undefined
const validators = new Map<string, ValidateFunction>()

function validatorFor(kind: string): ValidateFunction | undefined {
  if (!(kargoStepKinds as readonly string[]).includes(kind)) return undefined
  const cached = validators.get(kind)
  if (cached) return cached
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: false })
    addFormats.default(ajv)
    ajv.addSchema(require('./schemas/argocd-common.json') as JsonObject, 'argocd-common.json')
  }
  const schema = withLegacyFields(kind, require(`./schemas/${kind}-config.json`) as JsonObject)
  delete schema.$schema
  const validate = ajv.compile(schema)
  validators.set(kind, validate)
  return validate
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

/** True when the value at the pointer, or any value above it, is an expression filled in at run time. */
function coveredByExpression(config: unknown, pointer: string): boolean {
  const parts = pointer.split('/')
  for (let i = parts.length; i >= 1; i--) {
    const value = valueAt(config, parts.slice(0, i).join('/'))
    if (typeof value === 'string' && hasExpression(value)) return true
  }
  return false
}

function containsExpression(value: unknown): boolean {
  if (typeof value === 'string') return hasExpression(value)
  if (Array.isArray(value)) return value.some(containsExpression)
  if (value && typeof value === 'object') return Object.values(value).some(containsExpression)
  return false
}

function describe(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : '(config)'
  if (error.keyword === 'additionalProperties') {
    return `${where === '(config)' ? '' : `${where}.`}${String(error.params.additionalProperty)}: unknown field`
  }
  if (error.keyword === 'required')
    return `${where === '(config)' ? '' : `${where}.`}${String(error.params.missingProperty)}: is required`
  return `${where}: ${error.message ?? 'is invalid'}`
}

/**
 * Checks one step's config at apply time. Values that hold `${{ }}` expressions are only known at run time,
 * so problems at or under them are not reported. Returns "field: reason" lines; empty when the config is fine.
 */
/** The fields a config sets that a failed oneOf's branches complained about: the ones that cannot go together. */
function conflictingFields(config: unknown, branchErrors: ErrorObject[]): string[] {
  if (typeof config !== 'object' || config === null) return []
  const set = config as Record<string, unknown>
  const named = branchErrors.map((e) => e.instancePath.slice(1).split('/')[0] ?? '')
  return [...new Set(named)]
    .filter((field) => field && set[field] !== undefined && set[field] !== null)
    .sort()
}

export function validateStepConfig(uses: string, config: unknown): string[] {
  if (!(implementedStepKinds as readonly string[]).includes(uses)) {
    return (kargoStepKinds as readonly string[]).includes(uses)
      ? [
          `step "${uses}" is a Kargo step Tugboat does not run yet; supported: ${implementedStepKinds.join(', ')}`,
        ]
      : [`unknown step "${uses}"; supported: ${implementedStepKinds.join(', ')}`]
  }
  const validate = validatorFor(uses)
  if (!validate) return []
  if (typeof config === 'string' && hasExpression(config)) return []
  if (validate(config ?? {})) return []
  const errors = validate.errors ?? []
  const insideBranch = (e: ErrorObject) => /\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)
  const relevant = errors.filter(
    (e) =>
      !coveredByExpression(config, e.instancePath) &&
      !insideBranch(e) &&
      !['oneOf', 'anyOf', 'if', 'not'].includes(e.keyword),
  )
  // A oneOf/anyOf failure alone (no concrete field error) still deserves a message, unless expressions may satisfy it.
  if (relevant.length === 0 && errors.length > 0 && !containsExpression(config)) {
    return errors
      .filter((e) => ['oneOf', 'anyOf', 'not'].includes(e.keyword))
      .slice(0, 1)
      .map((e) => {
        const at = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(config)'
        if (e.keyword !== 'oneOf') return `${at}: ${e.message ?? 'is invalid'}`
        const conflicting = conflictingFields(config, errors.filter(insideBranch))
        return conflicting.length > 1
          ? `${conflicting[0]}: conflicts with ${conflicting.slice(1).join(' and ')}; set only one of them (see the step reference)`
          : `${at}: fields conflict (see the step reference for which fields go together)`
      })
  }
  return [...new Set(relevant.map(describe))]
}
