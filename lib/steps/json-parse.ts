import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { readTextFile } from '../files/fs-utils.js'
import { ParseOutputSchema, evaluateOutputs } from '../files/parse-outputs.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `json-parse-config.json`. */
export const JsonParseConfigSchema = z.strictObject({
  path: z.string().min(1),
  outputs: z.array(ParseOutputSchema).min(1),
})
export type JsonParseConfig = z.infer<typeof JsonParseConfigSchema>

/**
 * The `json-parse` step: reads a JSON file and sets one output per `outputs` entry, the value of `fromExpression`
 * evaluated with the document as the environment (`fromExpression: dependencies.react`). Invalid JSON or a failing
 * expression is an error.
 */
export const jsonParse: Step<JsonParseConfig> = {
  kind: 'json-parse',
  config: JsonParseConfigSchema,
  async run(ctx: StepContext, cfg: JsonParseConfig): Promise<StepResult> {
    const file = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    const text = readTextFile(file, cfg.path, 'JSON file')
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch (error) {
      throw new TerminalError(`could not parse JSON file: ${(error as Error).message}`, { cause: error })
    }
    return { status: 'Succeeded', output: evaluateOutputs(document, cfg.outputs) }
  },
}
