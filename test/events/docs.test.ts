import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { promotionFinishedEvents } from '../../lib/events/builders.js'
import { deliverEvent } from '../../lib/events/deliver.js'
import { getDelivery } from '../../lib/events/store.js'
import { freePort } from '../../lib/local/ports.js'
import { createProject, createSecret, createSubscription, eventsStack } from './fixtures.js'

const docs = fs.readFileSync(path.resolve(__dirname, '../../docs/events.md'), 'utf8')

/** The fenced block whose first line names the file, as the docs show it. */
function snippet(name: string): string {
  const block = [...docs.matchAll(/```js\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((code) => code.startsWith(`// ${name}`))
  if (!block) throw new Error(`docs/events.md has no js block starting with "// ${name}"`)
  return block
}

const children: ChildProcess[] = []
const dirs: string[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill()
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

async function startReceiver(secret: string): Promise<{ url: string; output: () => string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-docs-'))
  dirs.push(dir)
  const file = path.join(dir, 'verify-server.mjs')
  fs.writeFileSync(file, snippet('verify-server.mjs'))
  const port = await freePort()
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, TUGBOAT_WEBHOOK_SECRET: secret, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const deadline = Date.now() + 10_000
  while (!output.includes('listening')) {
    if (Date.now() > deadline) throw new Error(`verify-server.mjs did not start: ${output}`)
    await new Promise((r) => setTimeout(r, 25))
  }
  return { url: `http://127.0.0.1:${port}/`, output: () => output }
}

describe('docs/events.md', () => {
  it('the signature-verifying receiver works as written against real deliveries', async () => {
    const stack = await eventsStack()
    const project = 'guestbook'
    await createProject(stack.db, project)
    const receiver = await startReceiver('docs-s3cret')
    await createSecret(stack.db, stack.sealer, project, 'right', { secret: 'docs-s3cret' })
    await createSecret(stack.db, stack.sealer, project, 'wrong', { secret: 'not-it' })
    await createSubscription(stack.db, project, 'signed-right', {
      url: receiver.url,
      secretRef: { name: 'right' },
    })
    await createSubscription(stack.db, project, 'signed-wrong', {
      url: receiver.url,
      secretRef: { name: 'wrong' },
    })
    await createSubscription(stack.db, project, 'unsigned', { url: receiver.url })

    const [event] = promotionFinishedEvents({
      project,
      stage: 'prod',
      freight: { name: 'f'.repeat(40), alias: 'brave-fox' },
      promotion: { name: 'prod.x', phase: 'Failed', message: 'step failed' },
    })
    const outcomes = await deliverEvent({ db: stack.db, sealer: stack.sealer }, event!)

    expect(Object.fromEntries(outcomes.map((o) => [o.subscription, [o.state, o.statusCode]]))).toEqual({
      'signed-right': ['delivered', 204],
      'signed-wrong': ['failed', 401],
      unsigned: ['failed', 401],
    })
    await expect(getDelivery(stack.db, project, event!.id, 'signed-wrong')).resolves.toMatchObject({
      error: 'HTTP 401 Unauthorized',
    })
    expect(receiver.output()).toContain(
      'dev.cdeventsx.tugboat-promotion.failed.0.1.0 guestbook/prod brave-fox',
    )
  })
})
