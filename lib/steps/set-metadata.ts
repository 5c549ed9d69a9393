import { z } from 'zod'
import { TerminalError, isTerminal, messageOf } from '../errors.js'
import type { Step, StepContext, StepResult } from './types.js'

const MetadataUpdateSchema = z.strictObject({
  kind: z.enum(['Stage', 'Freight']),
  name: z.string().min(1),
  values: z
    .record(z.string(), z.unknown())
    .refine((v) => Object.keys(v).length > 0, { message: 'must have at least 1 property' }),
})

/** Mirrors `set-metadata-config.json`. */
export const SetMetadataConfigSchema = z.strictObject({ updates: z.array(MetadataUpdateSchema).min(1) })
export type SetMetadataConfig = z.infer<typeof SetMetadataConfigSchema>

/**
 * The `set-metadata` step: merges each update's `values` into the named Stage's or Freight's metadata (read later with
 * `stageMetadata()` / `freightMetadata()`), in order. A failed update stops the step with an error (retryable).
 */
export const setMetadata: Step<SetMetadataConfig> = {
  kind: 'set-metadata',
  config: SetMetadataConfigSchema,
  async run(ctx: StepContext, cfg: SetMetadataConfig): Promise<StepResult> {
    const kargo = ctx.kargo
    if (!kargo)
      throw new TerminalError(
        'set-metadata needs access to Kargo resources, which this runner does not provide',
      )
    for (const update of cfg.updates) {
      try {
        await kargo.setMetadata({ kind: update.kind, name: update.name }, update.values)
      } catch (error) {
        if (isTerminal(error)) throw error
        throw new Error(
          `error updating metadata for ${update.kind} "${update.name}" in project "${ctx.project}": ${messageOf(error)}`,
          { cause: error },
        )
      }
    }
    return { status: 'Succeeded' }
  },
}
