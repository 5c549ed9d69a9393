import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type {
  FreightCollection,
  RepoCredentials,
  Step,
  StepContext,
  StepResult,
} from '../../../lib/steps/types.js'

/** Runs steps one after another in one workspace, as the engine does: outputs by alias, `state` handed back. */
export interface StepHarness {
  workDir: string
  outputs: Record<string, Record<string, unknown>>
  /** Saved `state` of Running steps, by alias. */
  states: Record<string, Record<string, unknown>>
  logs: string[]
  run<C>(step: Step<C>, config: unknown, alias?: string): Promise<StepResult>
  /** Removes the workspace. */
  cleanup(): void
}

export interface StepHarnessOptions {
  /** Credentials for every git URL (or per URL). */
  creds?: RepoCredentials | ((repoURL: string) => RepoCredentials | undefined)
  promotion?: string
  freight?: FreightCollection
}

/** A {@link StepHarness} with a fresh temporary workspace. */
export function stepHarness(opts: StepHarnessOptions = {}): StepHarness {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitprovider-steps-'))
  const outputs: Record<string, Record<string, unknown>> = {}
  const states: Record<string, Record<string, unknown>> = {}
  const logs: string[] = []
  let n = 0
  return {
    workDir,
    outputs,
    states,
    logs,
    async run(step, config, alias) {
      const as = alias ?? `step-${++n}`
      const saved = states[as]
      const ctx: StepContext = {
        project: 'kargo-demo',
        stage: 'dev',
        promotion: opts.promotion ?? 'dev.01j2w7a15cxjjgejresfyw6ysp.666209f',
        workDir,
        alias: as,
        freight: opts.freight ?? { items: {} },
        outputs,
        ...(saved ? { state: saved } : {}),
        credentials: async (_type, repoURL) =>
          typeof opts.creds === 'function' ? opts.creds(repoURL) : opts.creds,
        log: (line) => logs.push(`${as}: ${line}`),
        startedAt: new Date('2025-01-01T00:00:00Z'),
      }
      const result = await step.run(ctx, step.config.parse(config))
      if (result.status === 'Running') states[as] = result.state ?? {}
      else delete states[as]
      if (result.status === 'Succeeded' && result.output) outputs[as] = result.output
      return result
    },
    cleanup() {
      fs.rmSync(workDir, { recursive: true, force: true })
    },
  }
}
