import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { readTextFile } from '../files/fs-utils.js'
import { ParseOutputSchema, evaluateOutputs } from '../files/parse-outputs.js'
import { parseToml } from '../files/toml.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `toml-parse-config.json`. */
export const TomlParseConfigSchema = z.strictObject({
  path: z.string().min(1),
  outputs: z.array(ParseOutputSchema).min(1),
})
export type TomlParseConfig = z.infer<typeof TomlParseConfigSchema>

/**
 * The `toml-parse` step: reads a TOML file and sets one output per `outputs` entry, the value of `fromExpression`
 * evaluated with the document as the environment (`fromExpression: package.version`). Dates and times become
 * RFC 3339 strings. An empty file, invalid TOML or a failing expression is an error.
 */
export const tomlParse: Step<TomlParseConfig> = {
  kind: 'toml-parse',
  config: TomlParseConfigSchema,
  async run(ctx: StepContext, cfg: TomlParseConfig): Promise<StepResult> {
    const file = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    const text = readTextFile(file, cfg.path, 'TOML file')
    if (text.length === 0)
      throw new TerminalError(`could not parse empty TOML file: ${JSON.stringify(cfg.path)}`)
    let document: Record<string, unknown>
    try {
      document = parseToml(text)
    } catch (error) {
      throw new TerminalError(`could not parse TOML file: ${(error as Error).message}`, { cause: error })
    }
    return { status: 'Succeeded', output: evaluateOutputs(document, cfg.outputs) }
  },
}
