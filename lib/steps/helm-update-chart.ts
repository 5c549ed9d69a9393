import fs from 'node:fs'
import path from 'node:path'
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { goJsonUnmarshal } from '../expressions/go-json.js'
import { goQuote, parseGoBool, parseGoFloat } from '../expressions/go-strconv.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import {
  findHelm,
  prepareHelmHome,
  readChartDependencies,
  runHelm,
  validateLocalDependencies,
  type ChartDependency,
} from './helm-template.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `helm-update-chart`: sets the versions of an umbrella chart's dependencies in Chart.yaml (each `charts[]` entry
 * names a dependency by `repository` and `name`, exactly as Chart.yaml lists it; the version usually comes from the
 * Freight through an expression such as `${{ chartFrom(repo, name).Version }}`). Chart.yaml is edited as Kargo edits
 * it: only the value on the version line changes (quoted when YAML would read it as a number, bool or JSON), every
 * other byte is kept — except a comment after the old value on that same line, which Kargo drops too.
 * Then, like Kargo, it runs `helm dependency update` (charts/ and Chart.lock refreshed; Chart.lock restored when no
 * version changed, so its timestamp does not churn) — but only when helm is installed. Without helm, Chart.lock is
 * NOT refreshed and the step's message says so; a chart that keeps a Chart.lock then needs it refreshed elsewhere.
 * Output: `{ commitMessage }` when a version changed (from Chart.lock with helm, from Chart.yaml without).
 */

/** Mirrors `helm-update-chart-config.json`. */
export const HelmUpdateChartConfigSchema = z.strictObject({
  path: z.string().min(1),
  charts: z
    .array(
      z.strictObject({
        repository: z.string().min(1),
        name: z.string().min(1),
        version: z.string().min(1),
      }),
    )
    .min(1)
    .optional(),
})
export type HelmUpdateChartConfig = z.infer<typeof HelmUpdateChartConfigSchema>

export interface HelmUpdateChartOptions {
  /** Where to look for helm (default: process.env at run time). */
  env?: Record<string, string | undefined>
}

/** Builds the `helm-update-chart` step. */
export function createHelmUpdateChart(options: HelmUpdateChartOptions = {}): Step<HelmUpdateChartConfig> {
  return {
    kind: 'helm-update-chart',
    config: HelmUpdateChartConfigSchema,
    requires: ['credentials'],
    defaultTimeoutMs: 5 * 60_000,
    run: (ctx, cfg) => runUpdate(ctx, cfg, options),
  }
}

/** The `helm-update-chart` step. Output: `{ commitMessage }` when a dependency version changed. */
export const helmUpdateChart: Step<HelmUpdateChartConfig> = createHelmUpdateChart()

/** Message of a run without helm. */
export const LOCK_NOT_REFRESHED =
  'Chart.lock was not refreshed and charts/ not downloaded: helm is not installed (set HELM_BIN or add the helm layer)'

async function runUpdate(
  ctx: StepContext,
  cfg: HelmUpdateChartConfig,
  options: HelmUpdateChartOptions,
): Promise<StepResult> {
  const chartDir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
  const chartFile = path.join(chartDir, 'Chart.yaml')
  const label = `${cfg.path.replace(/\/+$/, '')}/Chart.yaml`
  const dependencies = readChartDependencies(chartFile, label)
  validateLocalDependencies(ctx.workDir, chartDir, dependencies)

  const edits: VersionEdit[] = []
  for (const update of cfg.charts ?? []) {
    const index = dependencies.findIndex((d) => d.name === update.name && d.repository === update.repository)
    if (index < 0)
      throw new TerminalError(
        `no dependency in Chart.yaml matches update with repository ${goQuote(update.repository)} and name ${goQuote(update.name)}`,
      )
    const current = dependencies[index]!
    if (current.version !== update.version)
      edits.push({ index, name: current.name, from: current.version, to: update.version })
  }
  if (edits.length > 0) {
    const text = fs.readFileSync(chartFile, 'utf8')
    fs.writeFileSync(chartFile, setDependencyVersions(text, edits, label))
    for (const edit of edits) ctx.log(`${label}: ${edit.name} ${edit.from} -> ${edit.to}`)
  }

  let helm
  try {
    helm = findHelm(options.env ?? process.env)
  } catch {
    ctx.log(LOCK_NOT_REFRESHED)
    const changes = Object.fromEntries(edits.map((e) => [e.name, `${e.from} -> ${e.to}`]))
    return withCommitMessage({ status: 'Succeeded', message: LOCK_NOT_REFRESHED }, cfg.path, changes)
  }

  const updated = readChartDependencies(chartFile, label)
  const lockFile = path.join(chartDir, 'Chart.lock')
  const lockExisted = fs.existsSync(lockFile)
  if (lockExisted && fs.lstatSync(lockFile).isSymbolicLink())
    throw new TerminalError(`${cfg.path}/Chart.lock is a symlink`)
  const before = lockExisted ? readChartDependencies(lockFile, `${cfg.path}/Chart.lock`) : []
  const original = lockExisted ? fs.readFileSync(lockFile) : undefined
  const home = await prepareHelmHome(ctx, helm, updated, ctx.signal)
  try {
    await runHelm(['dependency', 'update', chartDir], {
      helm,
      env: home.env,
      hidePath: path.resolve(ctx.workDir),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    })
  } finally {
    home.dispose()
  }
  const after = readChartDependencies(lockFile, `${cfg.path}/Chart.lock`)
  const changes = compareChartVersions(before, after)
  // helm rewrites the lock's timestamp even when nothing changed: keep the old file then.
  if (Object.keys(changes).length === 0 && original !== undefined) fs.writeFileSync(lockFile, original)
  ctx.log(`refreshed ${cfg.path}/Chart.lock`)
  return withCommitMessage({ status: 'Succeeded' }, cfg.path, changes)
}

interface VersionEdit {
  index: number
  name: string
  from: string
  to: string
}

function withCommitMessage(
  result: StepResult,
  chartPath: string,
  changes: Record<string, string>,
): StepResult {
  const names = Object.keys(changes).sort()
  if (names.length === 0) return result
  const lines = names.map((name) => `\n- ${name}: ${changes[name] || 'removed'}`)
  return {
    ...result,
    output: { commitMessage: `Updated chart dependencies for ${chartPath}\n${lines.join('')}` },
  }
}

/** Kargo's comparison of Chart.lock versions: name → `old -> new`, the new version (added), or "" (removed). */
export function compareChartVersions(
  before: ChartDependency[],
  after: ChartDependency[],
): Record<string, string> {
  const previous = new Map(before.map((d) => [d.name, d.version]))
  const changes: Record<string, string> = {}
  for (const dep of after) {
    const old = previous.get(dep.name)
    if (old === undefined) changes[dep.name] = dep.version
    else if (old !== dep.version) changes[dep.name] = `${old} -> ${dep.version}`
    previous.delete(dep.name)
  }
  for (const name of previous.keys()) changes[name] = ''
  return changes
}

/**
 * Kargo's `SetValuesInBytes` for `dependencies.<i>.version`: each addressed line keeps its text up to the value's
 * column, then gets the new value (quoted when needed) and a newline; all other lines are copied. Lines end in `\n`.
 */
export function setDependencyVersions(
  text: string,
  edits: Array<{ index: number; to: string }>,
  label: string,
): string {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true })
  if (doc.errors.length > 0) throw new TerminalError(`${label} is not valid YAML: ${doc.errors[0]?.message}`)
  const changes = new Map<number, { col: number; value: string }>()
  for (const edit of edits) {
    const node = scalarAt(doc.contents, ['dependencies', edit.index, 'version'])
    if (!node?.range)
      throw new TerminalError(`${label}: dependencies.${edit.index}.version is not a plain value`)
    const position = lineCounter.linePos(node.range[0])
    changes.set(position.line - 1, { col: position.col - 1, value: quoteIfNecessary(edit.to) })
  }
  const lines = text.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  return lines
    .map((line, i) => {
      const change = changes.get(i)
      if (!change) return `${line}\n`
      const kept = line.slice(0, change.col)
      return `${kept}${kept.endsWith(' ') ? '' : ' '}${change.value}\n`
    })
    .join('')
}

function scalarAt(node: unknown, keyPath: Array<string | number>): Node | undefined {
  let current: unknown = node
  for (const key of keyPath) {
    if (isMap(current)) {
      const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key))
      current = pair?.value
    } else if (isSeq(current) && typeof key === 'number') {
      current = current.items[key]
    } else {
      return undefined
    }
  }
  return isScalar(current) ? current : undefined
}

/** Kargo's `QuoteIfNecessary`: Go-quoted when YAML would read the string as a number, a bool or JSON. */
export function quoteIfNecessary(value: string): string {
  if (parseGoFloat(value) !== undefined) return goQuote(value)
  if (parseGoBool(value) !== undefined) return goQuote(value)
  if (goJsonUnmarshal(value) !== undefined) return goQuote(value)
  return value
}
