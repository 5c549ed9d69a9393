import { parseAllDocuments } from 'yaml'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { readTextFile } from '../files/fs-utils.js'
import { ParseOutputSchema, evaluateOutputs } from '../files/parse-outputs.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `yaml-parse-config.json`. */
export const YamlParseConfigSchema = z.strictObject({
  path: z.string().min(1),
  outputs: z.array(ParseOutputSchema).min(1),
})
export type YamlParseConfig = z.infer<typeof YamlParseConfigSchema>

/**
 * The `yaml-parse` step: reads a YAML file (its first document; anchors and `<<` merge keys resolved) and sets one
 * output per `outputs` entry, the value of `fromExpression` evaluated with the document as the environment
 * (`fromExpression: image.tag`). An empty file, invalid YAML or a failing expression is an error.
 */
export const yamlParse: Step<YamlParseConfig> = {
  kind: 'yaml-parse',
  config: YamlParseConfigSchema,
  async run(ctx: StepContext, cfg: YamlParseConfig): Promise<StepResult> {
    const file = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    const text = readTextFile(file, cfg.path, 'YAML file')
    if (text.length === 0)
      throw new TerminalError(`could not parse empty YAML file: ${JSON.stringify(cfg.path)}`)
    return { status: 'Succeeded', output: evaluateOutputs(parseYamlDocument(text), cfg.outputs) }
  },
}

/** The first document of a YAML text as plain data (YAML 1.2 core schema, as yaml.v3 decodes into `any`). */
export function parseYamlDocument(text: string): unknown {
  const docs = parseAllDocuments(text, { schema: 'core', merge: true })
  const doc = Array.isArray(docs) ? docs[0] : undefined
  if (!doc) return null
  const problem = doc.errors[0]
  if (problem) throw new TerminalError(`could not parse YAML file: ${problem.message}`)
  try {
    return doc.toJS({ maxAliasCount: 1000 })
  } catch (error) {
    throw new TerminalError(`could not parse YAML file: ${(error as Error).message}`, { cause: error })
  }
}
