import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { startTugboat } from '../support/tugboat.js'

/*
 * A Stage that requires an external test result (`tugboat.io/required-test-suites`) is not verified by health
 * alone: its Freight flows downstream only after CI reports `testsuiterun.finished` with outcome success for every
 * required suite, and a failure keeps it where it is.
 */

const manifests = (project: string, image: string) => `
apiVersion: kargo.akuity.io/v1alpha1
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
  interval: 1h
  subscriptions:
  - image: {repoURL: ${image}}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: test
  namespace: ${project}
  annotations:
    tugboat.io/required-test-suites: e2e, smoke
spec:
  requestedFreight: [{origin: {kind: Warehouse, name: app}, sources: {direct: true}}]
  promotionTemplate: {spec: {steps: [{uses: compose-output, as: release, config: {stage: "\${{ ctx.stage }}"}}]}}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: uat, namespace: ${project}}
spec:
  requestedFreight: [{origin: {kind: Warehouse, name: app}, sources: {stages: [test]}}]
  promotionTemplate: {spec: {steps: [{uses: compose-output, as: release, config: {stage: "\${{ ctx.stage }}"}}]}}
`

describe('a Stage that requires external test suites', () => {
  let registry: Registry
  let tugboat: Awaited<ReturnType<typeof startTugboat>>

  const stage = async (project: string, name: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/stages/${name}`)).body
  const promotions = async (project: string, name: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/promotions?stage=${name}`)).body
      .items as any[]
  const report = async (project: string, id: string, suite: string, outcome: string) => {
    const response = await fetch(`${tugboat.url}/v1beta1/projects/${project}/events`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tugboat.env.TUGBOAT_TOKEN}`,
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': '/ci/pipeline',
        'ce-type': 'dev.cdevents.testsuiterun.finished.0.3.0',
      },
      body: JSON.stringify({
        subject: {
          id,
          content: { environment: { id: `${project}/test` }, outcome, testSuite: { id: suite, name: suite } },
        },
      }),
    })
    expect(response.status, await response.clone().text()).toBe(202)
  }
  /** Applies the project, discovers, and waits until `test` holds the Freight. */
  async function promoteToTest(project: string) {
    await pushImage(registry, `${project}/app`, '1.0.0')
    const applied = await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true',
      manifests(project, `${registry.host}/${project}/app`),
      'application/yaml',
    )
    expect(applied.status, JSON.stringify(applied.body)).toBe(200)
    await tugboat.api('POST', `/v1beta1/projects/${project}/warehouses/app/refresh`)
    await tugboat.eventually('the Promotion to test', async () =>
      (await promotions(project, 'test'))[0]?.status?.phase === 'Succeeded' ? true : undefined,
    )
    await tugboat.reconcile()
  }

  beforeAll(async () => {
    registry = await startRegistry()
    tugboat = await startTugboat({})
  }, 120_000)

  afterAll(async () => {
    await tugboat?.stop()
    await registry?.close()
  })

  it('waits for every required suite, then verifies and lets the Freight flow', async () => {
    await promoteToTest('suites-pass')
    // Healthy (nothing to check) is not enough: verification waits for both suites.
    const waiting = await stage('suites-pass', 'test')
    expect(waiting.status.phase).toBe('Verifying')
    expect(waiting.status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Verified',
        status: 'Unknown',
        message: 'waiting for successful test suite result(s): e2e, smoke',
      }),
    )
    expect(await promotions('suites-pass', 'uat')).toEqual([])

    await report('suites-pass', 'run-1', 'e2e', 'success')
    await tugboat.reconcile()
    expect((await stage('suites-pass', 'test')).status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Verified',
        message: 'waiting for successful test suite result(s): smoke',
      }),
    )
    expect(await promotions('suites-pass', 'uat')).toEqual([])

    await report('suites-pass', 'run-2', 'smoke', 'success')
    await tugboat.reconcile()
    const verified = await stage('suites-pass', 'test')
    expect(verified.status.phase).toBe('Steady')
    expect(verified.status.freightHistory[0].testSuiteResults).toMatchObject([
      { id: 'run-2', suite: 'smoke', outcome: 'success' },
      { id: 'run-1', suite: 'e2e', outcome: 'success' },
    ])
    // Verified in test: auto-promotion takes it to uat.
    await tugboat.eventually('the Promotion to uat', async () =>
      (await promotions('suites-pass', 'uat'))[0]?.status?.phase === 'Succeeded' ? true : undefined,
    )
  })

  it('a failed suite fails verification and keeps the Freight from flowing downstream', async () => {
    await promoteToTest('suites-fail')
    await report('suites-fail', 'run-1', 'e2e', 'failure')
    // The other suite passing afterwards does not undo the failure.
    await report('suites-fail', 'run-2', 'smoke', 'success')
    await tugboat.reconcile()
    const failed = await stage('suites-fail', 'test')
    expect(failed.status.phase).toBe('Failed')
    expect(failed.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Verified', status: 'False', message: 'test suite e2e: failure' }),
    )
    const freight = (await tugboat.api<any>('GET', '/v1beta1/projects/suites-fail/freight')).body.groups['']
      .items[0]
    expect(freight.status?.verifiedIn?.test).toBeUndefined()
    await tugboat.reconcile()
    expect(await promotions('suites-fail', 'uat')).toEqual([])
  })
})
