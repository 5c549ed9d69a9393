import { parseAllDocuments, type Document } from 'yaml'
import type { z } from 'zod'
import { ValidationError } from '../errors.js'
import { KARGO_API_VERSION } from './meta.js'
import {
  AnalysisTemplateManifestSchema,
  ProjectConfigManifestSchema,
  ProjectManifestSchema,
  PromotionTaskManifestSchema,
  SecretManifestSchema,
  StageManifestSchema,
  WarehouseManifestSchema,
} from './resources.js'
import { describeIssues } from './zod-errors.js'
import { EVENTS_API_VERSION, EventSubscriptionManifestSchema } from '../events/subscriptions.js'

/** The kinds `tugboat apply` and `/v1beta1/resources` accept, with how each is scoped. */
export const applicableKinds = {
  Project: { apiVersion: KARGO_API_VERSION, schema: ProjectManifestSchema, namespaced: false },
  ProjectConfig: { apiVersion: KARGO_API_VERSION, schema: ProjectConfigManifestSchema, namespaced: true },
  Warehouse: { apiVersion: KARGO_API_VERSION, schema: WarehouseManifestSchema, namespaced: true },
  Stage: { apiVersion: KARGO_API_VERSION, schema: StageManifestSchema, namespaced: true },
  PromotionTask: { apiVersion: KARGO_API_VERSION, schema: PromotionTaskManifestSchema, namespaced: true },
  Secret: { apiVersion: 'v1', schema: SecretManifestSchema, namespaced: true },
  AnalysisTemplate: {
    apiVersion: 'argoproj.io/v1alpha1',
    schema: AnalysisTemplateManifestSchema,
    namespaced: true,
  },
  EventSubscription: {
    apiVersion: EVENTS_API_VERSION,
    schema: EventSubscriptionManifestSchema,
    namespaced: true,
  },
} as const satisfies Record<string, { apiVersion: string; schema: z.ZodType; namespaced: boolean }>

export type ApplicableKind = keyof typeof applicableKinds
export type ManifestOf<K extends ApplicableKind> = z.infer<(typeof applicableKinds)[K]['schema']>

/** A validated document. `project` is its namespace (or, for a Project, its own name). */
export type ParsedManifest = {
  [K in ApplicableKind]: { index: number; kind: K; name: string; project: string; manifest: ManifestOf<K> }
}[ApplicableKind]

/** Extra checks a kind needs beyond its schema (step configs, subscriptions); returns problems as "path: reason". */
export type SemanticCheck = (doc: ParsedManifest) => string[]

export interface ParseOptions {
  /** Namespace for documents that name none, like kubectl's --namespace. */
  defaultProject?: string
  semanticChecks?: SemanticCheck[]
}

const systemKinds = new Set(['Freight', 'Promotion', 'PromotionRequest'])

function yamlDocuments(text: string): Document.Parsed[] {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true })
  const list = Array.isArray(docs) ? docs : [docs]
  for (const [index, doc] of list.entries()) {
    const error = doc.errors[0]
    if (error) {
      const pos = error.linePos?.[0]
      const where = pos ? `line ${pos.line}, column ${pos.col}` : `document ${index + 1}`
      throw new ValidationError(`invalid YAML at ${where}: ${error.message.split('\n')[0]}`, {
        data: { line: pos?.line, column: pos?.col },
      })
    }
  }
  return list
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Expands a `kind: List` or a JSON array into its items. */
function flatten(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) return value.items
  return [value]
}

/**
 * Parses multi-document YAML or JSON into validated Kargo manifests. Every document is checked before
 * anything is returned, so a caller that writes only on success never half-applies a file.
 * Throws ValidationError listing each problem with its document, field path and reason.
 */
export function parseManifests(text: string, options: ParseOptions = {}): ParsedManifest[] {
  const values = yamlDocuments(text)
    .map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown)
    .filter((value) => value !== null && value !== undefined)
    .flatMap(flatten)
  if (values.length === 0) throw new ValidationError('no documents found in the manifest')

  const problems: string[] = []
  const parsed: ParsedManifest[] = []
  for (const [index, value] of values.entries()) {
    const label = `document ${index + 1}`
    if (!isRecord(value)) {
      problems.push(`${label}: expected a mapping with apiVersion, kind and metadata`)
      continue
    }
    const kind = value.kind
    const name =
      isRecord(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : undefined
    const where = `${label} (${String(kind ?? 'no kind')}${name ? ` "${name}"` : ''})`
    if (typeof kind !== 'string' || !(kind in applicableKinds)) {
      problems.push(
        systemKinds.has(String(kind))
          ? `${where}: ${String(kind)} resources are created by Tugboat, not applied (use the promote API)`
          : `${where}: unknown kind ${JSON.stringify(kind ?? null)}; expected one of ${Object.keys(applicableKinds).join(', ')}`,
      )
      continue
    }
    const spec = applicableKinds[kind as ApplicableKind]
    const { status: _ignored, ...withoutStatus } = value
    const metadata = isRecord(withoutStatus.metadata) ? { ...withoutStatus.metadata } : withoutStatus.metadata
    if (spec.namespaced && isRecord(metadata) && metadata.namespace === undefined && options.defaultProject) {
      metadata.namespace = options.defaultProject
    }
    const result = spec.schema.safeParse({ ...withoutStatus, metadata })
    if (!result.success) {
      problems.push(...describeIssues(result.error.issues).map((line) => `${where}: ${line}`))
      continue
    }
    const manifest = result.data as { metadata: { name: string; namespace?: string } }
    const project = spec.namespaced ? manifest.metadata.namespace : manifest.metadata.name
    if (!project) {
      problems.push(`${where}: metadata.namespace is required (the project); set it or pass a project (-p)`)
      continue
    }
    const doc = { index, kind, name: manifest.metadata.name, project, manifest } as ParsedManifest
    const semantic = (options.semanticChecks ?? []).flatMap((check) => check(doc))
    if (semantic.length > 0) {
      problems.push(...semantic.map((line) => `${where}: ${line}`))
      continue
    }
    parsed.push(doc)
  }
  if (problems.length > 0) {
    throw new ValidationError(
      problems.length === 1 ? problems[0]! : `${problems.length} problems:\n${problems.join('\n')}`,
      {
        data: { problems },
      },
    )
  }
  return parsed
}
