import { z } from 'zod'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `compose-output-config.json`: any object with at least one property. */
export const ComposeOutputConfigSchema = z
  .record(z.string(), z.unknown())
  .refine((c) => Object.keys(c).length > 0, { message: 'must have at least 1 property' })
export type ComposeOutputConfig = z.infer<typeof ComposeOutputConfigSchema>

/**
 * The `compose-output` step: every config key becomes an output of the step, holding its (already evaluated) value,
 * e.g. `prURL: ${{ vars.repoURL }}/pull/${{ outputs['open-pr'].pr.id }}`. Used to remap or combine earlier outputs,
 * and by PromotionTasks to publish outputs.
 */
export const composeOutput: Step<ComposeOutputConfig> = {
  kind: 'compose-output',
  config: ComposeOutputConfigSchema,
  async run(_ctx: StepContext, cfg: ComposeOutputConfig): Promise<StepResult> {
    return { status: 'Succeeded', output: { ...cfg } }
  },
}
