import { z } from 'zod'
import { TerminalError, messageOf } from '../errors.js'
import { compileExpression } from '../expressions/index.js'

/** One `{ name, fromExpression }` entry of a `*-parse` step. */
export const ParseOutputSchema = z.strictObject({
  name: z.string().min(1),
  fromExpression: z.string().min(1),
})
export type ParseOutput = z.infer<typeof ParseOutputSchema>

/**
 * Evaluates each `fromExpression` (a bare expr-lang expression, no `${{ }}`) with the parsed document as the whole
 * environment, as Kargo's `yaml-parse` / `json-parse` / `toml-parse` do: `image.tag` reads the document's
 * `image.tag`. A document that is not a map (a list, a scalar) gives an empty environment.
 */
export function evaluateOutputs(document: unknown, outputs: readonly ParseOutput[]): Record<string, unknown> {
  const env: Record<string, unknown> =
    typeof document === 'object' && document !== null && !Array.isArray(document) ? { ...document } : {}
  const results: Record<string, unknown> = {}
  for (const output of outputs) {
    let value: unknown
    try {
      value = compileExpression(output.fromExpression)(env)
    } catch (error) {
      throw new TerminalError(
        `failed to extract outputs: error evaluating expression ${JSON.stringify(output.fromExpression)}: ${messageOf(error)}`,
        { cause: error },
      )
    }
    results[output.name] = value
  }
  return results
}
