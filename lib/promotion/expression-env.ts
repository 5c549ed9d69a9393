import { TerminalError } from '../errors.js'
import { evaluateTemplate } from '../expressions/index.js'
import { normalizeGitURL } from '../model/freight-name.js'
import type { FreightCollection, FreightReference } from '../steps/types.js'
import { TASK_ALIAS_SEPARATOR } from './tasks.js'

export interface ExpressionScope {
  project: string
  stage: string
  promotion: string
  actor?: string
  freight: FreightCollection
  /** The Freight being promoted (Kargo's ctx.targetFreight). */
  targetFreight: { name: string; origin: { kind: string; name: string } }
  outputs: Record<string, Record<string, unknown>>
  /** Step aliases and their statuses so far, for success()/failure()/status(). */
  stepStatuses: Record<string, string>
  freightMetadata?: Record<string, Record<string, unknown>>
  stageMetadata?: Record<string, Record<string, unknown>>
}

function pickFrom<T>(
  collection: FreightCollection,
  origin: unknown,
  what: string,
  list: (f: FreightReference) => T[] | undefined,
  matches: (item: T) => boolean,
): T | null {
  const originName =
    origin && typeof origin === 'object' && 'name' in origin
      ? String((origin as { name: unknown }).name)
      : undefined
  const pieces = Object.values(collection.items).filter((f) => !originName || f.origin.name === originName)
  const found = pieces.flatMap((f) => (list(f) ?? []).filter(matches))
  if (found.length > 1)
    throw new TerminalError(
      `${what} is found in more than one Freight origin; pass warehouse("name") to choose`,
    )
  return found[0] ?? null
}

/** Kargo's Go field names for Freight artifacts, and the JSON field each reads (`imageFrom(x).Tag` → `tag`). */
const GO_FIELDS = {
  image: { RepoURL: 'repoURL', Tag: 'tag', Digest: 'digest', Annotations: 'annotations' },
  commit: {
    RepoURL: 'repoURL',
    ID: 'id',
    Branch: 'branch',
    Tag: 'tag',
    Message: 'message',
    Author: 'author',
    Committer: 'committer',
  },
  chart: { RepoURL: 'repoURL', Name: 'name', Version: 'version' },
} as const

/**
 * An artifact as Kargo's functions return it: a Go struct, read in expressions by its Go field names (`.Tag`, `.ID`;
 * an unset string is ""). The JSON names stay readable, and are the only enumerable ones, so the value still
 * serialises as Kargo's JSON does.
 */
function goStruct<T extends object>(item: T | null, fields: Record<string, string>): T | null {
  if (!item) return null
  const copy = { ...item }
  for (const [goName, jsonName] of Object.entries(fields)) {
    const value = (item as Record<string, unknown>)[jsonName]
    Object.defineProperty(copy, goName, {
      value: value ?? (jsonName === 'annotations' ? null : ''),
      enumerable: false,
    })
  }
  return copy
}

/** The functions Kargo adds to promotion expressions, bound to one Promotion. */
export function freightFunctions(scope: ExpressionScope) {
  const failedSoFar = () => Object.values(scope.stepStatuses).some((s) => s === 'Failed' || s === 'Errored')
  return {
    warehouse: (name: unknown) => ({ kind: 'Warehouse', name: String(name) }),
    commitFrom: (repoURL: unknown, origin?: unknown) => {
      const wanted = normalizeGitURL(String(repoURL))
      return goStruct(
        pickFrom(
          scope.freight,
          origin,
          `commit from ${String(repoURL)}`,
          (f) => f.commits,
          (c) => normalizeGitURL(c.repoURL) === wanted,
        ),
        GO_FIELDS.commit,
      )
    },
    imageFrom: (repoURL: unknown, origin?: unknown) =>
      goStruct(
        pickFrom(
          scope.freight,
          origin,
          `image ${String(repoURL)}`,
          (f) => f.images,
          (i) => i.repoURL === String(repoURL),
        ),
        GO_FIELDS.image,
      ),
    chartFrom: (repoURL: unknown, nameOrOrigin?: unknown, origin?: unknown) => {
      const name = typeof nameOrOrigin === 'string' ? nameOrOrigin : undefined
      const from = typeof nameOrOrigin === 'object' ? nameOrOrigin : origin
      return goStruct(
        pickFrom(
          scope.freight,
          from,
          `chart ${String(repoURL)}`,
          (f) => f.charts,
          (c) => c.repoURL === String(repoURL) && (!name || c.name === name),
        ),
        GO_FIELDS.chart,
      )
    },
    freightMetadata: (freightName: unknown, key?: unknown) => {
      const metadata = scope.freightMetadata?.[String(freightName)] ?? {}
      return key === undefined ? metadata : (metadata[String(key)] ?? null)
    },
    stageMetadata: (stageName?: unknown, key?: unknown) => {
      const metadata = scope.stageMetadata?.[String(stageName ?? scope.stage)] ?? {}
      return key === undefined ? metadata : (metadata[String(key)] ?? null)
    },
    success: () => !failedSoFar(),
    failure: () => failedSoFar(),
    always: () => true,
    status: (alias: unknown) => scope.stepStatuses[String(alias)] ?? null,
  }
}

/** `vars` evaluated in order, each seeing the ones before it: Stage/template vars, then the step's own. */
export function evaluateVars(
  vars: Array<{ name: string; value?: string }> | undefined,
  base: Record<string, unknown>,
  env: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const v of vars ?? []) {
    out[v.name] = v.value === undefined ? null : evaluateTemplate(v.value, { ...env, vars: out })
  }
  return out
}

/** Outputs visible as `task.outputs` to a step expanded from a PromotionTask: its siblings, by inner alias. */
export function taskOutputs(
  alias: string,
  outputs: Record<string, Record<string, unknown>>,
): Record<string, Record<string, unknown>> {
  const at = alias.lastIndexOf(TASK_ALIAS_SEPARATOR)
  if (at < 0) return {}
  const prefix = alias.slice(0, at + TASK_ALIAS_SEPARATOR.length)
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  )
}

/** The expression environment of one step: vars, ctx, outputs, task.outputs and Kargo's functions. */
export function stepEnvironment(
  scope: ExpressionScope,
  vars: Record<string, unknown>,
  alias: string,
): Record<string, unknown> {
  return {
    ctx: {
      project: scope.project,
      stage: scope.stage,
      promotion: scope.promotion,
      targetFreight: scope.targetFreight,
      meta: { promotion: { actor: scope.actor ?? '' } },
    },
    vars,
    outputs: scope.outputs,
    task: { outputs: taskOutputs(alias, scope.outputs) },
    ...freightFunctions(scope),
  }
}
