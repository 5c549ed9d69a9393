import { z } from 'zod'
import { TerminalError, UpstreamError, messageOf } from '../errors.js'
import type { ProviderOverrides } from '../gitprovider/provider.js'
import {
  PollIntervalSchema,
  pollIntervalMs,
  pullRequestConfigFields,
  pullRequestOfStep,
  requireOnePRNumber,
} from '../gitprovider/step-support.js'
import type { MergeOutcome } from '../gitprovider/types.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `git-merge-pr`: merges a pull request synchronously, once per call, as Kargo does. An already merged PR is a
 * success (so a replay after a crash is too); a closed one, a conflict or a refused merge fails the step. When the PR
 * is not mergeable yet (checks pending, review missing, draft) the step fails, or with `wait: true` answers Running
 * and tries again after `pollInterval` (default 10 s). Output: `{ commit }`, the merge commit on the target branch.
 */

/** Mirrors `git-merge-pr-config.json`, plus the legacy `prNumberFromStep`. */
export const GitMergePRConfigSchema = z
  .strictObject({
    ...pullRequestConfigFields,
    wait: z.boolean().optional(),
    pollInterval: PollIntervalSchema.optional(),
    mergeMethod: z.string().min(1).optional(),
  })
  .superRefine(requireOnePRNumber)
export type GitMergePRConfig = z.infer<typeof GitMergePRConfigSchema>

/** Kargo's suggested interval between merge attempts with `wait: true`. */
export const DEFAULT_MERGE_POLL_INTERVAL_MS = 10_000

/** Builds the `git-merge-pr` step (tests and deployments may override the provider API root or fetch). */
export function createGitMergePR(overrides: ProviderOverrides = {}): Step<GitMergePRConfig> {
  return {
    kind: 'git-merge-pr',
    config: GitMergePRConfigSchema,
    requires: ['credentials'],
    // Kargo sets no default timeout: with `wait`, the merge is re-attempted until it succeeds.
    defaultTimeoutMs: Number.POSITIVE_INFINITY,
    run: (ctx, cfg) => runMerge(ctx, cfg, overrides),
  }
}

/** The `git-merge-pr` step. */
export const gitMergePR: Step<GitMergePRConfig> = createGitMergePR()

async function runMerge(
  ctx: StepContext,
  cfg: GitMergePRConfig,
  overrides: ProviderOverrides,
): Promise<StepResult> {
  const { number, provider } = await pullRequestOfStep(ctx, cfg, overrides)
  const retry = (message: string): StepResult => ({
    status: 'Running',
    message,
    retryAfterMs: pollIntervalMs(cfg.pollInterval, DEFAULT_MERGE_POLL_INTERVAL_MS),
    state: { prNumber: number },
  })
  let outcome: MergeOutcome
  try {
    outcome = await provider.mergePullRequest(number, cfg.mergeMethod ? { mergeMethod: cfg.mergeMethod } : {})
  } catch (error) {
    if (error instanceof TerminalError) {
      return { status: 'Failed', message: `error merging pull request #${number}: ${error.message}` }
    }
    // Merging is idempotent (an already merged PR is a success), so a provider hiccup can be waited out.
    if (cfg.wait && error instanceof UpstreamError)
      return retry(`merging pull request #${number}: ${messageOf(error)}`)
    throw error
  }
  if (!outcome.merged) {
    if (cfg.wait) return retry(`pull request #${number} is not ready to merge: ${outcome.reason}`)
    return {
      status: 'Failed',
      message: `pull request #${number} is not ready to merge and wait is disabled: ${outcome.reason}`,
    }
  }
  const commit = outcome.pr.mergeCommitSHA
  if (!commit) {
    throw new UpstreamError(`pull request #${number} was merged but the provider reports no merge commit yet`)
  }
  ctx.log(`merged pull request #${number} as ${commit.slice(0, 7)}`)
  return { status: 'Succeeded', message: `pull request #${number} was merged`, output: { commit } }
}
