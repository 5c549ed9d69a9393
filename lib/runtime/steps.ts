import { builtinSteps } from '../steps/registry.js'
import type { Step } from '../steps/types.js'
import { argoCDClientFor } from './argocd.js'
import type { RuntimeContext } from './context.js'

// Only the promote function loads the steps (and isomorphic-git, tar, …): this module is not imported by the others.
// Built once per runtime context (a Lambda container has one; tests and the local runtime may make several).
const stepsByContext = new WeakMap<RuntimeContext, ReadonlyMap<string, Step<unknown>>>()

/** The step registry for this runtime, with Argo CD clients from project credentials or the environment. */
export function promotionStepDeps(ctx: RuntimeContext): ReadonlyMap<string, Step<unknown>> {
  let steps = stepsByContext.get(ctx)
  if (!steps) {
    steps = builtinSteps({ argocd: { argocd: argoCDClientFor(ctx) } })
    stepsByContext.set(ctx, steps)
  }
  return steps
}
