import type { ArgoCDStepDeps } from '../argocd/provider.js'
import { argocdUpdateStep } from './argocd-update.js'
import { argocdWaitStep } from './argocd-wait.js'
import { gitClear } from './git-clear.js'
import { gitClone } from './git-clone.js'
import { gitCommit } from './git-commit.js'
import { gitPush } from './git-push.js'
import { kustomizeBuild } from './kustomize-build.js'
import { kustomizeSetImage } from './kustomize-set-image.js'
import { copyFiles } from './copy.js'
import { deleteFiles } from './delete.js'
import { fileWrite } from './file-write.js'
import { tarCreate } from './tar.js'
import { untar } from './untar.js'
import { yamlUpdate } from './yaml-update.js'
import { jsonUpdate } from './json-update.js'
import { tomlUpdate } from './toml-update.js'
import { yamlParse } from './yaml-parse.js'
import { jsonParse } from './json-parse.js'
import { tomlParse } from './toml-parse.js'
import { yamlMerge } from './yaml-merge.js'
import { composeOutput } from './compose-output.js'
import { fail } from './fail.js'
import { setFreightAlias } from './set-freight-alias.js'
import { setMetadata } from './set-metadata.js'
import { httpStep } from './http.js'
import { httpDownload } from './http-download.js'
import { ociPush } from './oci-push.js'
import { ociDownload } from './oci-download.js'
import { gitTag } from './git-tag.js'
import { helmUpdateChart } from './helm-update-chart.js'
import { helmTemplate } from './helm-template.js'
import { gitOpenPR } from './git-open-pr.js'
import { gitWaitForPR } from './git-wait-for-pr.js'
import { gitMergePR } from './git-merge-pr.js'
import { githubPush } from './github-push.js'
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
    copyFiles,
    deleteFiles,
    fileWrite,
    tarCreate,
    untar,
    yamlUpdate,
    jsonUpdate,
    tomlUpdate,
    yamlParse,
    jsonParse,
    tomlParse,
    yamlMerge,
    composeOutput,
    fail,
    setFreightAlias,
    setMetadata,
    httpStep,
    httpDownload,
    ociPush,
    ociDownload,
    gitTag,
    helmUpdateChart,
    helmTemplate,
    gitOpenPR,
    gitWaitForPR,
    gitMergePR,
    githubPush,
  ]
  return new Map(steps.map((s) => [s.kind, s as Step<unknown>]))
}
