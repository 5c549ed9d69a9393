import fs from 'node:fs'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { goQuote } from '../expressions/go-strconv.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { readTextFile } from '../files/fs-utils.js'
import { goFormatV } from '../files/go-format.js'
import { setJsonValue } from '../files/json-edit.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Any JSON value, but present. */
const RequiredValue = z.custom<unknown>((v) => v !== undefined, { message: 'value is required' })

const JsonUpdateSchema = z.strictObject({ key: z.string().min(1), value: RequiredValue })

/** Mirrors `json-update-config.json`. */
export const JsonUpdateConfigSchema = z.strictObject({
  path: z.string().min(1),
  updates: z.array(JsonUpdateSchema).min(1),
})
export type JsonUpdateConfig = z.infer<typeof JsonUpdateConfigSchema>

/**
 * The `json-update` step (Kargo's, built on tidwall/sjson): sets values of a JSON file by sjson path (`a.b`,
 * `items.0.name`, `a\.b` for a key with a dot, `:0` for an object key that looks like an index, `-1` to append).
 * Existing values are replaced in place, keeping the rest of the file byte for byte; missing keys are created as sjson
 * does. Values must be strings, numbers or booleans. Output: `commitMessage`, `Updated <path>` then `- key: value`
 * lines (strings Go-quoted).
 */
export const jsonUpdate: Step<JsonUpdateConfig> = {
  kind: 'json-update',
  config: JsonUpdateConfigSchema,
  async run(ctx: StepContext, cfg: JsonUpdateConfig): Promise<StepResult> {
    const file = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    let text = readTextFile(file, cfg.path, 'JSON file')
    for (const update of cfg.updates) {
      const value = update.value
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new TerminalError(
          `JSON file update failed: value for key ${goQuote(update.key)} is not a scalar type`,
        )
      }
      try {
        text = setJsonValue(text, update.key, value)
      } catch (error) {
        if (!(error instanceof TerminalError)) throw error
        throw new TerminalError(
          `JSON file update failed: error setting key ${goQuote(update.key)} in JSON file: ${error.message}`,
          { cause: error },
        )
      }
    }
    fs.writeFileSync(file, text)
    ctx.log(`updated ${cfg.updates.length} value(s) in ${cfg.path}`)
    return { status: 'Succeeded', output: { commitMessage: jsonUpdateCommitMessage(cfg.path, cfg.updates) } }
  },
}

/** Kargo's json-update commit message: strings `%q`-quoted, other values as `%v` prints them. */
export function jsonUpdateCommitMessage(
  path: string,
  updates: ReadonlyArray<{ key: string; value: unknown }>,
): string {
  const lines = updates.map(
    (u) => `\n- ${u.key}: ${typeof u.value === 'string' ? goQuote(u.value) : goFormatV(u.value)}`,
  )
  return `Updated ${path}\n${lines.join('')}`
}
