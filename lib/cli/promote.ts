import type { ApiClient } from './client.js'

/** Exit codes of `tugboat promote --wait` by final phase (documented in the README). */
export const PHASE_EXIT = { Succeeded: 0, Failed: 4, Errored: 5, Aborted: 6, timeout: 7 } as const

type Promotion = {
  metadata: { name: string }
  spec: { stage: string; freight: string; steps: Array<{ as?: string; uses?: string }> }
  status?: {
    phase?: string
    message?: string
    currentStep?: number
    stepExecutionMetadata?: Array<{ alias: string; status: string; message?: string }>
  }
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Errored', 'Aborted'])

/**
 * Polls a Promotion until it finishes, printing each step as it changes state. Returns the final Promotion,
 * or undefined when `timeoutMs` passed first.
 */
export async function waitForPromotion(
  api: ApiClient,
  project: string,
  name: string,
  options: { timeoutMs: number; pollMs?: number; progress?: (line: string) => void },
): Promise<Promotion | undefined> {
  const deadline = Date.now() + options.timeoutMs
  const seen = new Map<string, string>()
  for (;;) {
    const promotion = await api.get<Promotion>(
      `/v1beta1/projects/${encodeURIComponent(project)}/promotions/${encodeURIComponent(name)}`,
    )
    const steps = promotion.status?.stepExecutionMetadata ?? []
    for (const [i, step] of steps.entries()) {
      if (step.status === 'Pending' || seen.get(step.alias) === step.status) continue
      seen.set(step.alias, step.status)
      const uses = promotion.spec.steps[i]?.uses ?? ''
      options.progress?.(
        `  [${i + 1}/${promotion.spec.steps.length}] ${step.alias}${uses && uses !== step.alias ? ` (${uses})` : ''}: ${step.status}${step.message && step.status !== 'Succeeded' ? ` — ${step.message}` : ''}`,
      )
    }
    if (TERMINAL.has(promotion.status?.phase ?? '')) return promotion
    if (Date.now() > deadline) return undefined
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000))
  }
}
