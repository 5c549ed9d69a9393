import type { ArgoCDStepDeps } from '../argocd/provider.js'
import { argocdUpdateStep } from './argocd-update.js'
import { argocdWaitStep } from './argocd-wait.js'
import { gitClear } from './git-clear.js'
import { gitClone } from './git-clone.js'
import { gitCommit } from './git-commit.js'
import { gitPush } from './git-push.js'
import { kustomizeBuild } from './kustomize-build.js'
import { kustomizeSetImage } from './kustomize-set-image.js'
import type { Step } from './types.js'

/** What steps that need outside systems are built with. */
export interface StepDeps {
  argocd: ArgoCDStepDeps
}

/** Every built-in step Tugboat runs, by `uses:` name. `kinds.ts` lists the same names for light imports. */
export function builtinSteps(deps: StepDeps): ReadonlyMap<string, Step<unknown>> {
  // Step<C> is invariant in C (config parses to C, run takes C), so the list is of steps of any config.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const steps: Array<Step<any>> = [
    gitClone,
    gitClear,
    kustomizeSetImage,
    kustomizeBuild,
    gitCommit,
    gitPush,
    argocdUpdateStep(deps.argocd),
    argocdWaitStep(deps.argocd),
  ]
  return new Map(steps.map((s) => [s.kind, s as Step<unknown>]))
}
