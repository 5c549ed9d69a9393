/**
 * Generates zod schemas from Kargo's CRDs (`../shared/contracts/kargo/crds`) into `lib/model/generated/`,
 * so field names, enums, patterns and defaults match Kargo exactly. Run with `npm run codegen`.
 * Objects are strict (unknown fields are rejected); `x-kubernetes-preserve-unknown-fields` stays open.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  additionalProperties?: JsonSchema | boolean
  enum?: unknown[]
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  default?: unknown
  format?: string
  nullable?: boolean
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-int-or-string'?: boolean
}

/**
 * Fields the seeds use that Kargo has since renamed or moved; accepted beside the current ones.
 * (Subscriptions and step configs are open in the CRDs; their legacy fields live with their own schemas.)
 */
const legacyFields: Array<{ kind: string; at: string[]; name: string; schema: JsonSchema }> = [
  {
    kind: 'Project',
    at: [],
    name: 'spec',
    schema: {
      type: 'object',
      properties: {
        promotionPolicies: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              stage: { type: 'string', minLength: 1 },
              autoPromotionEnabled: { type: 'boolean' },
            },
            required: ['stage'],
          },
        },
      },
    },
  },
]

function descend(schema: JsonSchema, at: string[]): JsonSchema {
  let node = schema
  for (const segment of at) {
    const next = segment === '[]' ? node.items : node.properties?.[segment]
    if (!next) throw new Error(`legacy field path ${at.join('.')} not found`)
    node = next
  }
  return node
}

function literal(value: unknown): string {
  return JSON.stringify(value)
}

function toZod(schema: JsonSchema, depth = 0): string {
  const pad = '  '.repeat(depth + 1)
  let out: string
  if (schema['x-kubernetes-int-or-string']) {
    out = 'z.union([z.number().int(), z.string()])'
  } else if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) {
    out = schema.type === 'object' || !schema.type ? 'z.record(z.string(), z.unknown())' : 'z.unknown()'
    if (!schema.type) out = 'z.unknown()'
  } else {
    switch (schema.type) {
      case 'object': {
        if (schema.properties) {
          const required = new Set(schema.required ?? [])
          const fields = Object.entries(schema.properties).map(([name, child]) => {
            let field = toZod(child, depth + 1)
            if (!required.has(name) && child.default === undefined) field += '.optional()'
            return `${pad}${literal(name)}: ${field},`
          })
          out = `z.object({\n${fields.join('\n')}\n${'  '.repeat(depth)}})`
          out += schema['x-kubernetes-preserve-unknown-fields'] ? '.passthrough()' : '.strict()'
        } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
          out = `z.record(z.string(), ${toZod(schema.additionalProperties, depth)})`
        } else {
          out = 'z.record(z.string(), z.unknown())'
        }
        break
      }
      case 'array':
        out = `z.array(${schema.items ? toZod(schema.items, depth) : 'z.unknown()'})`
        if (schema.minItems !== undefined) out += `.min(${schema.minItems})`
        if (schema.maxItems !== undefined) out += `.max(${schema.maxItems})`
        break
      case 'string':
        if (schema.enum) {
          out = `z.enum(${literal(schema.enum.filter((v) => typeof v === 'string'))})`
        } else {
          out = 'z.string()'
          if (schema.minLength !== undefined) out += `.min(${schema.minLength})`
          if (schema.maxLength !== undefined) out += `.max(${schema.maxLength})`
          if (schema.pattern) out += `.regex(new RegExp(${literal(schema.pattern)}))`
        }
        break
      case 'integer':
      case 'number':
        out = schema.type === 'integer' ? 'z.number().int()' : 'z.number()'
        if (schema.minimum !== undefined) out += `.min(${schema.minimum})`
        if (schema.maximum !== undefined) out += `.max(${schema.maximum})`
        break
      case 'boolean':
        out = 'z.boolean()'
        break
      default:
        out = 'z.unknown()'
    }
  }
  if (schema.nullable) out += '.nullable()'
  if (schema.default !== undefined) out += `.default(${literal(schema.default)})`
  return out
}

const crdDir = process.argv[2] ?? path.resolve('../shared/contracts/kargo/crds')
const outDir = path.resolve('lib/model/generated')
fs.mkdirSync(outDir, { recursive: true })

const wanted: Record<string, { file: string; parts: string[] }> = {
  Project: { file: 'kargo.akuity.io_projects.yaml', parts: ['spec'] },
  ProjectConfig: { file: 'kargo.akuity.io_projectconfigs.yaml', parts: ['spec'] },
  Warehouse: { file: 'kargo.akuity.io_warehouses.yaml', parts: ['spec'] },
  Stage: { file: 'kargo.akuity.io_stages.yaml', parts: ['spec'] },
  PromotionTask: { file: 'kargo.akuity.io_promotiontasks.yaml', parts: ['spec'] },
  Promotion: { file: 'kargo.akuity.io_promotions.yaml', parts: ['spec'] },
  Freight: {
    file: 'kargo.akuity.io_freights.yaml',
    parts: ['alias', 'origin', 'commits', 'images', 'charts', 'artifacts'],
  },
}

const exports: string[] = []
for (const [kind, { file, parts }] of Object.entries(wanted)) {
  const crd = parse(fs.readFileSync(path.join(crdDir, file), 'utf8'))
  const root: JsonSchema = crd.spec.versions.find((v: { name: string }) => v.name === 'v1alpha1').schema
    .openAPIV3Schema
  for (const legacy of legacyFields.filter((l) => l.kind === kind)) {
    const node = descend(root, legacy.at)
    node.properties = { ...node.properties, [legacy.name]: legacy.schema }
  }
  const lines = [
    "// Generated by infra/codegen/crd-to-zod.ts from Kargo's CRDs. Do not edit by hand.",
    "import { z } from 'zod'",
    '',
  ]
  for (const part of parts) {
    const schema = root.properties?.[part]
    if (!schema) throw new Error(`${kind} has no ${part}`)
    const name = `${kind}${part[0]!.toUpperCase()}${part.slice(1)}Schema`
    lines.push(`export const ${name} = ${toZod(schema)}`, '')
    exports.push(`export { ${name} } from './${kind.toLowerCase()}.js'`)
  }
  fs.writeFileSync(path.join(outDir, `${kind.toLowerCase()}.ts`), lines.join('\n'))
}
fs.writeFileSync(path.join(outDir, 'index.ts'), exports.join('\n') + '\n')
console.log(`wrote ${Object.keys(wanted).length} schema files to ${path.relative(process.cwd(), outDir)}`)
