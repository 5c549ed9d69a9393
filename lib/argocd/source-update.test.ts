import { describe, expect, it } from 'vitest'
import { authorizationProblem, parseAuthorizedStages } from './application.js'
import { ApplicationSchema, type Application } from './schemas.js'
import { buildDesiredSources, desiredRevisionsFor, kustomizeImage, normalizeGitURL } from './source-update.js'

function app(spec: Record<string, unknown>, annotations?: Record<string, string>): Application {
  return ApplicationSchema.parse({
    metadata: { name: 'a', namespace: 'argocd', ...(annotations ? { annotations } : {}) },
    spec,
  })
}

describe('normalizeGitURL', () => {
  it.each([
    ['https://GitHub.com/Org/Repo.git/', 'https://github.com/org/repo'],
    ['https://user:pw@github.com/org/repo', 'https://github.com/org/repo'],
    ['git@github.com:org/repo.git', 'ssh://git@github.com/org/repo'],
    ['ssh://git@github.com/org/repo.git', 'ssh://git@github.com/org/repo'],
    ['https://github.com/org/repo?x=1', 'https://github.com/org/repo?x=1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeGitURL(input)).toBe(expected)
  })
})

describe('authorized-stage annotation', () => {
  it.each([
    ['kargo-demo:test', true],
    [' other:prod , kargo-demo:test ', true],
    ['kargo-demo:prod', false],
    ['kargo-demo:*', false],
    ['', false],
  ])('%j allows kargo-demo:test → %s', (value, allowed) => {
    expect(
      authorizationProblem(app({}, { 'kargo.akuity.io/authorized-stage': value }), 'kargo-demo', 'test') ===
        undefined,
    ).toBe(allowed)
  })

  it('explains a missing annotation', () => {
    expect(authorizationProblem(app({}), 'kargo-demo', 'test')).toBe(
      'Argo CD app "argocd/a" does not permit updates by Stage "test" of project "kargo-demo": it has no ' +
        '"kargo.akuity.io/authorized-stage" annotation (add "kargo-demo:test" to allow it)',
    )
  })

  it('refuses malformed entries', () => {
    expect(() => parseAuthorizedStages('nocolon')).toThrow(/expected "<project>:<stage>"/)
    expect(() => parseAuthorizedStages('p:')).toThrow()
    expect(() => parseAuthorizedStages(' , ')).toThrow(/no authorized Stages/)
  })
})

describe('source updates', () => {
  const multi = app({
    sources: [
      {
        repoURL: 'https://charts.example.com',
        chart: 'app',
        targetRevision: '1.0.0',
        helm: {
          parameters: [
            { name: 'keep', value: '1' },
            { name: 'image.tag', value: 'old' },
          ],
        },
      },
      {
        repoURL: 'https://github.com/org/gitops.git',
        targetRevision: 'main',
        kustomize: { images: ['old:1'], namePrefix: 'x-' },
      },
    ],
  })

  it('aligns desired revisions with sources by exact repoURL and chart', () => {
    expect(
      desiredRevisionsFor(multi, [
        { repoURL: 'https://charts.example.com', chart: 'app', desiredRevision: '1.2.0' },
        { repoURL: 'https://github.com/org/gitops', desiredRevision: 'abc' },
      ]),
    ).toEqual(['1.2.0', ''])
  })

  it('applies targetRevision, helm upserts and kustomize replacement to the first matching source', () => {
    const updates = [
      {
        repoURL: 'https://charts.example.com',
        chart: 'app',
        desiredRevision: '1.2.0',
        updateTargetRevision: true,
        helm: {
          images: [
            { key: 'image.tag', value: 'v2' },
            { key: 'new', value: 'n' },
          ],
        },
      },
      {
        repoURL: 'https://GITHUB.com/org/gitops',
        kustomize: {
          images: [
            { repoURL: 'ghcr.io/org/app', digest: 'sha256:1', tag: '' },
            { repoURL: 'nginx', newName: 'mirror/nginx', tag: '1.27' },
          ],
        },
      },
    ]
    const sources = buildDesiredSources(multi, updates, desiredRevisionsFor(multi, updates))
    expect(sources[0]).toMatchObject({
      targetRevision: '1.2.0',
      helm: {
        parameters: [
          { name: 'keep', value: '1' },
          { name: 'image.tag', value: 'v2' },
          { name: 'new', value: 'n' },
        ],
      },
    })
    expect(sources[1]).toMatchObject({
      targetRevision: 'main',
      kustomize: { images: ['ghcr.io/org/app@sha256:1', 'nginx=mirror/nginx:1.27'], namePrefix: 'x-' },
    })
    // The app read from Argo CD is left untouched.
    expect(multi.spec.sources?.[0]?.targetRevision).toBe('1.0.0')
  })

  it('fails when an update matches no source', () => {
    expect(() =>
      buildDesiredSources(multi, [{ repoURL: 'https://charts.example.com', chart: 'other' }], ['', '']),
    ).toThrow(
      'no source of Argo CD app "argocd/a" matches repoURL "https://charts.example.com" and chart "other"',
    )
  })

  it('renders kustomize images', () => {
    expect(kustomizeImage({ repoURL: 'r', tag: 't' })).toBe('r:t')
    expect(kustomizeImage({ repoURL: 'r', digest: 'sha256:d', tag: 't' })).toBe('r@sha256:d')
  })
})
