import fs from 'node:fs'
import path from 'node:path'
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs'
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consumeQueue } from '../../lib/local/queue-consumer.js'
import { startFakeArgoCD, type FakeArgoCD } from '../fakes/argocd/server.js'
import { startGitHubFake, type FakeGitProvider } from '../fakes/gitprovider/index.js'
import { startGitServer, type GitServer } from '../support/git-server.js'
import { startHTTPServer, type TestHTTPServer } from '../support/http-test-server.js'
import { pushImage, startRegistry, type Registry } from '../support/registry.js'
import { sqsClient } from '../support/stack.js'
import { startTugboat } from '../support/tugboat.js'

/*
 * Kargo's documented examples, as a user would run them: the manifests in examples/kargo-docs/<case> are applied
 * through the HTTP API (only hosts and ports substituted), Freight comes from an image pushed to a real registry,
 * and each Promotion runs through the SQS queue, the promote handler and the real steps.
 */

const ARGOCD_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0dWdib2F0In0.c2lnbmF0dXJl'
/** The credentials the example Secrets carry: the git server and the GitHub API accept exactly these. */
const GIT_USER = 'your-github-user'
const GIT_TOKEN = 'your-github-pat'
const TAG = '1.2.3'
const examples = path.resolve(__dirname, '../../examples/kargo-docs')

/** The manifests of one example, with its `${NAME}` placeholders (not `${{ … }}` expressions) filled in. */
function exampleManifests(example: string, values: Record<string, string>): string {
  const dir = path.join(examples, example)
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n---\n')
    .replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
      const value = values[name]
      if (value === undefined) throw new Error(`${example}: no value for \${${name}}`)
      return value
    })
}

/** One run of the promote handler, as the queue consumer made it. */
interface Invocation {
  promotion: string
  startedAt: number
  endedAt?: number
  /** The handler left the message on the queue (a wait), rather than finishing with it. */
  requeued?: boolean
}

/** The kustomize layout on the stage branch of the PR example. */
const guestbookStageFiles = (image: string) => ({
  'kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
`,
  'deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: guestbook
spec:
  template:
    spec:
      containers:
      - name: guestbook
        image: ${image}:1.0.0
`,
})

/** A Helm chart's values.yaml with comments and uneven formatting that yaml-update must keep. */
const VALUES_YAML = `# Default values for app.
# This is a YAML-formatted file.

replicaCount: 2

image:
  repository: ghcr.io/acme/guestbook   # where the image lives
  # The tag is set by Kargo on every promotion.
  tag: "1.0.0"
  pullPolicy:   IfNotPresent

service: {type: ClusterIP, port: 80}   # flow style stays flow style
ingress:
  enabled: false
`

describe("Kargo's documented examples run as written", () => {
  let registry: Registry
  let git: GitServer
  let github: FakeGitProvider
  let argocd: FakeArgoCD
  let status: TestHTTPServer
  let tugboat: Awaited<ReturnType<typeof startTugboat>>
  let stopWorker: () => Promise<void>
  let imageRepo: string
  const invocations: Invocation[] = []

  const apply = async (project: string, manifests: string) => {
    const applied = await tugboat.api(
      'PUT',
      `/v1beta1/resources?upsert=true&project=${project}`,
      manifests,
      'application/yaml',
    )
    expect(applied.status, JSON.stringify(applied.body)).toBe(200)
  }
  /** Discovers the Warehouse's image and returns the Freight it made. */
  const freightOf = async (project: string) => {
    const refreshed = await tugboat.api('POST', `/v1beta1/projects/${project}/warehouses/guestbook/refresh`)
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200)
    return tugboat.eventually(`${project} Freight`, async () => {
      const list = (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/freight`)).body.groups['']
        ?.items as any[] | undefined
      return list?.[0]
    })
  }
  const promote = async (project: string, stage: string, freight: string) => {
    const created = await tugboat.api<any>(
      'POST',
      `/v1beta1/projects/${project}/stages/${stage}/promotions`,
      {
        freight,
      },
    )
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    return created.body.metadata.name as string
  }
  const promotion = async (project: string, name: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/promotions/${name}`)).body
  const finished = (project: string, name: string, ms = 45_000) =>
    tugboat.eventually(
      `promotion ${name} to finish`,
      async () => {
        const p = await promotion(project, name)
        return ['Succeeded', 'Failed', 'Errored', 'Aborted'].includes(p?.status?.phase) ? p : undefined
      },
      ms,
    )
  const stage = async (project: string, name: string) =>
    (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/stages/${name}`)).body
  const stepStatuses = (p: any) =>
    Object.fromEntries(((p.status?.stepExecutionMetadata ?? []) as any[]).map((s) => [s.alias, s.status]))

  beforeAll(async () => {
    registry = await startRegistry()
    await pushImage(registry, 'acme/guestbook', TAG)
    imageRepo = `${registry.host}/acme/guestbook`
    git = await startGitServer({ auth: { username: GIT_USER, password: GIT_TOKEN } })
    await git.createRepo('acme/guestbook-deploy', guestbookStageFiles(imageRepo))
    await git.git('acme/guestbook-deploy', ['branch', 'stage/test', 'main'])
    await git.createRepo('acme/charts', {
      'charts/app/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\n',
      'charts/app/values.yaml': VALUES_YAML,
    })
    github = await startGitHubFake({ git, token: GIT_TOKEN })
    github.addRepo('acme/guestbook-deploy')
    argocd = await startFakeArgoCD({
      token: ARGOCD_TOKEN,
      apps: [
        {
          name: 'guestbook-test',
          annotations: { 'kargo.akuity.io/authorized-stage': 'pr-promotion:test' },
          source: {
            repoURL: github.repoURL('acme/guestbook-deploy'),
            targetRevision: 'stage/test',
            path: '.',
          },
        },
      ],
    })
    status = await startHTTPServer()
    tugboat = await startTugboat(
      { ARGOCD_SERVER: argocd.url, ARGOCD_AUTH_TOKEN: ARGOCD_TOKEN },
      { worker: false },
    )
    // The promote handler on the queue, as Lambda's event source mapping runs it, with each run recorded.
    const { main } = await import('../../functions/promote.js')
    const sqs = sqsClient()
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: tugboat.queues.promotions, AttributeNames: ['QueueArn'] }),
    )
    const consumer = consumeQueue({
      sqs,
      queueUrl: tugboat.queues.promotions,
      queueArn: Attributes!.QueueArn!,
      functionName: 'promote',
      onError: (e) => tugboat.errors.push(e),
      handler: async (event: SQSEvent, context: Context) => {
        const run: Invocation = {
          promotion: String(JSON.parse(event.Records[0]!.body).promotion),
          startedAt: Date.now(),
        }
        invocations.push(run)
        try {
          const result = (await main(event, context)) as SQSBatchResponse
          run.requeued = result.batchItemFailures.length > 0
          return result
        } finally {
          run.endedAt = Date.now()
        }
      },
    })
    stopWorker = () => consumer.stop()
  }, 120_000)

  afterAll(async () => {
    await stopWorker?.()
    await tugboat?.stop()
    await Promise.all([argocd?.close(), github?.close(), status?.close(), git?.close(), registry?.close()])
  })

  describe('a pull request gates the Stage (git-open-pr → git-wait-for-pr → argocd-update)', () => {
    const project = 'pr-promotion'
    let freight: any
    let name: string
    let merge: string

    it('opens a pull request from a generated branch and stays Running, re-queued, while it is open', async () => {
      const repoURL = github.repoURL('acme/guestbook-deploy')
      await apply(project, exampleManifests(project, { GIT_URL: repoURL, REGISTRY: registry.host }))
      // Start unhealthy, so the Stage is seen to wait for Argo CD.
      argocd.setHealth('guestbook-test', 'Progressing')
      freight = await freightOf(project)
      name = await promote(project, 'test', freight.metadata.name)

      const waiting = await tugboat.eventually('the promotion to wait for the PR', async () => {
        const p = await promotion(project, name)
        if (['Succeeded', 'Failed', 'Errored'].includes(p.status?.phase))
          throw new Error(`finished early: ${JSON.stringify(p.status)}`)
        return stepStatuses(p)['wait-for-pr'] === 'Running' &&
          invocations.some((i) => i.promotion === name && i.requeued && i.endedAt)
          ? p
          : undefined
      })
      expect(waiting.status.phase).toBe('Running')
      const wait = waiting.status.stepExecutionMetadata.find((s: any) => s.alias === 'wait-for-pr')
      expect(wait.message).toMatch(/^pull request #1 is open/)
      expect(waiting.status.state['open-pr']).toEqual({
        pr: { id: 1, url: `${github.url}/acme/guestbook-deploy/pull/1` },
      })
      expect(stepStatuses(waiting)).toMatchObject({
        'update-image': 'Succeeded',
        commit: 'Succeeded',
        push: 'Succeeded',
        'open-pr': 'Succeeded',
      })
      const [pull] = github.pulls('acme/guestbook-deploy')
      expect(pull).toMatchObject({
        number: 1,
        state: 'open',
        base: 'stage/test',
        head: `kargo/promotion/${name}`,
      })
      expect(await git.readFile('acme/guestbook-deploy', pull!.head, 'kustomization.yaml')).toContain(
        `newTag: ${TAG}`,
      )
      expect(await git.readFile('acme/guestbook-deploy', 'stage/test', 'kustomization.yaml')).not.toContain(
        'newTag',
      )
      expect(argocd.app('guestbook-test').spec.source?.targetRevision).toBe('stage/test')
    })

    it('succeeds once the pull request is merged, pointing Argo CD at the merge commit', async () => {
      // Nothing holds the Promotion while it waits: no handler run is in flight.
      expect(invocations.filter((i) => i.endedAt === undefined)).toEqual([])
      const mergedAt = Date.now()
      merge = await github.mergePull('acme/guestbook-deploy', 1)
      const done = await finished(project, name)
      expect(done.status.message).toBeUndefined()
      expect(done.status.phase).toBe('Succeeded')
      // The run that saw the merge took the message off the queue once the poll interval had passed; the run
      // before it had put the message back (a wait) and returned at once, rather than sleeping.
      const runs = invocations.filter((i) => i.promotion === name)
      const before = runs.filter((i) => i.startedAt < mergedAt).at(-1)!
      const after = runs.find((i) => i.startedAt > mergedAt)!
      expect(before.requeued).toBe(true)
      expect(before.endedAt! - before.startedAt).toBeLessThan(5_000)
      expect(after.startedAt - before.endedAt!).toBeGreaterThanOrEqual(9_000)

      expect(done.status.state['wait-for-pr']).toMatchObject({ commit: merge, pr: { id: 1, merged: true } })
      const app = argocd.app('guestbook-test')
      expect(app.spec.source?.targetRevision).toBe(merge)
      expect(app.status.sync.revision).toBe(merge)
      expect(await git.head('acme/guestbook-deploy', 'stage/test')).toBe(merge)
      expect(await git.readFile('acme/guestbook-deploy', 'stage/test', 'kustomization.yaml')).toContain(
        `newTag: ${TAG}`,
      )
    })

    it('makes the promoted Freight current, and verified once Argo CD reports the app Healthy and Synced', async () => {
      await tugboat.reconcile()
      const verifying = await stage(project, 'test')
      expect(verifying.status.lastPromotion.name).toBe(name)
      expect(verifying.status.freightHistory[0].items['Warehouse/guestbook'].name).toBe(freight.metadata.name)
      expect(verifying.status.healthChecks[0].desiredRevisions).toEqual([merge])
      expect(verifying.status.phase).toBe('Verifying')
      expect(verifying.status.health.status).toBe('Progressing')

      argocd.setHealth('guestbook-test', 'Healthy')
      const steady = await tugboat.eventually('the Stage healthy and the Freight verified', async () => {
        await tugboat.reconcile()
        const s = await stage(project, 'test')
        return s.status.phase === 'Steady' ? s : undefined
      })
      expect(argocd.app('guestbook-test').status.sync.status).toBe('Synced')
      expect(steady.status.health.status).toBe('Healthy')
      expect(steady.status.freightHistory[0].verificationHistory[0].phase).toBe('Successful')
      expect(steady.status.conditions.find((c: any) => c.type === 'Verified')?.status).toBe('True')
      const verified = (await tugboat.api<any>('GET', `/v1beta1/projects/${project}/freight`)).body.groups['']
        .items[0]
      expect(verified.metadata.name).toBe(freight.metadata.name)
      expect(verified.status.verifiedIn).toHaveProperty('test')
      expect(verified.status.currentlyIn).toHaveProperty('test')
    })
  })

  describe('yaml-update sets a Helm values.yaml image tag', () => {
    const project = 'helm-values'

    it("changes only the tag's line, keeps every other byte, and pushes the commit", async () => {
      const before = await git.head('acme/charts', 'main')
      await apply(
        project,
        exampleManifests(project, { GIT_URL: git.repoURL('acme/charts'), REGISTRY: registry.host }),
      )
      const freight = await freightOf(project)
      const done = await finished(project, await promote(project, 'prod', freight.metadata.name))
      expect(done.status.message).toBeUndefined()
      expect(done.status.phase).toBe('Succeeded')

      const pushed = await git.readFile('acme/charts', 'main', 'charts/app/values.yaml')
      expect(pushed).toBe(VALUES_YAML.replace('  tag: "1.0.0"\n', `  tag: ${TAG}\n`))
      const [commit] = await git.log('acme/charts', 'main')
      expect(commit!.parents).toEqual([before])
      expect(commit!.sha).toBe(done.status.state.commit.commit)
      expect(commit!.message).toContain('Updated ./src/charts/app/values.yaml')
      expect(commit!.message).toContain(`image.tag: ${TAG}`)
      expect(await git.listFiles('acme/charts', 'main')).toEqual([
        'charts/app/Chart.yaml',
        'charts/app/values.yaml',
      ])
    })
  })

  describe('an http step gates on a JSON field', () => {
    const project = 'http-gate'
    let freight: any
    /** What the status endpoint says now. */
    let answer: { status: string; build?: string; reason?: string } = { status: 'ok', build: 'build-42' }

    beforeAll(async () => {
      status.routes.set('/api/status', () => ({ body: answer }))
      await apply(project, exampleManifests(project, { STATUS_URL: status.url, REGISTRY: registry.host }))
      freight = await freightOf(project)
    })

    it('succeeds when the JSON says ok, with the field as a step output visible in the Promotion', async () => {
      const done = await finished(project, await promote(project, 'uat', freight.metadata.name))
      expect(done.status.message).toBeUndefined()
      expect(done.status.phase).toBe('Succeeded')
      expect(done.status.state.check).toEqual({ build: 'build-42' })
      expect(done.status.state.report).toEqual({
        build: 'build-42',
        summary: `guestbook ${TAG} passed check build-42`,
      })
      const request = status.requests.at(-1)!
      expect(request.url).toBe(`/api/status?image=${TAG}`)
      expect(request.headers.accept).toBe('application/json')
    })

    it('fails with the message from errorExpression when the JSON says failed', async () => {
      answer = { status: 'failed', reason: 'smoke tests failed' }
      const done = await finished(project, await promote(project, 'uat', freight.metadata.name))
      expect(done.status.phase).toBe('Failed')
      expect(done.status.message).toContain('HTTP (200) response met failure criteria: "smoke tests failed"')
      expect(stepStatuses(done).check).toBe('Failed')
      expect(stepStatuses(done).report).not.toBe('Succeeded')
      expect(done.status.state.report).toBeUndefined()
    })

    it('stays Running, polling every pollInterval, until the field flips to ok', async () => {
      answer = { status: 'pending' }
      const name = await promote(project, 'uat', freight.metadata.name)
      const seen = status.requests.length
      const polling = await tugboat.eventually('a few polls', async () => {
        const p = await promotion(project, name)
        return status.requests.length >= seen + 3 ? p : undefined
      })
      expect(polling.status.phase).toBe('Running')
      expect(stepStatuses(polling).check).toBe('Running')
      answer = { status: 'ok', build: 'build-43' }
      const done = await finished(project, name)
      expect(done.status.phase).toBe('Succeeded')
      expect(done.status.state.report.build).toBe('build-43')
      expect(invocations.filter((i) => i.promotion === name && i.requeued).length).toBeGreaterThanOrEqual(3)
    })
  })
})
