import { z } from 'zod'
import { TerminalError, messageOf } from '../errors.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `set-freight-alias-config.json`. */
export const SetFreightAliasConfigSchema = z.strictObject({
  name: z.string().min(1),
  alias: z.string().min(1),
})
export type SetFreightAliasConfig = z.infer<typeof SetFreightAliasConfigSchema>

/**
 * The `set-freight-alias` step: gives the named Freight of the project a new alias (unique in the project). A Freight
 * that cannot be found or an alias already taken makes the step `Failed`, as in Kargo.
 */
export const setFreightAlias: Step<SetFreightAliasConfig> = {
  kind: 'set-freight-alias',
  config: SetFreightAliasConfigSchema,
  async run(ctx: StepContext, cfg: SetFreightAliasConfig): Promise<StepResult> {
    if (!ctx.kargo)
      throw new TerminalError(
        'set-freight-alias needs access to Kargo resources, which this runner does not provide',
      )
    try {
      await ctx.kargo.setFreightAlias(cfg.name, cfg.alias)
    } catch (error) {
      return {
        status: 'Failed',
        message: `failed to patch alias for Freight "${cfg.name}" in project "${ctx.project}": ${messageOf(error)}`,
      }
    }
    return { status: 'Succeeded', message: `updated alias of Freight "${cfg.name}" to "${cfg.alias}"` }
  },
}
