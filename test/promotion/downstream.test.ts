import { describe, expect, it } from 'vitest'
import type { Actor } from '../../lib/auth/actor.js'
import { ValidationError } from '../../lib/errors.js'
import { parseManifests } from '../../lib/model/manifests.js'
import { promoteDownstream } from '../../lib/promotion/create.js'
import { applyManifests } from '../../lib/resources/apply.js'
import { createFreight } from '../../lib/store/freight.js'
import { listPromotions } from '../../lib/store/promotions.js'
import { updateResource } from '../../lib/store/resources.js'
import { sealer } from '../../lib/store/sealing.js'
import { freshDb } from '../support/stack.js'

const admin: Actor = { name: 'tester', role: 'system-admin' }
const stage = (name: string, sources: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: ${name}, namespace: demo}
spec:
  requestedFreight: [{origin: {kind: Warehouse, name: app}, sources: ${sources}}]
  promotionTemplate: {spec: {steps: [{uses: git-clear, config: {path: ./out}}]}}
`

describe('promote downstream (Kargo: all or nothing)', () => {
  it('creates nothing when the Freight is unavailable to any downstream Stage, and one Promotion each otherwise', async () => {
    const db = await freshDb()
    const manifests = `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata: {name: demo}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: demo}
spec: {subscriptions: [{image: {repoURL: example.com/app}}]}
${stage('test', '{direct: true}')}${stage('uat-a', '{stages: [test]}')}${stage('uat-b', '{stages: [test], requiredSoakTime: 1h}')}`
    await applyManifests(
      { db, sealer: sealer(Buffer.alloc(32).toString('base64')) },
      parseManifests(manifests),
      'upsert',
    )
    const { freight } = await createFreight(db, {
      project: 'demo',
      name: 'a'.repeat(40),
      alias: 'calm-heron',
      origin: { kind: 'Warehouse', name: 'app' },
      images: [{ repoURL: 'example.com/app', tag: '1.0.0', digest: 'sha256:1' }],
      discoveredAt: new Date(),
    })
    const now = new Date()
    await updateResource(db, { project: 'demo', kind: 'Freight', name: freight.metadata.name }, (r) => ({
      ...r,
      status: {
        verifiedIn: { test: { verifiedAt: now.toISOString() } },
        currentlyIn: { test: { since: new Date(now.getTime() - 10 * 60_000).toISOString() } },
      },
    }))
    const queued: string[] = []
    const deps = { db, enqueuePromotion: async (m: { promotion: string }) => void queued.push(m.promotion) }
    const refused = promoteDownstream(deps, {
      project: 'demo',
      stage: 'test',
      selector: { freightAlias: 'calm-heron' },
      actor: admin,
    })
    await expect(refused).rejects.toThrow(ValidationError)
    await expect(refused).rejects.toThrow(/uat-b.*soaked 10m of the required 1h/)
    expect(await listPromotions(db, 'demo')).toEqual([])
    expect(queued).toEqual([])

    await updateResource(db, { project: 'demo', kind: 'Freight', name: freight.metadata.name }, (r) => ({
      ...r,
      status: {
        ...r.status,
        currentlyIn: { test: { since: new Date(now.getTime() - 61 * 60_000).toISOString() } },
      },
    }))
    const created = await promoteDownstream(deps, {
      project: 'demo',
      stage: 'test',
      selector: { freightAlias: 'calm-heron' },
      actor: admin,
    })
    expect(created.map((p) => p.spec.stage).sort()).toEqual(['uat-a', 'uat-b'])
    expect(queued).toHaveLength(2)
  })
})
