import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { parseManifests } from './manifests.js'
import { defaultSemanticChecks } from './semantic-checks.js'

const warehouse = (subscription: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
  namespace: demo
spec:
  subscriptions:
  - ${subscription}
`

function problemsOf(text: string, options = {}): string[] {
  try {
    parseManifests(text, { semanticChecks: defaultSemanticChecks, ...options })
  } catch (error) {
    if (error instanceof ValidationError)
      return (error.data.problems as string[] | undefined) ?? [error.message]
    throw error
  }
  return []
}

describe('parseManifests', () => {
  it.each([
    [
      'a misspelt field',
      warehouse('image:\n      repoURL: ghcr.io/x/app\n      discoverLimit: 5'),
      'spec.subscriptions[0].image.discoverLimit: unknown field "discoverLimit"',
    ],
    [
      'a wrong type',
      warehouse('image:\n      repoURL: ghcr.io/x/app\n      discoveryLimit: five'),
      'spec.subscriptions[0].image.discoveryLimit',
    ],
    [
      'an out-of-range value',
      warehouse('image:\n      repoURL: ghcr.io/x/app\n      discoveryLimit: 500'),
      'spec.subscriptions[0].image.discoveryLimit',
    ],
    [
      'an invalid semver constraint',
      warehouse('image:\n      repoURL: ghcr.io/x/app\n      constraint: bogus'),
      'spec.subscriptions[0].image.constraint',
    ],
    [
      'a misspelt spec field',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: s, namespace: demo}\nspec:\n  requestedFreigt: []\n',
      'spec.requestedFreigt: unknown field',
    ],
    [
      'an unknown kind',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehous\nmetadata: {name: x}\n',
      'unknown kind "Warehous"',
    ],
    [
      'a Promotion (system-made)',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Promotion\nmetadata: {name: x}\n',
      'created by Tugboat',
    ],
    [
      'a wrong apiVersion',
      'apiVersion: kargo.akuity.io/v1\nkind: Project\nmetadata: {name: x}\n',
      'apiVersion: must be "kargo.akuity.io/v1alpha1"',
    ],
    [
      'a bad name',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Project\nmetadata: {name: Bad_Name}\n',
      'metadata.name: must be lowercase',
    ],
    [
      'a missing namespace',
      warehouse('image: {repoURL: ghcr.io/x/app}').replace('  namespace: demo\n', ''),
      'metadata.namespace is required',
    ],
    [
      'an unknown step',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: s, namespace: demo}\nspec:\n  requestedFreight: [{origin: {kind: Warehouse, name: w}, sources: {direct: true}}]\n  promotionTemplate:\n    spec:\n      steps:\n      - uses: git-klone\n',
      'unknown step "git-klone"',
    ],
    [
      'a bad step config field',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: s, namespace: demo}\nspec:\n  requestedFreight: [{origin: {kind: Warehouse, name: w}, sources: {direct: true}}]\n  promotionTemplate:\n    spec:\n      steps:\n      - uses: git-clear\n        as: clear\n        config: {pth: ./out}\n',
      'steps[0] (clear).config.pth: unknown field',
    ],
    [
      'conflicting push targets',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: s, namespace: demo}\nspec:\n  requestedFreight: [{origin: {kind: Warehouse, name: w}, sources: {direct: true}}]\n  promotionTemplate:\n    spec:\n      steps:\n      - uses: git-push\n        as: push\n        config: {path: ./out, targetBranch: main, generateTargetBranch: true}\n',
      'steps[0] (push).config.generateTargetBranch: conflicts with targetBranch; set only one of them',
    ],
    [
      'conflicting github-push targets',
      'apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: s, namespace: demo}\nspec:\n  requestedFreight: [{origin: {kind: Warehouse, name: w}, sources: {direct: true}}]\n  promotionTemplate:\n    spec:\n      steps:\n      - uses: github-push\n        as: push\n        config: {path: ./out, targetBranch: main, generateTargetBranch: true}\n',
      'steps[0] (push).config.generateTargetBranch: conflicts with targetBranch',
    ],
    [
      'a secret without cred-type',
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: demo, labels: {}}\nstringData: {password: x}\n',
      'kargo.akuity.io/cred-type',
    ],
    [
      'an unsupported metric provider',
      'apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t, namespace: demo}\nspec:\n  metrics:\n  - name: test\n    provider:\n      job: {}\n',
      '"job" is not supported by Tugboat; supported providers: web, prometheus',
    ],
  ])('rejects %s, naming the field and the reason', (_name, text, expected) => {
    const problems = problemsOf(text)
    expect(problems.join('\n')).toContain(expected)
  })

  it('reports broken YAML with its line and column', () => {
    expect(() => parseManifests('apiVersion: v1\nkind: [Project\nmetadata: {}\n')).toThrow(
      /invalid YAML at line \d+, column \d+/,
    )
  })

  it('puts documents without a namespace into the default project, and ignores status', () => {
    const [doc] = parseManifests(
      warehouse('image: {repoURL: ghcr.io/x/app}').replace('  namespace: demo\n', '') +
        'status:\n  lastFreightID: x\n',
      {
        defaultProject: 'other',
      },
    )
    expect(doc?.project).toBe('other')
    expect(doc?.manifest).not.toHaveProperty('status')
  })

  it('applies Kargo defaults', () => {
    const [doc] = parseManifests(warehouse('image: {repoURL: ghcr.io/x/app}'))
    if (doc?.kind !== 'Warehouse') throw new Error('expected a Warehouse')
    expect(doc.manifest.spec.interval).toBe('5m0s')
    expect(doc.manifest.spec.freightCreationPolicy).toBe('Automatic')
  })

  it('accepts step configs whose fields are expressions, checking the rest', () => {
    const stage = (config: string) =>
      `apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: s, namespace: demo}\nspec:\n  requestedFreight: [{origin: {kind: Warehouse, name: w}, sources: {direct: true}}]\n  promotionTemplate:\n    spec:\n      steps:\n      - uses: git-push\n        config: ${config}\n`
    expect(
      problemsOf(stage('{path: ./out, targetBranch: "${{ vars.branch }}", maxAttempts: "${{ vars.n }}"}')),
    ).toEqual([])
    expect(problemsOf(stage('{path: ./out, targetBranch: main, maxAttempts: 0}')).join()).toContain(
      'maxAttempts',
    )
  })
})
