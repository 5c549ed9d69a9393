import { ProjectConfigSpecSchema, ProjectSpecSchema } from '../model/resources.js'
import { compileRe2 } from '../regex/re2.js'
import type { StoredResource } from '../store/resources.js'
import type { Stage } from '../store/stages.js'

type Selector = {
  name?: string
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>
}

function globToRegex(glob: string): string {
  return `^${glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')}$`
}

function nameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('regex:')) return compileRe2(pattern.slice(6), 'stageSelector.name').test(name)
  if (pattern.startsWith('glob:')) return new RegExp(globToRegex(pattern.slice(5))).test(name)
  return pattern === name
}

/** Kubernetes label-selector semantics for a Stage's labels, plus Kargo's name (exact, `glob:` or `regex:`). */
export function selectorMatches(selector: Selector, stage: Stage): boolean {
  const labels = stage.resource.metadata.labels ?? {}
  if (selector.name && !nameMatches(selector.name, stage.name)) return false
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = key(labels, e.key)
    const values = e.values ?? []
    if (e.operator === 'In' && !(has && values.includes(labels[e.key]!))) return false
    if (e.operator === 'NotIn' && has && values.includes(labels[e.key]!)) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  return true
}

function key(labels: Record<string, string>, k: string): boolean {
  return Object.hasOwn(labels, k)
}

/**
 * Whether a Stage auto-promotes: the ProjectConfig's promotionPolicies (by `stage` or `stageSelector`)
 * and, for seeds written before ProjectConfig existed, the Project's own `spec.promotionPolicies`.
 * The first matching policy decides; ProjectConfig's are consulted first.
 */
export function autoPromotionEnabled(
  project: StoredResource | undefined,
  config: StoredResource | undefined,
  stage: Stage,
): boolean {
  const fromConfig = config
    ? (ProjectConfigSpecSchema.optional().parse(config.spec)?.promotionPolicies ?? [])
    : []
  const fromProject = project
    ? (ProjectSpecSchema.optional().parse(project.spec)?.promotionPolicies ?? [])
    : []
  for (const policy of fromConfig) {
    if (
      policy.stage === stage.name ||
      (policy.stageSelector && selectorMatches(policy.stageSelector, stage))
    ) {
      return policy.autoPromotionEnabled ?? false
    }
  }
  for (const policy of fromProject)
    if (policy.stage === stage.name) return policy.autoPromotionEnabled ?? false
  return false
}
