import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { KargoActions, StepContext } from '../steps/types.js'

/** For step tests: a fresh temporary workspace. */
export function makeWorkDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`))
}

/** For step tests: a StepContext on `workDir` with no Freight, outputs or credentials. */
export function makeStepContext(workDir: string, overrides: Partial<StepContext> = {}): StepContext {
  return {
    project: 'demo',
    stage: 'dev',
    promotion: 'dev.01hx.abc',
    workDir,
    alias: 'step-1',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
    ...overrides,
  }
}

/** For step tests: writes files (relative path → contents) into `root`, creating directories. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, contents] of Object.entries(files)) {
    const abs = path.join(root, rel)
    fs.mkdirSync(path.dirname(abs), { recursive: true })
    fs.writeFileSync(abs, contents)
  }
}

/** For step tests: a `kargo` that records its calls (and fails when `fail` says so). */
export function recordingKargo(
  fail?: (call: unknown[]) => Error | undefined,
): KargoActions & { calls: unknown[][] } {
  const calls: unknown[][] = []
  const record = async (...call: unknown[]): Promise<void> => {
    calls.push(call)
    const error = fail?.(call)
    if (error) throw error
  }
  return {
    calls,
    setFreightAlias: (freight, alias) => record('setFreightAlias', freight, alias),
    setMetadata: (target, values) => record('setMetadata', target, values),
  }
}
