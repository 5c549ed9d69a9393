import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TerminalError, UpstreamError } from '../errors.js'
import { guardedFetch } from '../net/outbound.js'
import { startHTTPServer, type TestHTTPServer } from '../../test/support/http-test-server.js'
import { HTTPConfigSchema, canonicalHeaderName, httpStep, requestURL } from './http.js'
import type { StepContext, StepResult } from './types.js'

let server: TestHTTPServer
let workDir: string

beforeAll(async () => {
  server = await startHTTPServer()
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'http-step-'))
})
afterAll(async () => {
  await server.close()
  fs.rmSync(workDir, { recursive: true, force: true })
})
afterEach(() => {
  server.routes.clear()
  delete process.env.TUGBOAT_HTTP_ALLOWLIST
})

function context(overrides: Partial<StepContext> = {}): StepContext {
  return {
    project: 'demo',
    stage: 'test',
    promotion: 'test.01hx.abc',
    workDir,
    alias: 'http',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
    fetch: guardedFetch(),
    ...overrides,
  }
}

async function run(config: unknown, overrides: Partial<StepContext> = {}): Promise<StepResult> {
  return httpStep.run(context(overrides), HTTPConfigSchema.parse(config))
}

describe('http step: success and failure criteria (Kargo semantics)', () => {
  it("polls until Kargo's documented gate `response.status == 200 && response.body.ok == true` passes", async () => {
    let ready = false
    server.routes.set('/health', () => ({
      headers: { 'X-Version': '1.4.2' },
      body: { ok: ready, version: '1.4.2', checks: [{ name: 'db', ok: ready }] },
    }))
    const config = {
      url: `${server.url}/health`,
      successExpression: 'response.status == 200 && response.body.ok == true',
      outputs: [
        { name: 'version', fromExpression: 'response.body.version' },
        { name: 'header', fromExpression: "response.header('x-version')" },
        { name: 'contentType', fromExpression: "response.headers['Content-Type'][0]" },
        { name: 'firstCheck', fromExpression: 'response.body.checks[0].name' },
      ],
    }
    const waiting = await run(config)
    expect(waiting).toMatchObject({ status: 'Running', retryAfterMs: 30_000 })
    expect(waiting.message).toContain('did not meet the success criteria')
    expect(waiting.output).toBeUndefined()

    ready = true
    const done = await run(config)
    expect(done).toEqual({
      status: 'Succeeded',
      output: { version: '1.4.2', header: '1.4.2', contentType: 'application/json', firstCheck: 'db' },
    })
  })

  it.each([
    ['no expressions, 2xx', {}, 200, 'Succeeded'],
    ['no expressions, 404', {}, 404, 'Running'],
    ['no expressions, 503', {}, 503, 'Running'],
    ['success only, met', { successExpression: 'response.status == 201' }, 201, 'Succeeded'],
    ['success only, unmet', { successExpression: 'response.status == 201' }, 200, 'Running'],
    ['failure only, met', { failureExpression: 'response.status >= 500' }, 500, 'Failed'],
    ['failure only, unmet (even on a 4xx)', { failureExpression: 'response.status >= 500' }, 404, 'Running'],
    [
      'both, failure wins',
      { successExpression: 'true', failureExpression: 'response.status == 500' },
      500,
      'Failed',
    ],
    ['both unmet', { successExpression: 'false', failureExpression: 'false' }, 200, 'Running'],
  ])('%s', async (_name, criteria, status, expected) => {
    server.routes.set('/x', () => ({ status, body: { status } }))
    const result = await run({ url: `${server.url}/x`, ...criteria })
    expect(result.status).toBe(expected)
  })

  it('retries a non-2xx answer after Kargo’s default requeue interval when no expression is set', async () => {
    server.routes.set('/down', () => ({ status: 503, body: 'busy' }))
    const result = await run({ url: `${server.url}/down` })
    expect(result).toEqual({
      status: 'Running',
      message: 'HTTP (503) response is not a 2xx; the request will be sent again',
      retryAfterMs: 300_000,
    })
  })

  it('uses pollInterval while waiting', async () => {
    server.routes.set('/x', () => ({ body: { phase: 'Pending' } }))
    const result = await run({
      url: `${server.url}/x`,
      successExpression: "response.body.phase == 'Done'",
      pollInterval: '1m30s',
    })
    expect(result).toMatchObject({ status: 'Running', retryAfterMs: 90_000 })
  })

  it('fails with the message errorExpression extracts', async () => {
    server.routes.set('/deploy', () => ({ status: 500, body: { error: { message: 'image "x" not found' } } }))
    const failed = await run({
      url: `${server.url}/deploy`,
      failureExpression: 'response.status >= 500',
      errorExpression: 'response.body.error.message',
    })
    expect(failed).toEqual({
      status: 'Failed',
      message: 'HTTP (500) response met failure criteria: "image \\"x\\" not found"',
    })
    const plain = await run({
      url: `${server.url}/deploy`,
      failureExpression: 'response.status >= 500',
      errorExpression: 'response.body.missing.field',
    })
    expect(plain).toEqual({ status: 'Failed', message: 'HTTP (500) response met failure criteria' })
  })

  it('a success expression that is not a boolean is a retryable error; a syntax error is terminal', async () => {
    server.routes.set('/x', () => ({ body: { ok: 'yes' } }))
    await expect(run({ url: `${server.url}/x`, successExpression: 'response.body.ok' })).rejects.toThrow(
      new UpstreamError(
        'http step: success expression "response.body.ok" did not evaluate to a boolean (got string)',
      ),
    )
    const before = server.requests.length
    const broken = run({ url: `${server.url}/x`, successExpression: 'response.status ==' })
    await expect(broken).rejects.toBeInstanceOf(TerminalError)
    await expect(run({ url: `${server.url}/x`, failureExpression: '(' })).rejects.toThrow(
      /error compiling failure expression "\("/,
    )
    expect(server.requests.length).toBe(before)
  })
})

describe('http step: the request', () => {
  it('sends method, headers, sorted query parameters and a body', async () => {
    server.routes.set('/hook', () => ({ status: 202, body: { accepted: true } }))
    const result = await run({
      method: 'POST',
      url: `${server.url}/hook?z=1&a=first`,
      headers: [
        { name: 'Content-Type', value: 'application/json' },
        { name: 'X-Token', value: 'secret' },
      ],
      queryParams: [
        { name: 'stage', value: 'prod env' },
        { name: 'a', value: 'second*' },
      ],
      body: '{"freight":"abc"}',
      outputs: [{ name: 'accepted', fromExpression: 'response.body.accepted' }],
    })
    expect(result).toEqual({ status: 'Succeeded', output: { accepted: true } })
    const request = server.requests.at(-1)!
    expect(request.method).toBe('POST')
    expect(request.url).toBe('/hook?a=first&a=second%2A&stage=prod+env&z=1')
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers['x-token']).toBe('secret')
    expect(request.body.toString()).toBe('{"freight":"abc"}')
  })

  it('reads the body from a file in the workspace', async () => {
    fs.writeFileSync(path.join(workDir, 'payload.json'), '{"from":"file"}')
    server.routes.set('/hook', () => ({ body: {} }))
    await run({ method: 'PUT', url: `${server.url}/hook`, bodyFromFile: 'payload.json' })
    expect(server.requests.at(-1)?.body.toString()).toBe('{"from":"file"}')
    await expect(
      run({ method: 'PUT', url: `${server.url}/hook`, bodyFromFile: '../etc/passwd' }),
    ).rejects.toThrow('escapes the promotion workspace')
  })

  it('moves URL credentials into a basic Authorization header', async () => {
    server.routes.set('/auth', (req) => ({ body: { auth: req.headers.authorization } }))
    const url = new URL(`${server.url}/auth`)
    url.username = 'kargo'
    url.password = 'p@ss'
    const result = await run({
      url: url.href,
      outputs: [{ name: 'auth', fromExpression: 'response.body.auth' }],
    })
    expect(result.output).toEqual({ auth: `Basic ${Buffer.from('kargo:p@ss').toString('base64')}` })
  })

  it('times out as configured (a retryable error)', async () => {
    server.routes.set('/slow', () => ({ hang: true }))
    const attempt = run({ url: `${server.url}/slow`, timeout: '200ms' })
    await expect(attempt).rejects.toBeInstanceOf(UpstreamError)
    await expect(run({ url: `${server.url}/slow`, timeout: '200ms' })).rejects.toThrow(
      'http step: error sending HTTP request: timed out after 200 ms',
    )
  })

  it('refuses a response body over 2 MiB', async () => {
    server.routes.set('/big', () => ({ body: 'x'.repeat((2 << 20) + 1) }))
    await expect(run({ url: `${server.url}/big` })).rejects.toThrow('exceeds limit of 2097152 bytes')
  })
})

describe('http step: SSRF guard', () => {
  it('refuses the cloud metadata address, with or without ctx.fetch', async () => {
    const config = { url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' }
    const viaGuard = run(config)
    await expect(viaGuard).rejects.toBeInstanceOf(TerminalError)
    await expect(run(config)).rejects.toThrow(
      'http step: host 169.254.169.254 is blocked (link-local/cloud metadata)',
    )
    await expect(run(config, { fetch: undefined })).rejects.toThrow(
      'http step: host 169.254.169.254 is blocked (link-local/cloud metadata)',
    )
  })

  it('refuses a redirect to the metadata address', async () => {
    server.routes.set('/bounce', () => ({ status: 302, headers: { location: 'http://169.254.169.254/' } }))
    await expect(run({ url: `${server.url}/bounce` }, { fetch: undefined })).rejects.toThrow(
      'http step: redirect to host 169.254.169.254 is blocked (link-local/cloud metadata)',
    )
  })

  it('applies TUGBOAT_HTTP_ALLOWLIST when the engine hands no fetch', async () => {
    server.routes.set('/x', () => ({ body: {} }))
    process.env.TUGBOAT_HTTP_ALLOWLIST = '*.example.com'
    await expect(run({ url: `${server.url}/x` }, { fetch: undefined })).rejects.toThrow(
      'http step: host 127.0.0.1 is blocked (not on the outbound allow-list TUGBOAT_HTTP_ALLOWLIST)',
    )
    process.env.TUGBOAT_HTTP_ALLOWLIST = '*.example.com,127.0.0.0/8'
    expect((await run({ url: `${server.url}/x` }, { fetch: undefined })).status).toBe('Succeeded')
  })
})

describe('http step: response parsing', () => {
  it.each([
    ['JSON', { 'content-type': 'application/json; charset=utf-8' }, '{"a":[1,2]}', undefined, { a: [1, 2] }],
    // YAML 1.1 as Kargo's sigs.k8s.io/yaml reads it: `on` and `yes` are booleans.
    [
      'YAML',
      { 'content-type': 'application/x-yaml' },
      'a:\n  - 1\n  - 2\non: yes\n',
      undefined,
      { a: [1, 2], true: true },
    ],
    ['text', { 'content-type': 'text/plain' }, 'hello', undefined, 'hello'],
    ['unknown type, valid JSON', { 'content-type': 'application/vnd.x' }, '{"a":1}', undefined, { a: 1 }],
    ['unknown type, not JSON', { 'content-type': 'text/html' }, '<html>', undefined, {}],
    ['empty body', { 'content-type': 'application/json' }, '', undefined, {}],
    ['override to text', { 'content-type': 'application/json' }, '{"a":1}', 'text/plain', '{"a":1}'],
    ['override to JSON', { 'content-type': 'text/plain' }, '{"a":1}', 'application/json', { a: 1 }],
  ])('%s', async (_name, headers, body, responseContentType, expected) => {
    server.routes.set('/p', () => ({ headers, body }))
    const result = await run({
      url: `${server.url}/p`,
      ...(responseContentType ? { responseContentType } : {}),
      outputs: [{ name: 'body', fromExpression: 'response.body' }],
    })
    expect(result.output).toEqual({ body: expected })
  })

  it('reports invalid JSON declared as JSON', async () => {
    server.routes.set('/p', () => ({ headers: { 'content-type': 'application/json' }, body: '{nope' }))
    await expect(run({ url: `${server.url}/p` })).rejects.toThrow(/failed to parse JSON response/)
  })
})

describe('http step: config', () => {
  it.each([
    [{ url: 'http://x', body: 'a', bodyFromFile: 'b' }, 'mutually exclusive'],
    [{ url: 'http://x', method: 'OPTIONS' }, 'method'],
    [{ url: 'http://x', timeout: 'soon' }, 'duration'],
    [{ url: 'http://x', extra: true }, 'extra'],
  ])('rejects %j', (config, message) => {
    expect(() => HTTPConfigSchema.parse(config)).toThrow(message)
  })

  it('refuses a proxy (not supported yet) and bodies on GET', async () => {
    await expect(run({ url: `${server.url}/x`, proxy: 'http://proxy:3128' })).rejects.toThrow(
      'proxy is not supported',
    )
    await expect(run({ url: `${server.url}/x`, body: 'x' })).rejects.toThrow(
      'a GET request cannot carry a body',
    )
  })

  it('canonicalises header names and encodes queries like Go', () => {
    expect(canonicalHeaderName('x-request-id')).toBe('X-Request-Id')
    expect(canonicalHeaderName('CONTENT-TYPE')).toBe('Content-Type')
    expect(requestURL('http://h/p?b=2', [{ name: 'a', value: 'x y/z' }], 'http step', new Headers())).toBe(
      'http://h/p?a=x+y%2Fz&b=2',
    )
  })
})
