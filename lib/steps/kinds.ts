/** The step kinds Tugboat runs today (kept light so the API bundle need not load the steps themselves). */
export const implementedStepKinds = [
  'git-clone',
  'git-clear',
  'kustomize-set-image',
  'kustomize-build',
  'git-commit',
  'git-push',
  'argocd-update',
  'argocd-wait',
] as const
