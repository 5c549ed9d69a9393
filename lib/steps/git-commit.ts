import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { commitTree, openRepo, readHead, moveHead, writeCommit } from '../git/repo.js'
import { snapshotWorkTree } from '../git/worktree.js'
import type { Step, StepContext, StepResult } from './types.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'

/*
 * `git-commit`: stages everything in the working tree (`git add -A`) and commits it. When nothing changed it makes no
 * commit and, like Kargo, reports `Skipped` with the current HEAD as `commit`. The legacy `messageFromSteps` builds the
 * message from the `commitMessage` outputs of the named steps, as Kargo v1.0 did.
 */

const AuthorSchema = z.strictObject({
  name: z.string().min(1),
  email: z.string().email(),
  signingKey: z.string().optional(),
})

/** Mirrors `git-commit-config.json`, plus the legacy `messageFromSteps` (one of `message`/`messageFromSteps` is required). */
export const GitCommitConfigSchema = z
  .strictObject({
    path: z.string().min(1),
    message: z.string().min(1).optional(),
    messageFromSteps: z.array(z.string().min(1)).min(1).optional(),
    author: AuthorSchema.optional(),
  })
  .refine((c) => c.message !== undefined || c.messageFromSteps !== undefined, {
    message: 'message is required',
    path: ['message'],
  })
export type GitCommitConfig = z.infer<typeof GitCommitConfigSchema>

/** The `git-commit` step. Output: `{ commit }`, the SHA of HEAD after the step. */
export const gitCommit: Step<GitCommitConfig> = {
  kind: 'git-commit',
  config: GitCommitConfigSchema,
  run: runGitCommit,
}

async function runGitCommit(ctx: StepContext, cfg: GitCommitConfig): Promise<StepResult> {
  if (cfg.author?.signingKey)
    throw new TerminalError('commit signing (author.signingKey) is not supported by Tugboat yet')
  const dir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
  const repo = await openRepo(dir, cfg.path, ctx.workDir)
  const head = await readHead(repo.dir)
  const snapshot = await snapshotWorkTree(repo.dir, repo.store, commitTree(repo, head.oid), {
    sparse: repo.sparse,
    scope: repo.scope,
  })
  if (!snapshot.changed) {
    ctx.log(`nothing to commit in ${cfg.path}`)
    return { status: 'Skipped', message: 'nothing to commit', output: { commit: head.oid } }
  }
  const message = buildMessage(cfg, ctx.outputs)
  const oid = await writeCommit(repo, {
    tree: repo.store.writeFlat(snapshot.tree),
    parents: [head.oid],
    message,
    author: cfg.author ? { name: cfg.author.name, email: cfg.author.email } : repo.user,
    committer: repo.user,
    // The Promotion's start time, not now: a commit replayed after a crash gets the same SHA, so the push
    // that follows finds it already there instead of adding a duplicate.
    ...(ctx.startedAt ? { timestamp: Math.floor(ctx.startedAt.getTime() / 1000) } : {}),
  })
  await moveHead(repo, head, oid)
  ctx.log(`committed ${oid.slice(0, 7)} in ${cfg.path}`)
  return { status: 'Succeeded', output: { commit: oid } }
}

/** The commit message: `message`, else the `commitMessage` outputs of `messageFromSteps` combined as Kargo v1.0 did. */
export function buildMessage(cfg: GitCommitConfig, outputs: Record<string, Record<string, unknown>>): string {
  if (cfg.message !== undefined) return cfg.message
  const parts: string[] = []
  for (const alias of cfg.messageFromSteps ?? []) {
    const output = outputs[alias]
    if (output === undefined || !('commitMessage' in output)) continue
    const part = output.commitMessage
    if (typeof part !== 'string') {
      throw new TerminalError(`commit message in output from step with alias "${alias}" is not a string`)
    }
    parts.push(part)
  }
  if (parts.length === 0) return 'Kargo made some changes'
  if (parts.length === 1) return parts[0] ?? ''
  return `Kargo applied multiple changes\n\nIncluding:\n${parts.map((p) => `\n  * ${p}`).join('')}`
}
