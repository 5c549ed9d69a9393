import { z } from 'zod'
import { openRepo } from '../git/repo.js'
import { clearWorkTree } from '../git/worktree.js'
import type { Step, StepContext, StepResult } from './types.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'

/** Mirrors `git-clear-config.json`. */
export const GitClearConfigSchema = z.strictObject({ path: z.string().min(1) })
export type GitClearConfig = z.infer<typeof GitClearConfigSchema>

/**
 * The `git-clear` step: removes every file and directory of a working tree (or of the named directory inside one)
 * except `.git`, so the next commit replaces the branch's content (the rendered-branch pattern). The index is left
 * alone; `git-commit` stages the deletions.
 */
export const gitClear: Step<GitClearConfig> = {
  kind: 'git-clear',
  config: GitClearConfigSchema,
  async run(ctx: StepContext, cfg: GitClearConfig): Promise<StepResult> {
    const dir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
    await openRepo(dir, cfg.path, ctx.workDir)
    const removed = clearWorkTree(dir)
    ctx.log(`cleared ${removed} entries from ${cfg.path}`)
    return { status: 'Succeeded' }
  },
}
