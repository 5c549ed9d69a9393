import fs from 'node:fs'
import git from 'isomorphic-git'
import { z } from 'zod'
import { TerminalError, UpstreamError } from '../errors.js'
import { lookupGitAuth } from '../git/auth.js'
import { commitURL } from '../git/commit-url.js'
import { integrateRemote, kargoBackoff, pushCommit, waitBeforeRetry } from '../git/push.js'
import { redactURL } from '../git/redact.js'
import { openRepo, pushRef, readHead, remoteFor, type LocalRepo } from '../git/repo.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `git-push`: pushes HEAD to a branch (or pushes a tag). Before every attempt it integrates the remote branch as
 * Kargo's default `AlwaysRebase` policy does (our local commits are replayed on top of the remote head, see
 * lib/git/integrate.ts), and when the push is refused because someone pushed in between it tries again, up to
 * `maxAttempts` times with Kargo's backoff (1 s × 1.5ⁿ, jittered, capped at 30 s). A remote that already holds our
 * changes (a push that succeeded before a crash) is a success without a new push.
 * Output: `{ commit, branch, commitURL? }`.
 */

/** Mirrors `git-push-config.json`, plus the legacy `branch` (the old name of `targetBranch`). */
export const GitPushConfigSchema = z
  .strictObject({
    path: z.string().min(1),
    targetBranch: z.string().nullish(),
    branch: z.string().min(1).optional(),
    generateTargetBranch: z.boolean().nullish(),
    tag: z.string().nullish(),
    force: z.boolean().nullish(),
    maxAttempts: z.number().int().min(1).max(2147483647).optional(),
    provider: z.enum(['azure', 'bitbucket', 'gitea', 'github', 'gitlab']).optional(),
  })
  .transform((c) => ({
    path: c.path,
    targetBranch: c.targetBranch || c.branch || undefined,
    generateTargetBranch: c.generateTargetBranch ?? false,
    tag: c.tag || undefined,
    force: c.force ?? false,
    maxAttempts: c.maxAttempts ?? 10,
    provider: c.provider,
  }))
  .superRefine((c, ctx) => {
    const targets = [c.generateTargetBranch, c.targetBranch !== undefined, c.tag !== undefined].filter(
      Boolean,
    ).length
    if (targets > 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'generateTargetBranch, targetBranch and tag are mutually exclusive',
      })
    }
    if (c.tag !== undefined && c.force)
      ctx.addIssue({ code: 'custom', message: 'tag and force are mutually exclusive' })
  })
export type GitPushConfig = z.infer<typeof GitPushConfigSchema>

export interface GitPushOptions {
  /** Delay before attempt `attempt + 1` (attempt starts at 1). Default: Kargo's backoff. */
  retryDelayMs?: (attempt: number) => number
}

/** Builds the `git-push` step (tests shorten the backoff). */
export function createGitPush(opts: GitPushOptions = {}): Step<GitPushConfig> {
  const delay = opts.retryDelayMs ?? kargoBackoff
  return {
    kind: 'git-push',
    config: GitPushConfigSchema,
    requires: ['git', 'credentials'],
    defaultTimeoutMs: 5 * 60_000,
    run: (ctx, cfg) => runGitPush(ctx, cfg, delay),
  }
}

/** The `git-push` step. */
export const gitPush: Step<GitPushConfig> = createGitPush()

// Refusals that mean "the branch moved under us": worth integrating again and retrying.
const RACE =
  /non-fast-forward|not-fast-forward|fetch first|failed to update ref|cannot lock ref|stale info|incorrect old value/i

async function runGitPush(
  ctx: StepContext,
  cfg: GitPushConfig,
  delay: (attempt: number) => number,
): Promise<StepResult> {
  const dir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
  const repo = await openRepo(dir, cfg.path, ctx.workDir)
  if (!repo.url) throw new TerminalError(`${cfg.path} has no remote "origin"`)
  const auth = await lookupGitAuth(ctx.credentials, repo.url)
  const remote = remoteFor(repo.url, auth, repo.insecureSkipTLSVerify)
  const head = await readHead(repo.dir)

  if (cfg.tag !== undefined) {
    const ref = `refs/tags/${cfg.tag}`
    try {
      await git.resolveRef({ fs, dir: repo.dir, ref })
    } catch {
      throw new TerminalError(`tag "${cfg.tag}" does not exist in ${cfg.path}`)
    }
    const pushed = await pushRef(repo.dir, remote, ref, ref)
    if (!pushed.ok)
      throw new TerminalError(
        `pushing tag "${cfg.tag}" to ${redactURL(repo.url)} was refused: ${pushed.rejected}`,
      )
    return succeeded(repo, head.oid, head.branch, cfg)
  }

  let target = cfg.targetBranch
  let force = cfg.force
  if (cfg.generateTargetBranch) {
    target = `kargo/promotion/${ctx.promotion}`
    // The branch is unique to this Promotion, so if it exists we pushed it on an earlier attempt: overwrite it.
    force = true
  }
  if (target === undefined) {
    if (!head.branch) throw new TerminalError(`${cfg.path} is not on a branch; set targetBranch`)
    target = head.branch
  }
  const remoteRef = `refs/heads/${target}`

  if (force) {
    const pushed = await pushCommit(repo, remote, head.oid, remoteRef, true)
    if (!pushed.ok) throw new TerminalError(`force-pushing to ${target} was refused: ${pushed.rejected}`)
    return succeeded(repo, head.oid, target, cfg)
  }

  let current = head
  for (let attempt = 1; ; attempt++) {
    const result = await integrateRemote(repo, remote, current, target)
    current = result.head
    if (
      result.kind === 'up-to-date' ||
      result.kind === 'already-applied' ||
      (result.kind === 'fast-forward' && result.remoteHasIt)
    ) {
      ctx.log(`${target} already holds ${current.oid.slice(0, 7)}; nothing to push`)
      return succeeded(repo, current.oid, target, cfg)
    }
    const pushed = await pushCommit(repo, remote, current.oid, remoteRef, false)
    if (pushed.ok) {
      ctx.log(`pushed ${current.oid.slice(0, 7)} to ${target}`)
      return succeeded(repo, current.oid, target, cfg)
    }
    const reason = pushed.rejected ?? 'rejected'
    if (!RACE.test(reason))
      throw new TerminalError(`pushing to ${target} of ${redactURL(repo.url)} was refused: ${reason}`)
    if (attempt >= cfg.maxAttempts) {
      throw new UpstreamError(`pushing to ${target} failed after ${attempt} attempts: ${reason}`, {
        data: { attempts: attempt },
      })
    }
    ctx.log(`${target} moved while pushing (attempt ${attempt}); integrating and retrying`)
    await waitBeforeRetry(delay(attempt), ctx.signal, 'git-push')
  }
}

function succeeded(
  repo: LocalRepo,
  commit: string,
  branch: string | undefined,
  cfg: GitPushConfig,
): StepResult {
  const output: Record<string, unknown> = { commit }
  if (branch) output.branch = branch
  const url = commitURL(repo.url, commit, cfg.provider)
  if (url) output.commitURL = url
  return { status: 'Succeeded', output }
}
