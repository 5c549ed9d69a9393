import type { Step, StepContext, StepResult } from '../../../lib/steps/types.js'
import type { ManualClock } from './clock.js'

/** A StepContext for tests; `log` lines are collected in `logs`. */
export function stepContext(overrides: Partial<StepContext> = {}): StepContext & { logs: string[] } {
  const logs: string[] = []
  return {
    project: 'kargo-demo',
    stage: 'test',
    promotion: 'test.01hx.abc123',
    workDir: '/nonexistent',
    alias: 'step-1',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: (message) => logs.push(message),
    logs,
    ...overrides,
  }
}

/**
 * Calls a step the way the engine does: again and again while it answers Running, handing back its `state` and
 * waiting its `retryAfterMs`: on `clock` when given (no real waiting), else for real, capped by `maxWaitMs`.
 * Returns every result, the last one final.
 */
export async function drive<C>(
  step: Step<C>,
  ctx: StepContext,
  config: C,
  options: {
    clock?: ManualClock
    maxCalls?: number
    maxWaitMs?: number
    between?: (call: number, result: StepResult) => void | Promise<void>
  } = {},
): Promise<StepResult[]> {
  const results: StepResult[] = []
  let state = ctx.state
  for (let call = 0; call < (options.maxCalls ?? 200); call++) {
    const result = await step.run({ ...ctx, ...(state ? { state } : {}) }, config)
    results.push(result)
    if (result.status !== 'Running') return results
    state = result.state
    await options.between?.(call, result)
    if (options.clock) options.clock.advance(Math.max(result.retryAfterMs ?? 0, 1))
    else await new Promise((r) => setTimeout(r, Math.min(result.retryAfterMs ?? 0, options.maxWaitMs ?? 50)))
  }
  return results
}
