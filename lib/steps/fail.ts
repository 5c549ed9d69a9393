import { z } from 'zod'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `fail-config.json`. */
export const FailConfigSchema = z.strictObject({ message: z.string().min(1).optional() })
export type FailConfig = z.infer<typeof FailConfigSchema>

/**
 * The `fail` step: always ends `Failed` (a business-logic failure, not an error), with Kargo's message `failed` or
 * `failed: <message>`. Typically guarded by an `if`.
 */
export const fail: Step<FailConfig> = {
  kind: 'fail',
  config: FailConfigSchema,
  async run(_ctx: StepContext, cfg: FailConfig): Promise<StepResult> {
    return { status: 'Failed', message: cfg.message ? `failed: ${cfg.message}` : 'failed' }
  },
}
