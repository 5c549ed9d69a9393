import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseDocument, stringify } from 'yaml'
import { z } from 'zod'
import { TerminalError, UpstreamError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { isExecutable, which } from '../tools/which.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `helm-template`: renders a chart with the real `helm template` (found like kustomize: $HELM_BIN, the Lambda layer's
 * /opt/bin/helm, then PATH; a TerminalError when absent) and writes the result as Kargo does: one file when `outPath`
 * ends in .yaml/.yml (helm's own stdout, which is Kargo's file content), helm's `--output-dir` tree for the default
 * `helm` layout, or one file per resource (`[group-]kind[-namespace]-name.yaml`, lowercase) for `flat`. The namespace
 * defaults to the project, as in Kargo. `buildDependencies` runs `helm dependency build` first, with repositories
 * and OCI registry logins set up from the project's `helm` credentials in a throwaway HELM home. helm runs with a
 * scrubbed environment (no cloud credentials), no shell, and secrets only on stdin.
 * This file also holds what `helm-update-chart` shares: finding and running helm, and the throwaway HELM home.
 */

const SetValueSchema = z.strictObject({
  key: z.string().min(1),
  value: z.string(),
  literal: z.boolean().optional(),
})

/** Mirrors `helm-template-config.json`. */
export const HelmTemplateConfigSchema = z.strictObject({
  path: z.string().min(1),
  outPath: z.string().min(1),
  outLayout: z.enum(['helm', 'flat']).optional(),
  releaseName: z.string().min(1),
  useReleaseName: z.boolean().optional(),
  namespace: z.string().optional(),
  valuesFiles: z.array(z.string().min(1)).optional(),
  ignoreMissingValueFiles: z.boolean().optional(),
  setValues: z.array(SetValueSchema).optional(),
  buildDependencies: z.boolean().optional(),
  includeCRDs: z.boolean().optional(),
  disableHooks: z.boolean().optional(),
  skipTests: z.boolean().optional(),
  kubeVersion: z.string().optional(),
  apiVersions: z.array(z.string().min(1)).optional(),
})
export type HelmTemplateConfig = z.infer<typeof HelmTemplateConfigSchema>

/** The Lambda layer's install path. */
export const LAYER_HELM = '/opt/bin/helm'

/** Where helm was found. */
export interface HelmCommand {
  command: string
  source: 'HELM_BIN' | 'layer' | 'PATH'
}

/** Finds helm: `$HELM_BIN`, the Lambda layer (`/opt/bin/helm`), `helm` on PATH. A TerminalError when none is there. */
export function findHelm(env: Record<string, string | undefined> = process.env): HelmCommand {
  if (env.HELM_BIN) {
    if (!isExecutable(env.HELM_BIN))
      throw new TerminalError(`HELM_BIN is set to ${env.HELM_BIN}, which is not an executable file`, {
        data: { tool: 'helm' },
      })
    return { command: env.HELM_BIN, source: 'HELM_BIN' }
  }
  if (isExecutable(LAYER_HELM)) return { command: LAYER_HELM, source: 'layer' }
  const onPath = which('helm', env.PATH)
  if (onPath) return { command: onPath, source: 'PATH' }
  throw new TerminalError(
    'helm is not installed: set HELM_BIN, add the helm layer (/opt/bin/helm), or put helm on PATH',
    { data: { tool: 'helm' } },
  )
}

/** True when helm can be found (tests skip what needs it otherwise). */
export function helmAvailable(env: Record<string, string | undefined> = process.env): boolean {
  try {
    findHelm(env)
    return true
  } catch {
    return false
  }
}

export interface RunHelmOptions {
  helm: HelmCommand
  /** The child's whole environment (see `HelmHome.env`). */
  env: Record<string, string>
  stdin?: string
  timeoutMs?: number
  signal?: AbortSignal
  /** Text replaced by `.` in error messages (the workspace path). */
  hidePath?: string
}

/** Runs helm (no shell) and returns stdout. A failure is a TerminalError with helm's own message. */
export function runHelm(args: string[], opts: RunHelmOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000
  const hide = (text: string): string => (opts.hidePath ? text.split(opts.hidePath).join('.') : text)
  const what = `helm ${args.slice(0, args[0] === 'dependency' || args[0] === 'registry' ? 2 : 1).join(' ')}`
  return new Promise<string>((resolve, reject) => {
    const child = spawn(opts.helm.command, args, {
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.stdin ?? '')
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(
        new UpstreamError(`could not run helm (${opts.helm.command}): ${error.message}`, {
          data: { tool: 'helm' },
        }),
      )
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut)
        reject(new UpstreamError(`${what} timed out after ${timeoutMs} ms`, { data: { tool: 'helm' } }))
      else if (code === 0) resolve(Buffer.concat(out).toString('utf8'))
      else {
        const message =
          hide(
            Buffer.concat(err)
              .toString('utf8')
              .trim()
              .replace(/^Error: /, ''),
          ) || `exit code ${code}`
        reject(new TerminalError(`${what} failed: ${message}`, { data: { tool: 'helm', exitCode: code } }))
      }
    })
  })
}

/** A dependency as Chart.yaml / Chart.lock list it. */
export interface ChartDependency {
  name: string
  repository: string
  version: string
}

const DependencyListSchema = z.object({
  dependencies: z
    .array(
      z.object({
        name: z.string().catch(''),
        repository: z.string().catch(''),
        version: z.coerce.string().catch(''),
      }),
    )
    .nullish(),
})

/** The dependencies of a Chart.yaml or Chart.lock; a TerminalError when the file is missing or not YAML. */
export function readChartDependencies(file: string, label: string): ChartDependency[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new TerminalError(`${label} not found`)
  }
  const doc = parseDocument(text, { version: '1.1' })
  if (doc.errors.length > 0) throw new TerminalError(`${label} is not valid YAML: ${doc.errors[0]?.message}`)
  const parsed = DependencyListSchema.safeParse(doc.toJS() ?? {})
  if (!parsed.success)
    throw new TerminalError(`${label} has unexpected dependencies: ${parsed.error.issues[0]?.message}`)
  return parsed.data.dependencies ?? []
}

/**
 * Checks `file://` dependencies: relative, and inside the workspace even through symlinks (Helm follows them when
 * packaging). Others are left to helm.
 */
export function validateLocalDependencies(workDir: string, chartDir: string, deps: ChartDependency[]): void {
  for (const dep of deps) {
    if (!dep.repository.startsWith('file://')) continue
    const local = dep.repository.slice('file://'.length)
    if (path.isAbsolute(local))
      throw new TerminalError(`invalid dependency "${dep.repository}": dependency path must be relative`)
    const relative = path.relative(workDir, path.resolve(chartDir, local))
    resolveInWorkspaceReal(workDir, relative === '' ? '.' : relative, `dependency "${dep.repository}"`)
  }
}

/** A throwaway HELM home: its environment, removed by `dispose`. */
export interface HelmHome {
  env: Record<string, string>
  dispose(): void
}

/**
 * Creates a HELM home holding only what these dependencies need: a repositories.yaml with the classic repositories
 * (https ones with the project's `helm` credentials) and registry logins for OCI hosts that have credentials.
 */
export async function prepareHelmHome(
  ctx: StepContext,
  helm: HelmCommand,
  deps: ChartDependency[],
  signal?: AbortSignal,
): Promise<HelmHome> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-helm-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: os.tmpdir(),
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
    HELM_REPOSITORY_CONFIG: path.join(home, 'config', 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: path.join(home, 'cache', 'repository'),
    HELM_REGISTRY_CONFIG: path.join(home, 'config', 'registry', 'config.json'),
  }
  const dispose = (): void => fs.rmSync(home, { recursive: true, force: true })
  try {
    fs.mkdirSync(path.join(home, 'config', 'registry'), { recursive: true, mode: 0o700 })
    const repositories: Array<Record<string, string>> = []
    const loggedIn = new Set<string>()
    for (const dep of deps) {
      const repo = dep.repository
      if (repo.startsWith('http://') || repo.startsWith('https://')) {
        if (repositories.some((r) => r.url === repo)) continue
        const entry: Record<string, string> = {
          name: createHash('sha256').update(repo).digest('hex'),
          url: repo,
        }
        if (repo.startsWith('https://')) {
          const creds = await ctx.credentials('helm', repo)
          if (creds?.username) entry.username = creds.username
          if (creds?.password) entry.password = creds.password
        }
        repositories.push(entry)
      } else if (repo.startsWith('oci://')) {
        const base = repo.slice('oci://'.length).replace(/\/+$/, '')
        const host = base.split('/')[0] ?? ''
        if (host === '' || loggedIn.has(host)) continue
        const creds = await ctx.credentials('helm', `oci://${base}/${dep.name}`)
        if (!creds?.username && !creds?.password) continue
        await runHelm(['registry', 'login', host, '--username', creds.username ?? '', '--password-stdin'], {
          helm,
          env,
          stdin: creds.password ?? '',
          timeoutMs: 60_000,
          ...(signal ? { signal } : {}),
        })
        loggedIn.add(host)
      }
    }
    const file = stringify({ apiVersion: '', generated: '0001-01-01T00:00:00Z', repositories })
    fs.writeFileSync(env.HELM_REPOSITORY_CONFIG!, file, { mode: 0o600 })
    return { env, dispose }
  } catch (error) {
    dispose()
    throw error
  }
}

export interface HelmTemplateOptions {
  /** Where to look for helm (default: process.env at run time). */
  env?: Record<string, string | undefined>
}

/** Builds the `helm-template` step. */
export function createHelmTemplate(options: HelmTemplateOptions = {}): Step<HelmTemplateConfig> {
  return {
    kind: 'helm-template',
    config: HelmTemplateConfigSchema,
    requires: ['credentials'],
    defaultTimeoutMs: 5 * 60_000,
    run: (ctx, cfg) => runTemplate(ctx, cfg, options),
  }
}

/** The `helm-template` step. No output. */
export const helmTemplate: Step<HelmTemplateConfig> = createHelmTemplate()

async function runTemplate(
  ctx: StepContext,
  cfg: HelmTemplateConfig,
  options: HelmTemplateOptions,
): Promise<StepResult> {
  const chartDir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
  const outPath = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
  const valuesFiles: string[] = []
  for (const [i, file] of (cfg.valuesFiles ?? []).entries()) {
    const resolved = resolveInWorkspaceReal(ctx.workDir, file, `valuesFiles[${i}]`)
    if (cfg.ignoreMissingValueFiles && !fs.existsSync(resolved)) continue
    valuesFiles.push(resolved)
  }
  const helm = findHelm(options.env ?? process.env)
  const deps = cfg.buildDependencies
    ? readChartDependencies(path.join(chartDir, 'Chart.yaml'), `${cfg.path}/Chart.yaml`)
    : []
  validateLocalDependencies(ctx.workDir, chartDir, deps)
  const home = await prepareHelmHome(ctx, helm, deps, ctx.signal)
  const run = (args: string[]): Promise<string> =>
    runHelm(args, {
      helm,
      env: home.env,
      hidePath: path.resolve(ctx.workDir),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    })
  try {
    if (deps.length > 0) await run(['dependency', 'build', chartDir])
    const layout = outputLayout(cfg)
    const args = helmTemplateArgs(cfg, { chartDir, valuesFiles, namespace: cfg.namespace || ctx.project })
    if (layout === 'helm') args.push('--output-dir', outPath)
    const rendered = await run(args)
    if (layout === 'file') {
      fs.mkdirSync(path.dirname(outPath), { recursive: true, mode: 0o700 })
      fs.writeFileSync(outPath, rendered, { mode: 0o600 })
      ctx.log(`rendered ${cfg.path} to ${cfg.outPath}`)
    } else if (layout === 'flat') {
      const files = flatFiles(rendered)
      if (files.size > 0) fs.mkdirSync(outPath, { recursive: true, mode: 0o700 })
      for (const [name, content] of files)
        fs.writeFileSync(path.join(outPath, name), content, { mode: 0o600 })
      ctx.log(`rendered ${cfg.path} to ${files.size} files in ${cfg.outPath}`)
    } else {
      ctx.log(`rendered ${cfg.path} into ${cfg.outPath}`)
    }
  } finally {
    home.dispose()
  }
  return { status: 'Succeeded' }
}

/** `file` when outPath ends in .yaml/.yml, else the configured directory layout (`helm` by default). */
export function outputLayout(
  cfg: Pick<HelmTemplateConfig, 'outPath' | 'outLayout'>,
): 'file' | 'helm' | 'flat' {
  const ext = path.extname(cfg.outPath)
  if (ext === '.yaml' || ext === '.yml') return 'file'
  return cfg.outLayout ?? 'helm'
}

/** The `helm template` arguments for a config (without `--output-dir`). */
export function helmTemplateArgs(
  cfg: HelmTemplateConfig,
  where: { chartDir: string; valuesFiles: string[]; namespace: string },
): string[] {
  const args = ['template', cfg.releaseName, where.chartDir, '--namespace', where.namespace]
  for (const file of where.valuesFiles) args.push('--values', file)
  for (const set of cfg.setValues ?? [])
    args.push(set.literal ? '--set-literal' : '--set', `${set.key}=${set.value}`)
  if (cfg.useReleaseName) args.push('--release-name')
  if (cfg.includeCRDs) args.push('--include-crds')
  if (cfg.disableHooks) args.push('--no-hooks')
  if (cfg.skipTests) args.push('--skip-tests')
  if (cfg.kubeVersion) args.push('--kube-version', cfg.kubeVersion)
  for (const version of cfg.apiVersions ?? []) args.push('--api-versions', version)
  return args
}

/**
 * Kargo's flat layout: each YAML document of the rendered output becomes one file named
 * `[group-]kind[-namespace]-name.yaml` (lowercase, dots in the group as `_`), holding the document trimmed. A
 * document without kind or name becomes `resource-N.yaml`. Names that could leave the directory are refused.
 */
export function flatFiles(rendered: string): Map<string, string> {
  const files = new Map<string, string>()
  let unnamed = 0
  for (const document of splitYAMLDocuments(rendered)) {
    const resource = document.trim()
    if (resource === '') continue
    let name = resourceFileName(resource)
    if (name === '') name = `resource-${unnamed++}.yaml`
    if (name === '.' || name === '..' || /[/\\]/.test(name) || path.normalize(name) !== name)
      throw new TerminalError(`unsafe generated resource filename "${name}"`)
    files.set(name, resource)
  }
  return files
}

/** Splits on `---` lines as Kubernetes' YAMLReader does (only spaces or a comment may follow the marker). */
function splitYAMLDocuments(text: string): string[] {
  const documents: string[] = []
  let current = ''
  for (const line of text.split(/(?<=\n)/)) {
    if (line.startsWith('---')) {
      const rest = line.slice(3).trim()
      if (rest === '' || rest.startsWith('#')) {
        documents.push(current)
        current = ''
        continue
      }
      throw new TerminalError(`invalid YAML document separator: ${line.trim().slice(0, 80)}`)
    }
    current += line
  }
  documents.push(current)
  return documents
}

const ResourceMetaSchema = z.object({
  apiVersion: z.string().catch(''),
  kind: z.string().catch(''),
  metadata: z
    .object({ name: z.string().catch(''), namespace: z.string().catch('') })
    .catch({ name: '', namespace: '' }),
})

function resourceFileName(resource: string): string {
  let meta: z.infer<typeof ResourceMetaSchema>
  try {
    const doc = parseDocument(resource)
    if (doc.errors.length > 0) return ''
    meta = ResourceMetaSchema.parse(doc.toJS() ?? {})
  } catch {
    return ''
  }
  if (meta.kind === '' || meta.metadata.name === '') return ''
  const parts = meta.apiVersion.split('/')
  const group = parts.length > 1 ? parts.slice(0, -1).join('/') : ''
  let name = meta.kind
  if (group !== '') name = `${group.replaceAll('.', '_')}-${name}`
  if (meta.metadata.namespace !== '') name += `-${meta.metadata.namespace}`
  name += `-${meta.metadata.name}`
  return `${name.toLowerCase()}.yaml`
}
