import { z } from 'zod'
import { TerminalError, messageOf } from '../errors.js'
import { parseDuration } from '../promotion/durations.js'
import type { StepContext } from '../steps/types.js'

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
