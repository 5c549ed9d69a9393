import { z } from 'zod'
import { TerminalError, messageOf } from '../errors.js'
import { parseDuration } from '../promotion/durations.js'
import type { StepContext } from '../steps/types.js'
import { gitProviderFor, type ProviderOverrides, type ProviderStepConfig } from './provider.js'
import { GitProviderNameSchema, type GitProvider } from './types.js'

/** The config fields of every pull request step: the repository, and on which provider it is. */
export const repositoryConfigFields = {
  repoURL: z.string().min(1),
  provider: GitProviderNameSchema.optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
}

/** {@link repositoryConfigFields} plus the pull request: `prNumber`, or the legacy `prNumberFromStep`. */
export const pullRequestConfigFields = {
  ...repositoryConfigFields,
  prNumber: z.number().int().min(1).optional(),
  prNumberFromStep: z.string().min(1).optional(),
}

/** Kargo's lower bound on a pull request step's poll interval. */
export const MIN_POLL_INTERVAL_MS = 10_000

/** A Go duration string (`30s`, `2m`); parsed by {@link pollIntervalMs}. */
export const PollIntervalSchema = z.string().superRefine((text, ctx) => {
  try {
    parseDuration(text, 'pollInterval')
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: messageOf(error) })
  }
})

/** The configured poll interval (or `fallbackMs`), never below Kargo's 10 s floor. */
export function pollIntervalMs(configured: string | undefined, fallbackMs: number): number {
  const ms = configured ? parseDuration(configured, 'pollInterval') : fallbackMs
  return Math.max(ms, MIN_POLL_INTERVAL_MS)
}

const PRNumberOutputSchema = z.union([
  z.object({ pr: z.object({ id: z.number().int().positive() }) }).transform((o) => o.pr.id),
  z.object({ prNumber: z.number().int().positive() }).transform((o) => o.prNumber),
])

/**
 * The pull request number in the output of step `alias` (`pr.id`, or `prNumber` of old Kargo versions): the legacy
 * `prNumberFromStep`. A TerminalError when there is none.
 */
export function prNumberFromStep(ctx: StepContext, alias: string): number {
  const output = ctx.outputs[alias]
  if (!output)
    throw new TerminalError(`no output found from step "${alias}"`, { data: { field: 'prNumberFromStep' } })
  const parsed = PRNumberOutputSchema.safeParse(output)
  if (!parsed.success) {
    throw new TerminalError(`the output of step "${alias}" has no pull request number (pr.id)`, {
      data: { field: 'prNumberFromStep' },
    })
  }
  return parsed.data
}

/** The `branch` in the output of step `alias`: the legacy `sourceBranchFromStep`. A TerminalError when there is none. */
export function branchFromStep(ctx: StepContext, alias: string): string {
  const output = ctx.outputs[alias]
  if (!output) {
    throw new TerminalError(`no output found from step "${alias}"`, {
      data: { field: 'sourceBranchFromStep' },
    })
  }
  const parsed = z.object({ branch: z.string().min(1) }).safeParse(output)
  if (!parsed.success) {
    throw new TerminalError(`the output of step "${alias}" has no branch`, {
      data: { field: 'sourceBranchFromStep' },
    })
  }
  return parsed.data.branch
}

/** `prNumber`, or else the legacy `prNumberFromStep`: exactly one of them. */
export function requireOnePRNumber(
  cfg: { prNumber?: number | undefined; prNumberFromStep?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((cfg.prNumber === undefined) === (cfg.prNumberFromStep === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'exactly one of prNumber and prNumberFromStep is required' })
  }
}

/**
 * The pull request a step's config names (`prNumber`, or the output of `prNumberFromStep`) and a client for its
 * repository. A TerminalError when the number cannot be found or the provider is not supported.
 */
export async function pullRequestOfStep(
  ctx: StepContext,
  cfg: { prNumber?: number | undefined; prNumberFromStep?: string | undefined } & ProviderStepConfig,
  overrides: ProviderOverrides,
): Promise<{ number: number; provider: GitProvider }> {
  const number = cfg.prNumber ?? prNumberFromStep(ctx, cfg.prNumberFromStep ?? '')
  return { number, provider: await gitProviderFor(ctx, cfg, overrides) }
}
