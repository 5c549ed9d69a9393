import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { errnoCode, fsReason } from '../files/fs-utils.js'
import { mergeYamlFiles, type YamlMergeInput } from '../files/yaml-merge.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `yaml-merge-config.json`. */
export const YamlMergeConfigSchema = z.strictObject({
  inFiles: z.array(z.string()).min(1),
  outFile: z.string().min(1),
  ignoreMissingFiles: z.boolean().default(false),
})
export type YamlMergeConfig = z.infer<typeof YamlMergeConfigSchema>

/**
 * The `yaml-merge` step (Kargo's, kyaml `merge2`): merges `inFiles` in order into `outFile` (created or replaced),
 * later files winning: maps merge key by key, lists and scalars are replaced whole, `null` removes a key. Empty inputs
 * are skipped; a missing input is an error unless `ignoreMissingFiles`. Output: `commitMessage`, `Wrote <in> to <out>`
 * for one input, `Merged <n> YAML files to <out>` and a `- <in>` line each for several (none when no input existed).
 */
export const yamlMerge: Step<YamlMergeConfig> = {
  kind: 'yaml-merge',
  config: YamlMergeConfigSchema,
  async run(ctx: StepContext, cfg: YamlMergeConfig): Promise<StepResult> {
    const inputs: YamlMergeInput[] = []
    const used: string[] = []
    for (const rel of cfg.inFiles) {
      const abs = resolveInWorkspaceReal(ctx.workDir, rel, 'inFiles')
      let text: string
      try {
        text = fs.readFileSync(abs, 'utf8')
      } catch (error) {
        if (errnoCode(error) === 'ENOENT' && cfg.ignoreMissingFiles) continue
        const reason = errnoCode(error) === 'ENOENT' ? 'not found' : fsReason(error)
        throw new TerminalError(`input file ${JSON.stringify(rel)} ${reason}`, { cause: error })
      }
      inputs.push({ name: rel, text })
      used.push(rel)
    }
    const outFile = resolveInWorkspaceReal(ctx.workDir, cfg.outFile, 'outFile')
    let merged: string
    try {
      merged = mergeYamlFiles(inputs)
    } catch (error) {
      if (!(error instanceof TerminalError)) throw error
      throw new TerminalError(`error merging YAML files: ${error.message}`, { cause: error })
    }
    fs.mkdirSync(path.dirname(outFile), { recursive: true, mode: 0o700 })
    fs.writeFileSync(outFile, merged, { mode: 0o600 })
    ctx.log(`merged ${used.length} file(s) into ${cfg.outFile}`)
    const commitMessage = yamlMergeCommitMessage(used, cfg.outFile)
    return { status: 'Succeeded', ...(commitMessage ? { output: { commitMessage } } : {}) }
  },
}

/** Kargo's yaml-merge commit message. */
export function yamlMergeCommitMessage(inFiles: readonly string[], outFile: string): string {
  if (inFiles.length === 0) return ''
  if (inFiles.length === 1) return `Wrote ${inFiles[0]} to ${outFile}`
  return `Merged ${inFiles.length} YAML files to ${outFile}${inFiles.map((f) => `\n- ${f}`).join('')}`
}
