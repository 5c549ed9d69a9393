import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

/*
 * JSON Schema validators built from Argo CD's swagger (`shared/contracts/argocd-swagger.json`), adjusted to what
 * the server really sends and accepts (`argocd-notes.md`): int64 fields are JSON numbers even where the swagger
 * says `type: string, format: int64`. In strict mode every object with listed properties refuses unknown ones;
 * the real server silently drops them, the fake refuses them so that a client's typo cannot go unnoticed.
 */

const here = path.dirname(fileURLToPath(import.meta.url))

/** Where the swagger is: `ARGOCD_SWAGGER_PATH`, else `../shared/contracts/` beside the repository (as codegen does). */
export function swaggerPath(): string {
  const candidates = [
    process.env.ARGOCD_SWAGGER_PATH,
    path.resolve(here, '../../../../shared/contracts/argocd-swagger.json'),
    path.resolve(here, '../../../contracts/argocd-swagger.json'),
  ].filter((p): p is string => Boolean(p))
  const found = candidates.find((p) => existsSync(p))
  if (!found) {
    throw new Error(
      `argocd-swagger.json not found (looked in ${candidates.join(', ')}); set ARGOCD_SWAGGER_PATH`,
    )
  }
  return found
}

type SchemaNode = { [key: string]: unknown }

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function adjust(node: unknown, strict: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => adjust(item, strict))
  if (!isNode(node)) return node
  const out: SchemaNode = {}
  for (const [key, value] of Object.entries(node)) {
    // `properties` maps names to schemas; everything else is a schema or a keyword value.
    if (key === 'properties' && isNode(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, adjust(sub, strict)]))
    } else {
      out[key] = adjust(value, strict)
    }
  }
  if (out.type === 'string' && out.format === 'int64') {
    out.type = 'integer'
  }
  if (strict && out.type === 'object' && isNode(out.properties) && out.additionalProperties === undefined) {
    out.additionalProperties = false
  }
  return out
}

/** A compiled set of validators for the swagger's `definitions`. */
export interface SwaggerValidator {
  /** Errors of `value` against `#/definitions/<name>`, as `path: message` lines; empty when valid. */
  validate(definition: string, value: unknown): string[]
  definitionNames(): string[]
}

const cache = new Map<string, SwaggerValidator>()

/** Builds (once per mode) validators from the swagger's definitions. */
export function swaggerValidator(options: { strict?: boolean } = {}): SwaggerValidator {
  const strict = options.strict ?? true
  const key = `${strict}`
  const cached = cache.get(key)
  if (cached) return cached

  const swagger: unknown = JSON.parse(readFileSync(swaggerPath(), 'utf8'))
  if (!isNode(swagger) || !isNode(swagger.definitions))
    throw new Error('argocd-swagger.json has no definitions')
  const definitions = adjust(swagger.definitions, strict)

  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true })
  const addFormats = addFormatsModule as unknown as (ajv: Ajv, formats?: string[]) => Ajv
  addFormats(ajv, ['date-time'])
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31,
  })
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) })
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/)
  ajv.addSchema({ $id: 'argocd', definitions }, 'argocd')

  const compiled = new Map<string, ValidateFunction>()
  const validator: SwaggerValidator = {
    validate(definition, value) {
      let fn = compiled.get(definition)
      if (!fn) {
        fn = ajv.compile({ $ref: `argocd#/definitions/${definition}` })
        compiled.set(definition, fn)
      }
      if (fn(value)) return []
      return (fn.errors ?? []).map(describe)
    },
    definitionNames() {
      return isNode(definitions) ? Object.keys(definitions) : []
    },
  }
  cache.set(key, validator)
  return validator
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(body)'
  if (error.keyword === 'additionalProperties' && isNode(error.params)) {
    return `${where}: unknown field "${String(error.params.additionalProperty)}"`
  }
  return `${where}: ${error.message ?? 'is invalid'}`
}
