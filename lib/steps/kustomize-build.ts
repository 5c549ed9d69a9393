import fs from 'node:fs'
import path from 'node:path'
import { parseAllDocuments, stringify } from 'yaml'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { runKustomizeBuild } from '../tools/kustomize.js'
import type { Step, StepContext, StepResult } from './types.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'

/*
 * `kustomize-build`: renders a Kustomization with the real kustomize (lib/tools/kustomize.ts) and writes the result
 * to `outPath`: one file when it ends in .yaml/.yml, else a directory with one file per resource, named as Kargo
 * names them (`[namespace-]kind-name.yaml`, or kustomize's `[namespace_]group_version_kind_name.yaml`). Like Kargo it
 * enables the Helm inflator and lifts kustomize's load restrictions; unlike Kargo's in-process build the CLI cannot be
 * chrooted to the workspace, so the child runs with a scrubbed environment instead.
 */

/** Mirrors `kustomize-build-config.json`. */
export const KustomizeBuildConfigSchema = z.strictObject({
  path: z.string().min(1),
  outPath: z.string().min(1),
  outputFormat: z.enum(['kargo', 'kustomize']).optional(),
  plugin: z
    .strictObject({
      helm: z
        .strictObject({
          apiVersions: z.array(z.string().min(1)).optional(),
          kubeVersion: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
})
export type KustomizeBuildConfig = z.infer<typeof KustomizeBuildConfigSchema>

/** The `kustomize-build` step. No output. */
export const kustomizeBuild: Step<KustomizeBuildConfig> = {
  kind: 'kustomize-build',
  config: KustomizeBuildConfigSchema,
  defaultTimeoutMs: 5 * 60_000,
  async run(ctx: StepContext, cfg: KustomizeBuildConfig): Promise<StepResult> {
    const dir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    const outPath = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
    const rendered = await runKustomizeBuild(dir, {
      enableHelm: true,
      helmApiVersions: cfg.plugin?.helm?.apiVersions,
      helmKubeVersion: cfg.plugin?.helm?.kubeVersion,
      loadRestrictor: 'LoadRestrictionsNone',
      signal: ctx.signal,
      hidePath: path.resolve(ctx.workDir),
    })
    const ext = path.extname(outPath)
    if (ext === '.yaml' || ext === '.yml') {
      fs.mkdirSync(path.dirname(outPath), { recursive: true })
      fs.writeFileSync(outPath, rendered)
      ctx.log(`wrote ${cfg.outPath}`)
    } else {
      const files = splitResources(rendered, cfg.outputFormat ?? 'kargo')
      fs.mkdirSync(outPath, { recursive: true })
      for (const [name, content] of files) fs.writeFileSync(path.join(outPath, name), content)
      ctx.log(`wrote ${files.size} files to ${cfg.outPath}`)
    }
    return { status: 'Succeeded' }
  },
}

interface Resource {
  apiVersion: string
  kind: string
  name: string
  namespace: string
  body: unknown
}

/**
 * Splits `kustomize build` output into one file per resource: name → content. Each file holds the resource with its
 * keys sorted (Kargo writes it through sigs.k8s.io/yaml, which sorts them).
 */
export function splitResources(rendered: string, format: 'kargo' | 'kustomize'): Map<string, string> {
  const resources: Resource[] = []
  for (const doc of parseAllDocuments(rendered)) {
    if (doc.errors.length > 0)
      throw new TerminalError(`could not parse kustomize output: ${doc.errors[0]?.message}`)
    const body: unknown = doc.toJS()
    if (body === null || typeof body !== 'object') continue
    const meta = z
      .object({
        apiVersion: z.string().default(''),
        kind: z.string().default(''),
        metadata: z
          .object({ name: z.string().default(''), namespace: z.string().default('') })
          .default({ name: '', namespace: '' }),
      })
      .parse(body)
    resources.push({
      apiVersion: meta.apiVersion,
      kind: meta.kind,
      name: meta.metadata.name,
      namespace: meta.metadata.namespace,
      body,
    })
  }
  const namespaces = new Set(
    resources.filter((r) => !CLUSTER_SCOPED.has(r.kind)).map((r) => r.namespace || 'default'),
  )
  const multipleNamespaces = namespaces.size > 1
  const files = new Map<string, string>()
  // Namespaced resources first, then cluster-scoped ones, as kustomize's writer (and so Kargo) orders them.
  const ordered = [
    ...resources.filter((r) => !CLUSTER_SCOPED.has(r.kind)),
    ...resources.filter((r) => CLUSTER_SCOPED.has(r.kind)),
  ]
  for (const res of ordered) {
    const scoped = !CLUSTER_SCOPED.has(res.kind)
    const name =
      format === 'kargo' ? kargoFileName(res) : kustomizeFileName(res, scoped && multipleNamespaces)
    validateFileName(name)
    files.set(name, stringify(res.body, { sortMapEntries: true, indentSeq: false, lineWidth: 0 }))
  }
  return files
}

/** `[namespace-]kind-name.yaml`, lowercased; the namespace whenever the resource has one. */
function kargoFileName(res: Resource): string {
  const base = res.namespace ? `${res.namespace}-${res.kind}-${res.name}` : `${res.kind}-${res.name}`
  return `${base}.yaml`.toLowerCase()
}

/** kustomize's `-o dir` naming: `[namespace_]group_version_kind_name.yaml` (namespace only with several). */
function kustomizeFileName(res: Resource, withNamespace: boolean): string {
  const slash = res.apiVersion.indexOf('/')
  const group = slash >= 0 ? res.apiVersion.slice(0, slash) : ''
  const version = slash >= 0 ? res.apiVersion.slice(slash + 1) : res.apiVersion
  const gvk = [group, version, res.kind].filter((p) => p !== '').join('_')
  const base = `${gvk.toLowerCase()}_${res.name.toLowerCase()}.yaml`
  return withNamespace && res.namespace ? `${res.namespace.toLowerCase()}_${base}` : base
}

/** A generated name must be a plain file name: rendered metadata is untrusted and must not steer the write. */
function validateFileName(name: string): void {
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    /[/\\]/.test(name) ||
    path.isAbsolute(name) ||
    path.normalize(name) !== name
  ) {
    throw new TerminalError(`unsafe generated resource filename "${name}"`)
  }
}

/** Kinds kustomize treats as cluster-scoped (its built-in list of non-namespaceable kinds). */
const CLUSTER_SCOPED = new Set([
  'APIService',
  'CertificateSigningRequest',
  'ClusterRole',
  'ClusterRoleBinding',
  'ClusterTrustBundle',
  'ComponentStatus',
  'CSIDriver',
  'CSINode',
  'CustomResourceDefinition',
  'FlowSchema',
  'IngressClass',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Node',
  'PersistentVolume',
  'PodSecurityPolicy',
  'PriorityClass',
  'PriorityLevelConfiguration',
  'RuntimeClass',
  'SelfSubjectAccessReview',
  'SelfSubjectReview',
  'SelfSubjectRulesReview',
  'StorageClass',
  'SubjectAccessReview',
  'TokenReview',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'VolumeAttachment',
])
