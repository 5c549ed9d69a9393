import { createHash, createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  receiverPath,
  syncWebhookReceivers,
  syncWebhookRoutes,
  webhookReceiverDetails,
} from '../../events/webhooks.js'
import { getResource } from '../../store/resources.js'
import { eventsApp, projectYaml } from '../../../test/events/app.js'

const project = 'guestbook'

const secretYaml = (name: string, data: Record<string, string>) => `
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${project}, labels: {kargo.akuity.io/cred-type: generic}}
stringData: ${JSON.stringify(data)}
`

const configYaml = `
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: {name: ${project}, namespace: ${project}}
spec:
  webhookReceivers:
  - {name: gh, github: {secretRef: {name: gh-secret}}}
  - {name: gl, gitlab: {secretRef: {name: gl-secret}}}
  - {name: hub, dockerhub: {secretRef: {name: url-secret}}}
  - {name: quay, quay: {secretRef: {name: url-secret}}}
  - {name: harbor, harbor: {secretRef: {name: harbor-secret}}}
  - {name: bb, bitbucket: {secretRef: {name: url-secret}}}
  - name: ci
    generic:
      secretRef: {name: url-secret}
      actions:
      - action: Refresh
        whenExpression: "request.header('X-Event') == 'published' && request.body.ref == 'refs/heads/main'"
        targetSelectionCriteria:
        - kind: Warehouse
          indexSelector:
            matchIndices:
            - {key: subscribedURLs, operator: Equal, value: "\${{ normalizeGit(request.body.repo) }}"}
`

async function setUp() {
  const harness = await eventsApp()
  await harness.apply(projectYaml(project))
  await harness.apply(
    [
      secretYaml('gh-secret', { secret: 'gh-s3cret' }),
      secretYaml('gl-secret', { 'secret-token': 'gl-t0ken' }),
      secretYaml('url-secret', { secret: 'url-s3cret' }),
      secretYaml('harbor-secret', { 'auth-header': 'Basic aGFyYm9y' }),
      configYaml,
    ].join('\n---\n'),
  )
  // Applying the ProjectConfig and its Secrets is enough: the API syncs the routes and records them in the status.
  const config = await getResource(harness.db, { project, kind: 'ProjectConfig', name: project })
  expect(config?.status?.conditions).toMatchObject([{ type: 'WebhookReceiversReady', status: 'True' }])
  const receivers = config?.status?.webhookReceivers as Array<{ name: string; path: string; url: string }>
  const url = (name: string) => new URL(receivers.find((r) => r.name === name)!.url).pathname
  return { ...harness, url, receivers }
}

const sign = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

const pushPayload = (ref: string, paths: string[]) =>
  JSON.stringify({
    ref,
    repository: {
      clone_url: 'https://github.com/acme/guestbook-config.git',
      ssh_url: 'git@github.com:acme/guestbook-config.git',
      default_branch: 'main',
    },
    commits: [{ added: paths.slice(0, 1), modified: paths.slice(1), removed: [] }],
    head_commit: { added: [], modified: paths.slice(1), removed: [] },
  })

describe('webhook receiver URLs', () => {
  it("are Kargo's: /webhooks/<type>/<sha256(project + name + secret)>", async () => {
    const { receivers, deps } = await setUp()
    const expected = createHash('sha256')
      .update(`${project}gh` + 'gh-s3cret')
      .digest('hex')
    expect(receivers.find((r) => r.name === 'gh')).toEqual({
      name: 'gh',
      path: `/webhooks/github/${expected}`,
      url: `https://tugboat.example.com/webhooks/github/${expected}`,
    })
    expect(receiverPath(project, 'github', 'gh', ['gh-s3cret'])).toBe(`/webhooks/github/${expected}`)
    expect(JSON.stringify(receivers)).not.toContain('s3cret')
    await expect(webhookReceiverDetails(deps, project)).resolves.toMatchObject({ problems: [] })
  })

  it("are recorded in the ProjectConfig's status, written only when they change", async () => {
    const { deps, db, receivers } = await setUp()
    await syncWebhookReceivers(deps, project, 'https://tugboat.example.com')
    const first = await getResource(db, { project, kind: 'ProjectConfig', name: project })
    expect(first?.status).toMatchObject({
      webhookReceivers: receivers,
      conditions: [{ type: 'WebhookReceiversReady', status: 'True', message: '7 webhook receiver(s) ready' }],
    })
    await syncWebhookReceivers(deps, project, 'https://tugboat.example.com')
    const again = await getResource(db, { project, kind: 'ProjectConfig', name: project })
    expect(again?.metadata.resourceVersion).toBe(first?.metadata.resourceVersion)
  })

  it('report receivers whose Secret is missing, until the Secret is applied', async () => {
    const { apply, deps, db, call } = await setUp()
    await apply(configYaml.replace('gh-secret', 'late-secret'))
    const { problems } = await webhookReceiverDetails(deps, project)
    expect(problems).toEqual(['webhook receiver "gh": Secret "late-secret" not found in project "guestbook"'])
    const pending = await getResource(db, { project, kind: 'ProjectConfig', name: project })
    expect(pending?.status?.conditions).toMatchObject([
      { type: 'WebhookReceiversReady', status: 'False', message: expect.stringContaining('late-secret') },
    ])
    expect((pending?.status?.webhookReceivers as unknown[]).length).toBe(6)

    await apply(secretYaml('late-secret', { secret: 'late-s3cret' }))
    const ready = await getResource(db, { project, kind: 'ProjectConfig', name: project })
    expect(ready?.status?.conditions).toMatchObject([{ type: 'WebhookReceiversReady', status: 'True' }])
    const gh = (ready?.status?.webhookReceivers as Array<{ name: string; url: string }>).find(
      (r) => r.name === 'gh',
    )!
    const body = pushPayload('refs/heads/main', ['apps/guestbook/a.yaml'])
    const response = await call('POST', new URL(gh.url).pathname, {
      token: null,
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign('late-s3cret', body) },
      body,
    })
    expect(response.status).toBe(200)
  })
})

describe('POST /webhooks/github/…', () => {
  it('a signed push refreshes the Warehouses of that repo and branch whose paths changed', async () => {
    const { call, url, refreshed } = await setUp()
    const body = pushPayload('refs/heads/main', ['apps/guestbook/deploy.yaml', 'README.md'])
    const response = await call('POST', url('gh'), {
      token: null,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-hub-signature-256': sign('gh-s3cret', body),
      },
      body,
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      msg: 'refreshed 1 of 1 warehouse(s)',
      warehouses: [{ warehouse: 'config', ok: true }],
    })
    expect(refreshed).toEqual([{ project, warehouse: 'config' }])
  })

  it.each([
    ['a wrong signature', (body: string) => sign('not-the-secret', body)],
    ['no signature', () => undefined],
    ['a signature of another body', (body: string) => sign('gh-s3cret', `${body}\n`)],
  ])('answers 401 to %s and refreshes nothing', async (_name, signature) => {
    const { call, url, refreshed } = await setUp()
    const body = pushPayload('refs/heads/main', ['apps/guestbook/deploy.yaml'])
    const sig = signature(body)
    const response = await call('POST', url('gh'), {
      token: null,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        ...(sig ? { 'x-hub-signature-256': sig } : {}),
      },
      body,
    })
    expect(response.status).toBe(401)
    expect(refreshed).toEqual([])
  })

  it.each([
    ['another branch', 'refs/heads/feature', ['apps/guestbook/a.yaml'], []],
    ['paths no subscription includes', 'refs/heads/main', ['src/main.go'], []],
    ['docs only', 'refs/heads/main', ['docs/index.md'], ['docs']],
    ['a tag (branch subscriptions ignore it)', 'refs/tags/v1.0.0', ['apps/guestbook/a.yaml'], []],
  ])('a push to %s refreshes only what it concerns', async (_name, ref, paths, expected) => {
    const { call, url, refreshed } = await setUp()
    const body = pushPayload(ref, paths)
    const response = await call('POST', url('gh'), {
      token: null,
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign('gh-s3cret', body) },
      body,
    })
    expect(response.status).toBe(200)
    expect(refreshed.map((r) => r.warehouse)).toEqual(expected)
  })

  it('answers a ping, and refreshes image Warehouses on a container package event', async () => {
    const { call, url, refreshed } = await setUp()
    const ping = '{"zen":"Keep it logically awesome."}'
    const pong = await call('POST', url('gh'), {
      token: null,
      headers: { 'x-github-event': 'ping', 'x-hub-signature-256': sign('gh-s3cret', ping) },
      body: ping,
    })
    expect(pong.status).toBe(200)
    const pkg = JSON.stringify({
      action: 'published',
      package: {
        package_type: 'CONTAINER',
        package_version: {
          package_url: 'ghcr.io/acme/guestbook:v1.4.0',
          container_metadata: { tag: { name: 'v1.4.0' } },
        },
      },
    })
    const response = await call('POST', url('gh'), {
      token: null,
      headers: { 'x-github-event': 'package', 'x-hub-signature-256': sign('gh-s3cret', pkg) },
      body: pkg,
    })
    expect(response.status).toBe(200)
    expect(refreshed).toEqual([{ project, warehouse: 'images' }])
  })

  it('retires the old URL when the secret rotates', async () => {
    const { call, url, apply, deps, db, refreshed } = await setUp()
    const old = url('gh')
    await apply(secretYaml('gh-secret', { secret: 'rotated' }))
    const body = pushPayload('refs/heads/main', ['apps/guestbook/a.yaml'])
    expect(
      (
        await call('POST', old, {
          token: null,
          headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign('gh-s3cret', body) },
          body,
        })
      ).status,
    ).toBe(404)
    // Applying the rotated Secret re-synced the routes: the status shows the new URL.
    const config = await getResource(db, { project, kind: 'ProjectConfig', name: project })
    const fresh = (config?.status?.webhookReceivers as Array<{ name: string; path: string }>).find(
      (r) => r.name === 'gh',
    )!.path
    expect((await syncWebhookRoutes(deps, project)).receivers.find((r) => r.name === 'gh')!.path).toBe(fresh)
    expect(fresh).not.toBe(old)
    expect(
      (
        await call('POST', fresh, {
          token: null,
          headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign('rotated', body) },
          body,
        })
      ).status,
    ).toBe(200)
    expect(refreshed).toEqual([{ project, warehouse: 'config' }])
  })
})

describe('POST /webhooks/<other providers>/…', () => {
  it('GitLab: X-Gitlab-Token must match; a push refreshes the git Warehouses', async () => {
    const { call, url, refreshed } = await setUp()
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      repository: { git_http_url: 'https://github.com/acme/guestbook-config.git' },
      commits: [{ added: ['docs/x.md'], modified: [], removed: [] }],
      total_commits_count: 1,
    })
    const bad = await call('POST', url('gl'), {
      token: null,
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' },
      body,
    })
    expect(bad.status).toBe(401)
    expect(refreshed).toEqual([])
    const good = await call('POST', url('gl'), {
      token: null,
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'gl-t0ken' },
      body,
    })
    expect(good.status).toBe(200)
    expect(refreshed).toEqual([{ project, warehouse: 'docs' }])
  })

  it.each([
    ['hub', { push_data: { tag: 'v1.4.0' }, repository: { repo_name: 'ghcr.io/acme/guestbook' } }, {}],
    ['quay', { docker_url: 'ghcr.io/acme/guestbook', updated_tags: ['v1.4.0'] }, {}],
    [
      'harbor',
      {
        type: 'PUSH_ARTIFACT',
        event_data: { resources: [{ tag: 'v1.4.0', resource_url: 'ghcr.io/acme/guestbook:v1.4.0' }] },
      },
      { authorization: 'Basic aGFyYm9y' },
    ],
  ])('%s: an image push refreshes the image Warehouse', async (receiver, payload, headers) => {
    const { call, url, refreshed } = await setUp()
    const response = await call('POST', url(receiver), {
      token: null,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    })
    expect(response.status).toBe(200)
    expect(refreshed).toEqual([{ project, warehouse: 'images' }])
  })

  it('Harbor: a wrong Authorization header is 401', async () => {
    const { call, url, refreshed } = await setUp()
    const body = JSON.stringify({
      type: 'PUSH_ARTIFACT',
      event_data: { resources: [{ resource_url: 'ghcr.io/acme/guestbook:v1' }] },
    })
    expect(
      (await call('POST', url('harbor'), { token: null, headers: { authorization: 'Basic bm9wZQ==' }, body }))
        .status,
    ).toBe(401)
    expect(refreshed).toEqual([])
  })

  it('generic: whenExpression and a subscribedURLs index select the Warehouses', async () => {
    const { call, url, refreshed } = await setUp()
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      repo: 'https://github.com/acme/guestbook-config.git',
    })
    const skipped = await call('POST', url('ci'), { token: null, headers: { 'x-event': 'other' }, body })
    expect(skipped.status).toBe(200)
    expect(await skipped.json()).toMatchObject({
      results: [{ matchedWhenExpression: false, result: 'NotApplicable' }],
    })
    expect(refreshed).toEqual([])
    const response = await call('POST', url('ci'), { token: null, headers: { 'x-event': 'published' }, body })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      results: [
        {
          matchedWhenExpression: true,
          result: 'Success',
          selectedTargets: [{ name: 'config' }, { name: 'docs' }],
        },
      ],
    })
    expect(refreshed.map((r) => r.warehouse).sort()).toEqual(['config', 'docs'])
  })

  it('answers 404 to unknown paths and 501 to receiver types not supported yet', async () => {
    const { call, url } = await setUp()
    expect(
      (await call('POST', `/webhooks/github/${'0'.repeat(64)}`, { token: null, body: '{}' })).status,
    ).toBe(404)
    expect((await call('POST', '/webhooks/nonsense/abc', { token: null, body: '{}' })).status).toBe(404)
    expect((await call('POST', url('bb'), { token: null, body: '{}' })).status).toBe(501)
  })
})
