import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { promotionFinishedEvents } from '../../lib/events/builders.js'
import { deliverEvent } from '../../lib/events/deliver.js'
import { freePort } from '../../lib/local/ports.js'
import { createFreight } from '../../lib/store/freight.js'
import { getResource } from '../../lib/store/resources.js'
import { updateStageStatus } from '../../lib/store/stages.js'
import { startHttpSink } from '../support/http-sink.js'
import { TEST_ADMIN_TOKEN } from '../support/stack.js'
import { eventsApp, projectYaml } from './app.js'
import { createProject, createSecret, createSubscription, eventsStack } from './fixtures.js'

const docs = fs.readFileSync(path.resolve(__dirname, '../../docs/integrations.md'), 'utf8')

/** The fenced `lang` block that starts with `firstLine`. */
function block(lang: string, firstLine: string): string {
  const found = [...docs.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))]
    .map((m) => m[1]!)
    .find((code) => code.startsWith(firstLine))
  if (!found)
    throw new Error(`docs/integrations.md has no ${lang} block starting with ${JSON.stringify(firstLine)}`)
  return found
}

function writeTemp(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-recipe-'))
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, name)
  fs.writeFileSync(file, content, { mode: 0o755 })
  return file
}

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()))
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
    child.on('close', (code) => resolve({ code: code ?? -1, output }))
  })
}

async function servedApp() {
  const harness = await eventsApp()
  await harness.apply(projectYaml('guestbook'))
  const server = serve({ fetch: harness.app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) =>
    server.listening ? resolve() : server.once('listening', () => resolve()),
  )
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { ...harness, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe('docs/integrations.md recipes work as written', () => {
  it('tugboat-to-github.mjs forwards signed deployment events to repository_dispatch and refuses the rest', async () => {
    const github = await startHttpSink()
    cleanups.push(() => github.close())
    const port = await freePort()
    const file = writeTemp('tugboat-to-github.mjs', block('js', '// tugboat-to-github.mjs'))
    const child = spawn(process.execPath, [file], {
      env: {
        ...process.env,
        TUGBOAT_WEBHOOK_SECRET: 'relay-s3cret',
        GITHUB_TOKEN: 'ghp_test',
        GITHUB_REPOSITORY: 'acme/guestbook',
        GITHUB_API_URL: github.url,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    cleanups.push(() => void child.kill())
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (c: Buffer) => c.toString().includes('listening') && resolve()),
    )

    const stack = await eventsStack()
    await createProject(stack.db, 'guestbook')
    await createSecret(stack.db, stack.sealer, 'guestbook', 'github-relay', { secret: 'relay-s3cret' })
    await createSubscription(stack.db, 'guestbook', 'github-relay', {
      url: `http://127.0.0.1:${port}/`,
      types: ['dev.cdevents.service.*', 'dev.cdeventsx.*'],
      secretRef: { name: 'github-relay' },
    })
    await createSecret(stack.db, stack.sealer, 'guestbook', 'forged', { secret: 'nope' })
    await createSubscription(stack.db, 'guestbook', 'forged', {
      url: `http://127.0.0.1:${port}/`,
      secretRef: { name: 'forged' },
    })

    const events = promotionFinishedEvents({
      project: 'guestbook',
      stage: 'uat',
      freight: {
        name: 'f'.repeat(40),
        alias: 'brave-fox',
        images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v2', digest: `sha256:${'3'.repeat(64)}` }],
      },
      promotion: { name: 'uat.01j.fffffff', phase: 'Succeeded' },
    })
    const outcomes = await Promise.all(
      events.map((e) => deliverEvent({ db: stack.db, sealer: stack.sealer }, e)),
    )

    // promotion.succeeded: relayed to nobody (204); service.deployed: forwarded (204); the forged signature: 401.
    expect(outcomes.map((o) => o.map((x) => `${x.subscription}:${x.statusCode}`).sort())).toEqual([
      ['forged:401', 'github-relay:204'],
      ['forged:401', 'github-relay:204'],
    ])
    expect(github.requests).toHaveLength(1)
    const [dispatch] = github.requests
    expect(dispatch).toMatchObject({
      method: 'POST',
      path: '/repos/acme/guestbook/dispatches',
      headers: { authorization: 'Bearer ghp_test' },
    })
    expect(JSON.parse(dispatch!.body)).toEqual({
      event_type: 'tugboat-deployed',
      client_payload: {
        eventId: events[1]!.id,
        change: 'deployed',
        project: 'guestbook',
        stage: 'uat',
        freight: 'f'.repeat(40),
        alias: 'brave-fox',
        promotion: 'uat.01j.fffffff',
        artifact: `pkg:oci/guestbook@sha256%3A${'3'.repeat(64)}?repository_url=ghcr.io/acme/guestbook&tag=v2`,
      },
    })
  })

  it('report-to-tugboat.sh records the test result as a verification, once', async () => {
    const { url, db } = await servedApp()
    const { freight } = await createFreight(db, {
      project: 'guestbook',
      name: 'a'.repeat(40),
      alias: 'brave-fox',
      origin: { kind: 'Warehouse', name: 'images' },
      discoveredAt: new Date(),
    })
    await updateStageStatus(db, 'guestbook', 'prod', (status) => ({
      ...status,
      phase: 'Verifying',
      freightHistory: [
        {
          id: 'c1',
          items: {
            'Warehouse/images': {
              name: freight.metadata.name,
              origin: { kind: 'Warehouse', name: 'images' },
            },
          },
          verificationHistory: [],
        },
      ],
    }))
    const script = writeTemp(
      'report-to-tugboat.sh',
      block('sh', '#!/usr/bin/env bash\n# report-to-tugboat.sh'),
    )
    const env = {
      TUGBOAT_SERVER: url,
      TUGBOAT_TOKEN: TEST_ADMIN_TOKEN,
      PROJECT: 'guestbook',
      STAGE: 'prod',
      OUTCOME: 'success',
      SUITE: 'smoke',
      FREIGHT: 'brave-fox',
      GITHUB_RUN_ID: '42',
      GITHUB_REPOSITORY: 'acme/guestbook',
    }

    const first = await run('bash', [script], env)
    expect(first.code, first.output).toBe(0)
    expect(JSON.parse(first.output)).toMatchObject({
      id: '42-1-smoke',
      duplicate: false,
      actions: [{ action: 'verify', stage: 'prod', phase: 'Successful' }],
    })
    const again = await run('bash', [script], env)
    expect(JSON.parse(again.output)).toMatchObject({ id: '42-1-smoke', duplicate: true })
    const stage = await getResource(db, { project: 'guestbook', kind: 'Stage', name: 'prod' })
    expect(stage?.status).toMatchObject({
      phase: 'Steady',
      freightHistory: [{ verificationHistory: [{ id: '42-1-smoke', phase: 'Successful' }] }],
    })

    const stale = await run('bash', [script], { ...env, GITHUB_RUN_ID: '43', FREIGHT: 'some-other-freight' })
    expect(stale.code).not.toBe(0)
    expect(stale.output).toContain('is not the current Freight')
  })

  it('the artifact.published curl refreshes the Warehouse subscribed to the image', async () => {
    const { url, refreshed } = await servedApp()
    const script = writeTemp(
      'publish.sh',
      `set -euo pipefail\n${block('sh', 'image=ghcr.io/acme/guestbook')}`,
    )
    const result = await run('bash', [script], {
      TUGBOAT_SERVER: url,
      TUGBOAT_TOKEN: TEST_ADMIN_TOKEN,
      GITHUB_SHA: 'abc1234',
      GITHUB_REPOSITORY: 'acme/guestbook',
    })
    expect(result.code, result.output).toBe(0)
    expect(JSON.parse(result.output)).toMatchObject({
      actions: [{ action: 'refresh', warehouse: 'images', ok: true }],
    })
    expect(refreshed).toEqual([{ project: 'guestbook', warehouse: 'images' }])
  })
})

describe('docs/integrations.md: webhook receivers', () => {
  it('applying the documented ProjectConfig and Secret makes the receiver URL visible and working at once', async () => {
    const { url, refreshed } = await servedApp()
    const manifests = block('yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: github-webhook')
    const cli = path.resolve(__dirname, '../../bin/tugboat.mjs')
    const env = { TUGBOAT_SERVER: url, TUGBOAT_TOKEN: TEST_ADMIN_TOKEN, HOME: os.tmpdir() }
    const file = writeTemp('receiver.yaml', manifests)
    const applied = await run(process.execPath, [cli, 'apply', '-f', file], env)
    expect(applied.code, applied.output).toBe(0)

    const listed = await run(process.execPath, [cli, 'get', 'projectconfig', '-p', 'guestbook'], env)
    expect(listed.code, listed.output).toBe(0)
    const receiverURL = /https?:\/\/\S+\/webhooks\/github\/[0-9a-f]{64}/.exec(listed.output)?.[0]
    expect(receiverURL, listed.output).toBeDefined()
    expect(listed.output).toMatch(/^RECEIVER\s+URL\ngithub\s+/)

    const body = JSON.stringify({
      ref: 'refs/heads/main',
      repository: { clone_url: 'https://github.com/acme/guestbook-config.git' },
      commits: [{ added: [], modified: ['apps/guestbook/deploy.yaml'], removed: [] }],
    })
    const sign = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
    const push = (signature: string) =>
      fetch(new URL(new URL(receiverURL!).pathname, url), {
        method: 'POST',
        headers: { 'x-github-event': 'push', 'x-hub-signature-256': signature },
        body,
      })
    expect((await push(sign('not-the-secret'))).status).toBe(401)
    expect(refreshed).toEqual([])
    expect((await push(sign('the-secret-you-give-github'))).status).toBe(200)
    expect(refreshed).toEqual([{ project: 'guestbook', warehouse: 'config' }])
  })
})
