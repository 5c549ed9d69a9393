import { z } from 'zod'
import {
  AnalysisTemplateManifestSchema,
  ProjectConfigManifestSchema,
  ProjectManifestSchema,
  PromotionTaskManifestSchema,
  StageManifestSchema,
  WarehouseManifestSchema,
} from '../model/resources.js'

const schemas = {
  Project: ProjectManifestSchema,
  ProjectConfig: ProjectConfigManifestSchema,
  Warehouse: WarehouseManifestSchema,
  Stage: StageManifestSchema,
  PromotionTask: PromotionTaskManifestSchema,
  AnalysisTemplate: AnalysisTemplateManifestSchema,
}

const ErrorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'object' },
  },
  required: ['error', 'code', 'message'],
}

const bearer = [{ BearerAuth: [] }]
const errors = {
  '400': {
    description: 'Invalid input; the message names the field and the reason',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '401': { description: 'Missing or invalid bearer token' },
  '403': { description: 'The role is not enough' },
  '404': { description: 'Not found' },
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } })
const list = (name: string) =>
  json({ type: 'object', properties: { items: { type: 'array', items: ref(name) } } })
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } })

let cached: Record<string, unknown> | undefined

/** The OpenAPI 3.1 document, built from the same zod schemas that validate requests. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached
  const components = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [
      name,
      z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
    ]),
  )
  const paths: Record<string, unknown> = {
    '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'OK' } } } },
    '/v1beta1/resources': {
      post: {
        summary: 'Create resources from YAML or JSON manifests (all or nothing)',
        security: bearer,
        parameters: [
          {
            name: 'project',
            in: 'query',
            schema: { type: 'string' },
            description: 'Namespace for documents that name none',
          },
        ],
        requestBody: {
          content: {
            'text/plain': { schema: { type: 'string' } },
            'application/yaml': { schema: { type: 'string' } },
          },
        },
        responses: {
          '201': { description: 'Created' },
          '409': { description: 'Already exists' },
          '413': { description: 'Body over 1 MB' },
          ...errors,
        },
      },
      put: {
        summary: 'Update (or with upsert=true, create or update) resources',
        security: bearer,
        parameters: [
          { name: 'upsert', in: 'query', schema: { type: 'boolean' } },
          { name: 'project', in: 'query', schema: { type: 'string' } },
        ],
        requestBody: { content: { 'text/plain': { schema: { type: 'string' } } } },
        responses: {
          '200': { description: 'Updated' },
          '409': { description: 'Version conflict' },
          ...errors,
        },
      },
      delete: {
        summary: 'Delete the resources named by manifests',
        security: bearer,
        responses: { '200': { description: 'Deleted' }, ...errors },
      },
    },
    '/v1beta1/projects': {
      get: {
        summary: 'List Projects',
        security: bearer,
        responses: { '200': { description: 'OK', ...list('Project') }, ...errors },
      },
    },
    '/v1beta1/projects/{project}': {
      get: {
        summary: 'Get a Project',
        security: bearer,
        parameters: [pathParam('project')],
        responses: { '200': { description: 'OK', ...json(ref('Project')) }, ...errors },
      },
    },
  }
  for (const [segment, name] of [
    ['warehouses', 'Warehouse'],
    ['stages', 'Stage'],
    ['promotion-tasks', 'PromotionTask'],
    ['analysis-templates', 'AnalysisTemplate'],
  ] as const) {
    paths[`/v1beta1/projects/{project}/${segment}`] = {
      get: {
        summary: `List ${name}s`,
        security: bearer,
        parameters: [pathParam('project')],
        responses: { '200': { description: 'OK', ...list(name) }, ...errors },
      },
    }
    paths[`/v1beta1/projects/{project}/${segment}/{name}`] = {
      get: {
        summary: `Get a ${name}`,
        security: bearer,
        parameters: [pathParam('project'), pathParam('name')],
        responses: { '200': { description: 'OK', ...json(ref(name)) }, ...errors },
      },
    }
  }
  paths['/v1beta1/projects/{project}/freight'] = {
    get: {
      summary: 'List Freight, newest first',
      security: bearer,
      parameters: [
        pathParam('project'),
        {
          name: 'origins',
          in: 'query',
          schema: { type: 'string' },
          description: 'Comma-separated Warehouse names',
        },
      ],
      responses: { '200': { description: 'OK' }, ...errors },
    },
  }
  paths['/v1beta1/projects/{project}/roles/{role}/api-tokens'] = {
    post: {
      summary: 'Create a project token for a role (kargo-admin, kargo-promoter, kargo-viewer)',
      security: bearer,
      parameters: [pathParam('project'), pathParam('role')],
      requestBody: json({ type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }),
      responses: { '201': { description: 'The token, shown once' }, ...errors },
    },
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Tugboat API',
      version: '0.1.0',
      description: "Kargo's promotion API, served by serverless functions",
    },
    components: {
      securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: { ...components, Error: ErrorSchema },
    },
    paths,
  }
  return cached
}

/** Lets later route modules document themselves in the same document. */
export function addOpenApiPaths(extra: Record<string, unknown>): void {
  const doc = openApiDocument()
  Object.assign(doc.paths as Record<string, unknown>, extra)
}
