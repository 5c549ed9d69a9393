import fs from 'node:fs'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { readTextFile } from '../files/fs-utils.js'
import { setTomlValues, tomlUpdateCommitMessage } from '../files/toml.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Any JSON value, but present. */
const RequiredValue = z.custom<unknown>((v) => v !== undefined, { message: 'value is required' })

const TomlUpdateSchema = z.strictObject({ key: z.string().min(1), value: RequiredValue })

/** Mirrors `toml-update-config.json`. */
export const TomlUpdateConfigSchema = z.strictObject({
  path: z.string().min(1),
  updates: z.array(TomlUpdateSchema).min(1),
})
export type TomlUpdateConfig = z.infer<typeof TomlUpdateConfigSchema>

/**
 * The `toml-update` step (Kargo's `pkg/toml`): sets existing scalar values of a TOML file by dotted key
 * (`package.version`, `servers.0.port` for the first `[[servers]]`, `a\.b`). Only the value's token is replaced, so
 * comments, spacing and key order survive. Values are written as go-toml does: strings as literal strings (`'1.2.3'`),
 * numbers as floats (`100` becomes `100.0`, since a step config's numbers are float64 in Kargo), booleans bare. A
 * missing key, or one holding a table or array, is an error. Output: `commitMessage`, `Updated <path>` then
 * `- key: value` lines in TOML syntax.
 */
export const tomlUpdate: Step<TomlUpdateConfig> = {
  kind: 'toml-update',
  config: TomlUpdateConfigSchema,
  async run(ctx: StepContext, cfg: TomlUpdateConfig): Promise<StepResult> {
    const file = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    const updates = cfg.updates.map((u) => ({ key: u.key, value: u.value }))
    let updated: string
    try {
      updated = setTomlValues(readTextFile(file, cfg.path), updates)
    } catch (error) {
      if (!(error instanceof TerminalError)) throw error
      throw new TerminalError(
        `TOML file update failed: error updating TOML file ${JSON.stringify(cfg.path)}: ${error.message}`,
        {
          cause: error,
        },
      )
    }
    fs.writeFileSync(file, updated)
    ctx.log(`updated ${updates.length} value(s) in ${cfg.path}`)
    return { status: 'Succeeded', output: { commitMessage: tomlUpdateCommitMessage(cfg.path, updates) } }
  },
}
