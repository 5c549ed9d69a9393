import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { startFakeWebMetric, type FakeWebMetric } from '../../../test/fakes/metrics/web.js'
import { checkWebMetric, measureWeb, parseWebResponse } from './web.js'

let fake: FakeWebMetric

beforeEach(async () => {
  fake = await startFakeWebMetric()
})
afterEach(async () => {
  await fake.close()
})

describe('measureWeb against a real endpoint', () => {
  it.each([
    [{ status: 'ok' }, '{$.status}', 'ok', '"ok"'],
    [{ data: { ok: true, successPercent: 0.95 } }, '{$.data.ok}', true, 'true'],
    [
      { data: { ok: true, successPercent: 0.95 } },
      '{$.data}',
      { ok: true, successPercent: 0.95 },
      '{"ok":true,"successPercent":0.95}',
    ],
    [{ items: [{ v: 7 }, { v: 8 }] }, '{$.items[*].v}', 7, '7'],
    [{ items: [{ v: 7 }, { v: 8 }] }, '{$.items[1].v}', 8, '8'],
    [{ html: '<b>&</b>' }, '{$.html}', '<b>&</b>', '"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"'],
    [[1, 2], undefined, [1, 2], '[1,2]'],
    [null, '{$}', null, 'null'],
  ])('%j at %s → %j (%s)', async (json, jsonPath, value, display) => {
    fake.respond('/m', { json })
    const outcome = await measureWeb({ url: `${fake.url}/m`, ...(jsonPath ? { jsonPath } : {}) })
    expect(outcome).toEqual({ ok: true, value, display })
  })

  it('uses a plain-text body as the value, whatever the jsonPath', async () => {
    fake.respond('/health', { text: 'I am OK' })
    expect(await measureWeb({ url: `${fake.url}/health`, jsonPath: '{$.x}' })).toEqual({
      ok: true,
      value: 'I am OK',
      display: 'I am OK',
    })
    fake.respond('/empty', { text: '' })
    expect(await measureWeb({ url: `${fake.url}/empty` })).toEqual({ ok: true, value: '', display: '' })
  })

  it('sends GET by default with the headers, and POST with a JSON body and its content type', async () => {
    fake.respond('/m', { json: { ok: true } })
    await measureWeb({
      url: `${fake.url}/m?service=checkout`,
      headers: [
        { key: 'Authorization', value: 'Bearer one' },
        { key: 'authorization', value: 'Bearer two' },
        { key: 'X-Scope', value: 'a' },
      ],
    })
    await measureWeb({
      url: `${fake.url}/m`,
      method: 'POST',
      headers: [{ key: 'Content-Type', value: 'text/plain' }],
      jsonBody: { key1: 'value_1', key2: { nested: [1, 'two'] } },
    })
    await measureWeb({ url: `${fake.url}/m`, method: 'PUT', body: 'raw text' })
    const [get, post, put] = fake.requests
    expect(get).toMatchObject({ method: 'GET', path: '/m', body: '' })
    expect(get?.query.get('service')).toBe('checkout')
    expect(get?.headers.authorization).toBe('Bearer two')
    expect(get?.headers['x-scope']).toBe('a')
    expect(post).toMatchObject({ method: 'POST', body: '{"key1":"value_1","key2":{"nested":[1,"two"]}}' })
    expect(post?.headers['content-type']).toBe('application/json')
    expect(put).toMatchObject({ method: 'PUT', body: 'raw text' })
  })

  it.each([
    [{ status: 500, json: { error: 'boom' } }, undefined, 'received non 2xx response code: 500'],
    [{ status: 404, text: 'nope' }, undefined, 'received non 2xx response code: 404'],
    [
      { status: 302, headers: { location: '/missing' }, text: '' },
      undefined,
      'received non 2xx response code: 404',
    ],
    [{ json: { a: 1 } }, '{$.b}', 'Could not find JSONPath in body: b is not found'],
    [{ json: { a: [] } }, '{$.a[*]}', 'result of web metric produced no value'],
  ])('%j at %s is an error: %s', async (reply, jsonPath, message) => {
    fake.respond('/m', reply)
    expect(await measureWeb({ url: `${fake.url}/m`, ...(jsonPath ? { jsonPath } : {}) })).toEqual({
      ok: false,
      message,
    })
  })

  it('gives up after timeoutSeconds', async () => {
    fake.respond('/slow', { json: { ok: true }, delayMs: 3000 })
    const started = Date.now()
    const outcome = await measureWeb({ url: `${fake.url}/slow?token=secret`, timeoutSeconds: 1 })
    expect(Date.now() - started).toBeLessThan(2500)
    expect(outcome).toEqual({
      ok: false,
      message: `GET ${fake.url}/slow: no complete response within 1s (timeout)`,
    })
  })

  it('reports a server that is down without the query string', async () => {
    await fake.close()
    const outcome = await measureWeb({ url: `${fake.url}/m?token=secret` })
    expect(outcome.ok).toBe(false)
    if (!outcome.ok) {
      expect(outcome.message).toMatch(new RegExp(`^GET ${fake.url}/m: .*ECONNREFUSED`))
      expect(outcome.message).not.toContain('secret')
    }
  })

  it('goes through the injected fetch', async () => {
    const seen: string[] = []
    const outcome = await measureWeb(
      { url: 'http://metrics.invalid/x', jsonPath: '{$.v}' },
      {
        fetch: async (url, init) => {
          seen.push(`${init.method} ${url}`)
          return new Response('{"v": 1}', { status: 200 })
        },
      },
    )
    expect(outcome).toEqual({ ok: true, value: 1, display: '1' })
    expect(seen).toEqual(['GET http://metrics.invalid/x'])
  })
})

describe('checkWebMetric', () => {
  it.each([
    [{ url: 'not a url' }, 'not an absolute URL'],
    [{ url: 'ftp://x/y' }, 'http or https'],
    [{ url: 'http://x', body: 'b' }, 'POST or PUT'],
    [{ url: 'http://x', jsonBody: { a: 1 } }, 'POST or PUT'],
    [{ url: 'http://x', method: 'POST' as const, body: 'b', jsonBody: { a: 1 } }, 'either body or jsonBody'],
    [{ url: 'http://x', jsonPath: '$.a' }, 'braces'],
    [{ url: 'http://x', headers: [{ key: 'bad header', value: 'v' }] }, 'headers'],
  ])('%j is refused (%s)', (web, message) => {
    expect(() => checkWebMetric(web)).toThrow(ValidationError)
    expect(() => checkWebMetric(web)).toThrow(message)
  })
})

describe('parseWebResponse', () => {
  it('treats a body that is not valid JSON as text', () => {
    expect(parseWebResponse('{"a":', '{$.a}')).toEqual({ ok: true, value: '{"a":', display: '{"a":' })
    expect(parseWebResponse(' 1.5 ', '')).toEqual({ ok: true, value: 1.5, display: '1.5' })
  })
})

describe('insecure: true', () => {
  let dir: string
  let tls: FakeWebMetric | undefined

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tugboat-webmetric-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      )
    } catch {
      return
    }
    tls = await startFakeWebMetric({
      tls: {
        key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
        cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      },
    })
  })
  afterAll(async () => {
    await tls?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses a self-signed certificate unless insecure is set', async (ctx) => {
    if (!tls) return ctx.skip()
    tls.respond('/m', { json: { ok: true } })
    tls.respond('/redirect', { status: 302, headers: { location: '/m' }, text: '' })
    const strict = await measureWeb({ url: `${tls.url}/m`, jsonPath: '{$.ok}' })
    expect(strict.ok).toBe(false)
    expect(await measureWeb({ url: `${tls.url}/m`, jsonPath: '{$.ok}', insecure: true })).toEqual({
      ok: true,
      value: true,
      display: 'true',
    })
    expect(await measureWeb({ url: `${tls.url}/redirect`, jsonPath: '{$.ok}', insecure: true })).toEqual({
      ok: true,
      value: true,
      display: 'true',
    })
    const post = await measureWeb({ url: `${tls.url}/m`, method: 'POST', jsonBody: { a: 1 }, insecure: true })
    expect(post.ok).toBe(true)
    expect(tls.requests.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' })
  })
})
