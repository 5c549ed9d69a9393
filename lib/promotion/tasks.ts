import { ValidationError } from '../errors.js'
import type { PromotionStep } from '../model/resources.js'

/** Resolves a PromotionTask's steps and declared vars by name. */
export type TaskLookup = (
  name: string,
) => Promise<{ steps: PromotionStep[]; vars?: Array<{ name: string; value?: string }> } | undefined>

/** The separator Kargo uses between a task step's alias and the aliases of the steps it expands to. */
export const TASK_ALIAS_SEPARATOR = '::'

/** The alias a step runs under: its `as`, else Kargo's positional `step-N`. */
export function stepAlias(step: PromotionStep, index: number): string {
  return step.as ?? `step-${index}`
}

/**
 * Inlines `task:` steps into their PromotionTask's steps, aliased `<task step alias>::<inner alias>`.
 * The task's declared vars (with defaults) are overlaid by the calling step's vars and carried on each inner step.
 */
export async function expandTasks(steps: PromotionStep[], lookup: TaskLookup): Promise<PromotionStep[]> {
  const expanded: PromotionStep[] = []
  for (const [index, step] of steps.entries()) {
    if (!step.task) {
      expanded.push({ ...step, as: stepAlias(step, index) })
      continue
    }
    const task = await lookup(step.task.name)
    if (!task) throw new ValidationError(`steps[${index}].task: PromotionTask "${step.task.name}" not found`)
    const outer = stepAlias(step, index)
    const vars = new Map<string, string | undefined>()
    for (const v of task.vars ?? []) vars.set(v.name, v.value)
    for (const v of step.vars ?? []) vars.set(v.name, v.value)
    const missing = [...vars.entries()].filter(([, value]) => value === undefined).map(([name]) => name)
    if (missing.length) {
      throw new ValidationError(
        `steps[${index}] (${outer}): PromotionTask "${step.task.name}" needs vars ${missing.join(', ')}`,
      )
    }
    for (const [innerIndex, inner] of task.steps.entries()) {
      if (inner.task)
        throw new ValidationError(`PromotionTask "${step.task.name}" may not reference another task`)
      expanded.push({
        ...inner,
        as: `${outer}${TASK_ALIAS_SEPARATOR}${stepAlias(inner, innerIndex)}`,
        vars: [
          ...[...vars.entries()].map(([name, value]) => ({ name, value: value! })),
          ...(inner.vars ?? []),
        ],
        ...(step.if && !inner.if ? { if: step.if } : {}),
      })
    }
  }
  return expanded
}
