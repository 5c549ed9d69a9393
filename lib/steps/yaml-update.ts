import fs from 'node:fs'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { readTextFile } from '../files/fs-utils.js'
import { setYamlValues, yamlUpdateCommitMessage } from '../files/yaml-lines.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Any JSON value, but present (`value: null` is allowed, a missing `value` is not). */
const RequiredValue = z.custom<unknown>((v) => v !== undefined, { message: 'value is required' })

const YamlUpdateSchema = z.strictObject({ key: z.string().min(1), value: RequiredValue })

/** Mirrors `yaml-update-config.json`. */
export const YamlUpdateConfigSchema = z.strictObject({
  path: z.string().min(1),
  updates: z.array(YamlUpdateSchema).min(1),
})
export type YamlUpdateConfig = z.infer<typeof YamlUpdateConfigSchema>

/**
 * The `yaml-update` step (KARGO-SEMANTICS §14): sets existing scalar values of a YAML file by dotted key
 * (`image.tag`, `app.containers.0.image`, `a\.b` for a key with a dot) as a line edit: comments, order and formatting
 * survive, except the rest of an edited line after the value. Strings that look like numbers, booleans or JSON are
 * written Go-quoted (`"42"`, `"true"`). A missing key, or one holding a map or list, is an error; nothing is created.
 * Output: `commitMessage`, `Updated <path>` then one `- key: value` line per update.
 */
export const yamlUpdate: Step<YamlUpdateConfig> = {
  kind: 'yaml-update',
  config: YamlUpdateConfigSchema,
  async run(ctx: StepContext, cfg: YamlUpdateConfig): Promise<StepResult> {
    const file = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    const updates = cfg.updates.map((u) => ({ key: u.key, value: u.value }))
    let updated: string
    try {
      updated = setYamlValues(readTextFile(file, cfg.path), updates)
    } catch (error) {
      if (!(error instanceof TerminalError)) throw error
      throw new TerminalError(
        `values file update failed: error updating values file ${JSON.stringify(cfg.path)}: ${error.message}`,
        {
          cause: error,
        },
      )
    }
    fs.writeFileSync(file, updated)
    ctx.log(`updated ${updates.length} value(s) in ${cfg.path}`)
    return { status: 'Succeeded', output: { commitMessage: yamlUpdateCommitMessage(cfg.path, updates) } }
  },
}
