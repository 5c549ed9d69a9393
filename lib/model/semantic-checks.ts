import { z } from 'zod'
import {
  ChartSubscriptionSchema,
  GitSubscriptionSchema,
  ImageSubscriptionSchema,
} from '../discovery/types.js'
import { parseConstraint } from '../semver/index.js'
import { validateStepConfig } from '../steps/config-validation.js'
import { messageOf } from '../errors.js'
import type { ParsedManifest, SemanticCheck } from './manifests.js'
import type { PromotionStep } from './resources.js'
import { describeIssues } from './zod-errors.js'

const SubscriptionEntrySchema = z
  .object({
    image: ImageSubscriptionSchema.optional(),
    git: GitSubscriptionSchema.optional(),
    chart: ChartSubscriptionSchema.optional(),
  })
  .strict()
  .refine((entry) => [entry.image, entry.git, entry.chart].filter(Boolean).length === 1, {
    message: 'each subscription needs exactly one of image, git or chart',
  })

/** Subscriptions are open in the CRD; they are checked against Kargo's subscription schemas here. */
export const checkWarehouseSubscriptions: SemanticCheck = (doc) => {
  if (doc.kind !== 'Warehouse') return []
  const problems: string[] = []
  for (const [i, entry] of doc.manifest.spec.subscriptions.entries()) {
    const parsed = SubscriptionEntrySchema.safeParse(entry)
    if (!parsed.success) {
      problems.push(...describeIssues(parsed.error.issues, ['spec', 'subscriptions', i]))
      continue
    }
    const constraint = parsed.data.image
      ? (parsed.data.image.imageSelectionStrategy ?? 'SemVer') === 'SemVer'
        ? (parsed.data.image.constraint ?? parsed.data.image.semverConstraint)
        : undefined
      : parsed.data.chart?.semverConstraint
    if (constraint) {
      try {
        parseConstraint(constraint)
      } catch (error) {
        const field = parsed.data.image
          ? parsed.data.image.constraint
            ? 'image.constraint'
            : 'image.semverConstraint'
          : 'chart.semverConstraint'
        problems.push(`spec.subscriptions[${i}].${field}: ${messageOf(error)}`)
      }
    }
  }
  return problems
}

function checkSteps(steps: PromotionStep[] | undefined, prefix: string): string[] {
  const problems: string[] = []
  const aliases = new Set<string>()
  for (const [i, step] of (steps ?? []).entries()) {
    const where = `${prefix}[${i}]${step.as ? ` (${step.as})` : ''}`
    if (step.as) {
      if (aliases.has(step.as)) problems.push(`${where}.as: alias "${step.as}" is used by another step`)
      aliases.add(step.as)
    }
    if (step.task && step.uses) problems.push(`${where}: set either uses or task, not both`)
    if (!step.task && !step.uses) problems.push(`${where}.uses: is required`)
    if (step.uses) {
      problems.push(
        ...validateStepConfig(step.uses, step.config).map(
          (p) => `${where}.config.${p.replace(/^\(config\): /, '')}`,
        ),
      )
    }
  }
  return problems
}

/** Step configs are checked when a Stage or PromotionTask is applied, not halfway through a Promotion. */
export const checkPromotionSteps: SemanticCheck = (doc: ParsedManifest) => {
  if (doc.kind === 'Stage')
    return checkSteps(doc.manifest.spec.promotionTemplate?.spec.steps, 'spec.promotionTemplate.spec.steps')
  if (doc.kind === 'PromotionTask') return checkSteps(doc.manifest.spec.steps, 'spec.steps')
  return []
}

export const defaultSemanticChecks: SemanticCheck[] = [checkWarehouseSubscriptions, checkPromotionSteps]
