import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeArgoCD, type FakeArgoCD } from '../fakes/argocd/server.js'
import { startFakeWebMetric, type FakeWebMetric } from '../fakes/metrics/web.js'
import { startGitServer, type GitServer } from '../support/git-server.js'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { startTugboat } from '../support/tugboat.js'
import { kargoDemoRepo } from './fixtures.js'

const ARGOCD_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0dWdib2F0In0.c2lnbmF0dXJl'

/**
 * A two-Stage pipeline per project in seed 002's template form (vars, `${{ ctx.stage }}`,
 * `desiredRevision: ${{ outputs.commit.commit }}`), with an optional AnalysisTemplate on the first Stage.
 */
function pipeline(
  project: string,
  gitURL: string,
  registryHost: string,
  options: { verificationURL?: string; authorized?: boolean } = {},
) {
  const image = `${registryHost}/vfarcic/silly-demo`
  const template = (stage: string) => `  promotionTemplate:
    spec:
      vars:
      - name: gitopsRepo
        value: ${gitURL}
      - name: imageRepo
        value: ${image}
      - name: srcPath
        value: ./src
      - name: outPath
        value: ./out
      - name: targetBranch
        value: ${project}/\${{ ctx.stage }}
      steps:
      - uses: git-clone
        config:
          repoURL: \${{ vars.gitopsRepo }}
          checkout:
          - branch: main
            path: \${{ vars.srcPath }}
          - branch: \${{ vars.targetBranch }}
            create: true
            path: \${{ vars.outPath }}
      - uses: git-clear
        config:
          path: \${{ vars.outPath }}
      - uses: kustomize-set-image
        as: update-image
        config:
          path: \${{ vars.srcPath }}/kustomize/base
          images:
          - image: \${{ vars.imageRepo }}
      - uses: kustomize-build
        config:
          path: \${{ vars.srcPath }}/kustomize/overlays/${stage === 'test' ? 'dev' : 'pre-prod'}
          outPath: \${{ vars.outPath }}/manifests.yaml
      - uses: git-commit
        as: commit
        config:
          path: \${{ vars.outPath }}
          messageFromSteps:
          - update-image
      - uses: git-push
        config:
          path: \${{ vars.outPath }}
          branch: \${{ vars.targetBranch }}
      - uses: argocd-update
        config:
          apps:
          - name: ${project}-\${{ ctx.stage }}
            sources:
            - repoURL: \${{ vars.gitopsRepo }}
              desiredRevision: \${{ outputs.commit.commit }}
`
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata: {name: ${project}}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: {name: ${project}, namespace: ${project}}
spec:
  promotionPolicies:
  - stageSelector: {name: "glob:*"}
    autoPromotionEnabled: true
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: ${project}}
spec:
  subscriptions:
  - image: {repoURL: ${image}, constraint: ^1.0.0}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: test, namespace: ${project}}
spec:
  requestedFreight:
  - origin: {kind: Warehouse, name: app}
    sources: {direct: true}
${template('test')}${
    options.verificationURL
      ? `  verification:
    analysisTemplates:
    - name: smoke
    args:
    - name: stage
      value: \${{ ctx.stage }}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: smoke, namespace: ${project}}
spec:
  args:
  - name: stage
  metrics:
  - name: smoke
    provider:
      web:
        url: ${options.verificationURL}/{{args.stage}}
        jsonPath: "{$.status}"
    successCondition: result == "ok"
`
      : ''
  }---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: uat, namespace: ${project}}
spec:
  requestedFreight:
  - origin: {kind: Warehouse, name: app}
    sources: {stages: [test]}
${template('uat')}`
}

describe('Argo CD health and verification gate the flow of Freight', () => {
  let registry: Registry
  let git: GitServer
  let argocd: FakeArgoCD
  let metrics: FakeWebMetric
  let tugboat: Awaited<ReturnType<typeof startTugboat>>
  let gitURL: string

  const apps = (project: string, authorized = true) =>
    ['test', 'uat'].map((stage) => ({
      name: `${project}-${stage}`,
      annotations: (authorized
        ? { 'kargo.akuity.io/authorized-stage': `${project}:${stage}` }
        : {}) as Record<string, string>,
      source: { repoURL: gitURL, targetRevision: `${project}/${stage}`, path: '.' },
    }))
  const stage = async (project: string, name: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/stages/${name}`)).body
  const promotions = async (project: string, name: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/promotions?stage=${name}`)).body
      .items as any[]
  const finished = (list: any[]) =>
    ['Succeeded', 'Failed', 'Errored'].includes(list[0]?.status?.phase) ? list[0] : undefined
  /** Applies a project, discovers, and waits for the first Stage's Promotion to finish. */
  async function start(project: string, manifests: string) {
    const applied = await tugboat.api('PUT', '/v1beta1/resources?upsert=true', manifests, 'application/yaml')
    expect(applied.status, JSON.stringify(applied.body)).toBe(200)
    await tugboat.api('POST', `/v1beta1/projects/${project}/warehouses/app/refresh`)
    return tugboat.eventually(
      `${project}/test promotion`,
      async () => finished(await promotions(project, 'test')),
      90_000,
    )
  }
  /** Runs reconcile until `probe` holds. */
  const reconcileUntil = <T>(what: string, probe: () => Promise<T | undefined>) =>
    tugboat.eventually(
      what,
      async () => {
        await tugboat.reconcile()
        return probe()
      },
      60_000,
    )

  beforeAll(async () => {
    registry = await startRegistry()
    await pushImage(registry, 'vfarcic/silly-demo', '1.0.0')
    git = await startGitServer()
    gitURL = await git.createRepo('kargo-demo', kargoDemoRepo(registry.host))
    metrics = await startFakeWebMetric()
    argocd = await startFakeArgoCD({
      token: ARGOCD_TOKEN,
      apps: [
        ...apps('passing'),
        ...apps('failing'),
        ...apps('degraded'),
        ...apps('unauthorized', false),
        ...apps('override'),
      ],
    })
    tugboat = await startTugboat({ ARGOCD_SERVER: argocd.url, ARGOCD_AUTH_TOKEN: ARGOCD_TOKEN })
  }, 120_000)

  afterAll(async () => {
    await tugboat?.stop()
    await Promise.all([argocd?.close(), metrics?.close(), git?.close(), registry?.close()])
  })

  it('runs the seed 002 template as written, verifies via a passing web metric, and auto-promotes onward', async () => {
    metrics.respond('/test', { json: { status: 'ok' } })
    const first = await start(
      'passing',
      pipeline('passing', gitURL, registry.host, { verificationURL: metrics.url }),
    )
    expect(first.status.phase).toBe('Succeeded')
    expect(await git.readFile('kargo-demo', 'passing/test', 'manifests.yaml')).toContain('silly-demo:1.0.0')
    const [commit] = await git.log('kargo-demo', 'passing/test')
    expect(argocd.app('passing-test')?.status.sync.revision).toBe(commit!.sha)
    const verified = await reconcileUntil('test verified', async () => {
      const s = await stage('passing', 'test')
      return s.status.freightHistory?.[0]?.verificationHistory?.[0]?.phase === 'Successful' ? s : undefined
    })
    expect(verified.status.health.status).toBe('Healthy')
    expect(metrics.requests.map((r) => r.path)).toContain('/test')
    const next = await reconcileUntil('uat promotion', async () =>
      finished(await promotions('passing', 'uat')),
    )
    expect(next.status.phase).toBe('Succeeded')
    const verification = (await tugboat.api<any>('GET', '/v1beta1/projects/passing/stages/test/verification'))
      .body
    expect(verification.runs[0].status.phase).toBe('Successful')
    expect(JSON.stringify(verification)).not.toContain('"spec"')
  })

  it('keeps Freight from flowing when the web metric fails', async () => {
    metrics.respond('/test', { json: { status: 'broken' } })
    await start('failing', pipeline('failing', gitURL, registry.host, { verificationURL: metrics.url }))
    const failed = await reconcileUntil('verification failed', async () => {
      const s = await stage('failing', 'test')
      return s.status.freightHistory?.[0]?.verificationHistory?.[0]?.phase === 'Failed' ? s : undefined
    })
    expect(failed.status.phase).toBe('Failed')
    await tugboat.reconcile()
    expect(await promotions('failing', 'uat')).toEqual([])
    const freight = (await tugboat.api<any>('GET', '/v1beta1/projects/failing/freight')).body.groups['']
      .items[0]
    expect(freight.status.verifiedIn ?? {}).toEqual({})
    const refused = await tugboat.api<any>('POST', '/v1beta1/projects/failing/stages/uat/promotions', {
      freight: freight.metadata.name,
    })
    expect(refused.status).toBe(400)
    expect(refused.body.message).toContain('not verified in "test"')
    // A manual approval lets it through, as in Kargo.
    expect(
      (await tugboat.api('POST', `/v1beta1/projects/failing/freight/${freight.alias}/approve?stage=uat`))
        .status,
    ).toBe(200)
    expect(
      (
        await tugboat.api('POST', '/v1beta1/projects/failing/stages/uat/promotions', {
          freight: freight.metadata.name,
        })
      ).status,
    ).toBe(201)
  })

  it('marks the Stage Unhealthy when its app goes Degraded, and does not verify the Freight', async () => {
    argocd.setHealth('degraded-test', 'Degraded', { message: 'CrashLoopBackOff' })
    await start('degraded', pipeline('degraded', gitURL, registry.host))
    const unhealthy = await reconcileUntil('Unhealthy', async () => {
      const s = await stage('degraded', 'test')
      return s.status.health?.status === 'Unhealthy' ? s : undefined
    })
    expect(unhealthy.status.health.issues.join()).toContain('degraded-test')
    expect(unhealthy.status.conditions.find((c: any) => c.type === 'Healthy')).toMatchObject({
      status: 'False',
      reason: 'Unhealthy',
    })
    const freight = (await tugboat.api<any>('GET', '/v1beta1/projects/degraded/freight')).body.groups['']
      .items[0]
    expect(freight.status.verifiedIn ?? {}).toEqual({})
    expect(await promotions('degraded', 'uat')).toEqual([])
  })

  it('fails argocd-update with a clear message when the app is not authorised for the Stage, changing nothing', async () => {
    const before = structuredClone(argocd.app('unauthorized-test'))
    const promotion = await start('unauthorized', pipeline('unauthorized', gitURL, registry.host))
    expect(promotion.status.phase).toBe('Errored')
    expect(promotion.status.message).toMatch(/kargo\.akuity\.io\/authorized-stage/)
    expect(promotion.status.message).toContain('unauthorized:test')
    expect(argocd.app('unauthorized-test')?.spec).toEqual(before?.spec)
  })

  it("uses a project's own argocd credential over the deployment's Argo CD settings", async () => {
    const secret = `apiVersion: v1
kind: Secret
metadata:
  name: argocd
  namespace: override
  labels: {kargo.akuity.io/cred-type: argocd}
stringData:
  server: ${argocd.url}
  token: not.a-valid.token
`
    const manifests = pipeline('override', gitURL, registry.host)
    const applied = await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      `${manifests}---\n${secret}`,
      'application/yaml',
    )
    expect(applied.status).toBe(200)
    await tugboat.api('POST', '/v1beta1/projects/override/warehouses/app/refresh')
    const promotion = await tugboat.eventually(
      'override promotion',
      async () => finished(await promotions('override', 'test')),
      90_000,
    )
    expect(promotion.status.phase).toBe('Errored')
    expect(promotion.status.message).toMatch(/401/)
    expect(promotion.status.message).not.toContain('not.a-valid.token')
  })
})
