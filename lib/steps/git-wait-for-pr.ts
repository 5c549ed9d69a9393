import { z } from 'zod'
import { UpstreamError, messageOf } from '../errors.js'
import type { ProviderOverrides } from '../gitprovider/provider.js'
import {
  PollIntervalSchema,
  pollIntervalMs,
  pullRequestConfigFields,
  pullRequestOfStep,
  requireOnePRNumber,
} from '../gitprovider/step-support.js'
import type { PullRequest } from '../gitprovider/types.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `git-wait-for-pr`: waits, without sleeping, until a pull request is merged (Succeeded, with the merge commit as
 * `commit`) or closed without merging (Failed). While it is open the step answers Running and is called again after
 * `pollInterval` (default 30 s, at least 10 s). As in Kargo there is no default time limit; a step's
 * `retry.timeout` sets one. A provider that is down or rate-limiting is waited out rather than failing the wait.
 * Output: `{ pr: { id, url, open, merged }, commit? }`.
 */

/** Mirrors `git-wait-for-pr-config.json`, plus the legacy `prNumberFromStep` (a step whose output has `pr.id`). */
export const GitWaitForPRConfigSchema = z
  .strictObject({
    ...pullRequestConfigFields,
    pollInterval: PollIntervalSchema.optional(),
  })
  .superRefine(requireOnePRNumber)
export type GitWaitForPRConfig = z.infer<typeof GitWaitForPRConfigSchema>

/** Kargo's suggested poll interval while the pull request is open. */
export const DEFAULT_WAIT_POLL_INTERVAL_MS = 30_000

/** Builds the `git-wait-for-pr` step (tests and deployments may override the provider API root or fetch). */
export function createGitWaitForPR(overrides: ProviderOverrides = {}): Step<GitWaitForPRConfig> {
  return {
    kind: 'git-wait-for-pr',
    config: GitWaitForPRConfigSchema,
    requires: ['credentials'],
    // Kargo sets no default timeout: a pull request may wait for review for days.
    defaultTimeoutMs: Number.POSITIVE_INFINITY,
    run: (ctx, cfg) => runWait(ctx, cfg, overrides),
  }
}

/** The `git-wait-for-pr` step. */
export const gitWaitForPR: Step<GitWaitForPRConfig> = createGitWaitForPR()

async function runWait(
  ctx: StepContext,
  cfg: GitWaitForPRConfig,
  overrides: ProviderOverrides,
): Promise<StepResult> {
  const { number, provider } = await pullRequestOfStep(ctx, cfg, overrides)
  const retryAfterMs = pollIntervalMs(cfg.pollInterval, DEFAULT_WAIT_POLL_INTERVAL_MS)
  let pr: PullRequest
  try {
    pr = await provider.getPullRequest(number)
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error
    return {
      status: 'Running',
      message: `waiting for pull request #${number}: ${messageOf(error)}`,
      retryAfterMs,
      state: { prNumber: number },
    }
  }
  const output: Record<string, unknown> = {
    pr: { id: pr.number, url: pr.url, open: pr.open, merged: pr.merged },
    ...(pr.mergeCommitSHA ? { commit: pr.mergeCommitSHA } : {}),
  }
  if (pr.open) {
    return {
      status: 'Running',
      message: `pull request #${number} is open; waiting for it to be merged or closed`,
      retryAfterMs,
      state: { prNumber: number },
      output,
    }
  }
  if (!pr.merged) {
    return { status: 'Failed', message: `pull request #${number} was closed without being merged`, output }
  }
  return { status: 'Succeeded', message: `pull request #${number} was merged`, output }
}
