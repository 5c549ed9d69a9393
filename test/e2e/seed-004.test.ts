import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGitServer, type GitServer } from '../support/git-server.js'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { startTugboat } from '../support/tugboat.js'
import { startFakeArgoCD, type FakeArgoCD } from '../fakes/argocd/server.js'
import { kargoDemoRepo, seedManifests, sillyDemoApps } from './fixtures.js'
import { startHttpSink, type HttpSink } from '../support/http-sink.js'
import { cdeventsValidator } from '../events/cdevents-schemas.js'

const ARGOCD_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0dWdib2F0In0.c2lnbmF0dXJl'
const repo = path.resolve(__dirname, '../..')

describe('seed 004, end to end: registry → Freight → auto-promotion to dev → manual pre-prod and prod', () => {
  let registry: Registry
  let git: GitServer
  let argocd: FakeArgoCD
  let tugboat: Awaited<ReturnType<typeof startTugboat>>
  let gitURL: string
  let sink: HttpSink
  const digests: Record<string, string> = {}

  // Async on purpose: the API server runs in this process, so a blocking spawn would deadlock.
  const cli = (...args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(path.join(repo, 'bin/tugboat.mjs'), args, {
        cwd: repo,
        env: { ...process.env, ...tugboat.env },
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      child.on('close', (code) => resolve({ code, out, err }))
    })
  const freightList = async () =>
    (await tugboat.api<any>('GET', '/v1beta1/projects/silly-demo/freight')).body.groups[''].items as any[]
  const promotionsTo = async (stage: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/silly-demo/promotions?stage=${stage}`)).body
      .items as any[]

  beforeAll(async () => {
    registry = await startRegistry()
    for (const tag of ['1.4.298', '1.4.299', '2.0.0'])
      digests[tag] = await pushImage(registry, 'vfarcic/silly-demo', tag)
    git = await startGitServer({ auth: { username: 'your-github-user', password: 'your-github-pat' } })
    gitURL = await git.createRepo('kargo-demo', kargoDemoRepo(registry.host))
    argocd = await startFakeArgoCD({ token: ARGOCD_TOKEN, apps: sillyDemoApps(gitURL) })
    tugboat = await startTugboat({ ARGOCD_SERVER: argocd.url, ARGOCD_AUTH_TOKEN: ARGOCD_TOKEN })
    sink = await startHttpSink({ secret: 'sink-signing-secret' })
  }, 120_000)

  afterAll(async () => {
    await tugboat?.stop()
    await argocd?.close()
    await git?.close()
    await registry?.close()
    await sink?.close()
  })

  it('accepts the seed manifests as written (URLs pointed at the local servers)', async () => {
    // Plus a subscription that sends every event to a local sink, signed with a secret (issue 7).
    const subscription = `---
apiVersion: tugboat.io/v1alpha1
kind: EventSubscription
metadata: {name: sink}
spec:
  url: ${sink.url}/hook
  secretRef: {name: sink-secret}
---
apiVersion: v1
kind: Secret
metadata:
  name: sink-secret
  labels: {kargo.akuity.io/cred-type: generic}
stringData: {secret: sink-signing-secret}
`
    const { status, body } = await tugboat.api(
      'PUT',
      '/v1beta1/resources?upsert=true&project=silly-demo',
      `${seedManifests(registry.host, gitURL)}\n${subscription}`,
      'application/yaml',
    )
    expect(status, JSON.stringify(body)).toBe(200)
  })

  it('turns the newest ^1.x tag into Freight with the right digest, and auto-promotes it to dev', async () => {
    const refreshed = await cli('refresh', 'warehouse', 'silly-demo', '-p', 'silly-demo')
    expect(refreshed.err).toBe('')
    expect(refreshed.out).toContain('new Freight')
    const [freight] = await freightList()
    expect(freight.images).toEqual([
      { repoURL: `${registry.host}/vfarcic/silly-demo`, tag: '1.4.299', digest: digests['1.4.299'] },
    ])
    expect(freight.alias).toMatch(/^[a-z]+-[a-z]+$/)
    const [promotion] = await tugboat.eventually(
      'the dev promotion',
      async () => {
        const list = await promotionsTo('dev')
        return list[0]?.status?.phase === 'Succeeded' ||
          list[0]?.status?.phase === 'Failed' ||
          list[0]?.status?.phase === 'Errored'
          ? list
          : undefined
      },
      120_000,
    )
    expect(promotion.status.message).toBeUndefined()
    expect(promotion.status.phase).toBe('Succeeded')
    expect(promotion.metadata.name).toMatch(
      new RegExp(`^dev\\.[0-9a-z]{26}\\.${freight.metadata.name.slice(0, 7)}$`),
    )
    expect(promotion.metadata.labels).toEqual({
      'kargo.akuity.io/stage': 'dev',
      'kargo.akuity.io/freight': freight.metadata.name,
      'kargo.akuity.io/origin': 'silly-demo',
    })
    expect(promotion.createdBy).toBe('system:auto-promotion')
  })

  it('leaves branch stage/dev holding only manifests.yaml, rendered from overlays/dev with the new tag', async () => {
    expect(await git.listFiles('kargo-demo', 'stage/dev')).toEqual(['manifests.yaml'])
    const manifests = (await git.readFile('kargo-demo', 'stage/dev', 'manifests.yaml'))!
    expect(manifests).toContain(`image: ${registry.host}/vfarcic/silly-demo:1.4.299`)
    expect(manifests).toContain('host: silly-demo.dev.127.0.0.1.nip.io')
    const [commit] = await git.log('kargo-demo', 'stage/dev')
    expect(commit!.message).toContain('1.4.299')
    expect(argocd.app('silly-demo-dev')?.status.sync.revision).toBe(commit!.sha)
  })

  it('marks the Freight verified in dev and refuses it for prod (not verified in pre-prod), saying why', async () => {
    await tugboat.reconcile()
    const [freight] = await tugboat.eventually('verifiedIn dev', async () => {
      const list = await freightList()
      return list[0]?.status?.verifiedIn?.dev ? list : undefined
    })
    expect(freight.status.currentlyIn).toHaveProperty('dev')
    const refused = await tugboat.api('POST', '/v1beta1/projects/silly-demo/stages/prod/promotions', {
      freight: freight.metadata.name,
    })
    expect(refused.status).toBe(400)
    expect((refused.body as any).message).toContain('not verified in "pre-prod"')
  })

  it('has sent the subscribed sink signed, schema-valid CloudEvents for the whole flow, in order', async () => {
    const wanted = [
      'dev.cdevents.artifact.published.0.3.0',
      'dev.cdeventsx.tugboat-promotion.created.0.1.0',
      'dev.cdeventsx.tugboat-promotion.started.0.1.0',
      'dev.cdeventsx.tugboat-promotion.succeeded.0.1.0',
      'dev.cdevents.service.deployed.0.3.0',
      'dev.cdeventsx.tugboat-verification.succeeded.0.1.0',
    ]
    const typesOf = (requests: Array<{ body: string }>) =>
      requests.map((r) => JSON.parse(r.body).type as string)
    await sink
      .waitFor((requests) => wanted.every((t) => typesOf(requests).includes(t)), 30_000)
      .catch(() => expect(typesOf(sink.requests)).toEqual(wanted))
    const received = typesOf(sink.requests)
    const order = wanted.map((t) => received.indexOf(t))
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(sink.requests.every((r) => r.signatureValid)).toBe(true)
    const validate = cdeventsValidator()
    for (const request of sink.requests) expect(validate(JSON.parse(request.body))).toEqual([])
    const succeeded = sink.requests
      .map((r) => JSON.parse(r.body))
      .find((e) => e.type.endsWith('promotion.succeeded.0.1.0'))
    expect(JSON.stringify(succeeded)).toContain('silly-demo')
    expect(JSON.stringify(sink.requests)).not.toContain('your-github-pat')
  })

  it('promotes to pre-prod and then prod with `tugboat promote --wait`', async () => {
    const [freight] = await freightList()
    for (const stage of ['pre-prod', 'prod']) {
      const result = await cli(
        'promote',
        '-p',
        'silly-demo',
        '--freight',
        freight.metadata.name,
        '--stage',
        stage,
        '--wait',
        '--timeout',
        '3m',
      )
      expect(result.err).toBe('')
      expect(result.code).toBe(0)
      expect(result.out).toMatch(new RegExp(`promotion.kargo.akuity.io/${stage}\\.\\S+ promotion created`))
      expect(result.out).toContain('git-push')
      expect(result.out).toMatch(/Succeeded/)
      expect(await git.listFiles('kargo-demo', `stage/${stage}`)).toEqual(['manifests.yaml'])
      await tugboat.reconcile()
    }
    expect((await git.readFile('kargo-demo', 'stage/prod', 'manifests.yaml'))!).toContain(
      'silly-demo.prod.127.0.0.1.nip.io',
    )
  })

  it('lists all three Promotions with their labels', async () => {
    const [freight] = await freightList()
    const list = await cli('get', 'promotions', '-p', 'silly-demo')
    expect(list.code).toBe(0)
    for (const stage of ['dev', 'pre-prod', 'prod'])
      expect(list.out).toMatch(
        new RegExp(`${stage}\\.\\S+\\s+${stage}\\s+${freight.metadata.name}\\s+Succeeded`),
      )
    const byLabel = await cli(
      'get',
      'promotions',
      '-p',
      'silly-demo',
      '-l',
      `kargo.akuity.io/freight=${freight.metadata.name}`,
      '-o',
      'json',
    )
    expect(JSON.parse(byLabel.out).items).toHaveLength(3)
    const latest = JSON.parse(
      (await cli('get', 'promotions', '-p', 'silly-demo', '--stage', 'prod', '--latest', '-o', 'json')).out,
    )
    expect(latest.spec.stage).toBe('prod')
    expect(latest.status.stepExecutionMetadata.map((s: any) => s.status)).toEqual(Array(7).fill('Succeeded'))
  })

  it('makes a second Freight from a newly pushed 1.4.300, and discovering again creates nothing new', async () => {
    digests['1.4.300'] = await pushImage(registry, 'vfarcic/silly-demo', '1.4.300')
    expect((await cli('refresh', 'warehouse', 'silly-demo', '-p', 'silly-demo')).out).toContain('new Freight')
    const again = await cli('refresh', 'warehouse', 'silly-demo', '-p', 'silly-demo')
    expect(again.out).toContain('no new Freight')
    const list = await freightList()
    expect(list.map((f) => f.images[0].tag)).toEqual(['1.4.300', '1.4.299'])
    expect(list[0].images[0].digest).toBe(digests['1.4.300'])
    const table = await cli('get', 'freight', '-p', 'silly-demo')
    expect(table.out).toMatch(/vfarcic\/silly-demo:1\.4\.299\s+dev,pre-prod,prod/)
  })
})
