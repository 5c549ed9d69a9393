import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TerminalError, ValidationError } from '../errors.js'
import { selfSignedCert, startHTTPServer, type TestHTTPServer } from '../../test/support/http-test-server.js'
import {
  BlockedHostError,
  guardedFetch,
  outboundConfigFromEnv,
  type OutboundRequestInit,
} from './outbound.js'

let server: TestHTTPServer
let other: TestHTTPServer

beforeAll(async () => {
  server = await startHTTPServer()
  other = await startHTTPServer()
  server.routes.set('/hello', (req) => ({
    body: { method: req.method, body: req.body.toString(), auth: req.headers.authorization ?? null },
  }))
  server.routes.set('/gzip', () => ({
    headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
    body: gzipSync('compressed hello'),
  }))
  server.routes.set('/to-metadata', () => ({
    status: 302,
    headers: { location: 'http://169.254.169.254/latest/meta-data/' },
  }))
  server.routes.set('/to-hello', () => ({ status: 302, headers: { location: '/hello' } }))
  server.routes.set('/see-other', () => ({ status: 303, headers: { location: '/hello' } }))
  server.routes.set('/loop', () => ({ status: 302, headers: { location: '/loop' } }))
  server.routes.set('/to-other', () => ({ status: 307, headers: { location: `${other.url}/echo` } }))
  server.routes.set('/hang', () => ({ hang: true }))
  other.routes.set('/echo', (req) => ({
    body: { auth: req.headers.authorization ?? null, method: req.method },
  }))
})

afterAll(async () => {
  await server.close()
  await other.close()
})

describe('outboundConfigFromEnv', () => {
  it.each([
    [{}, {}],
    [{ TUGBOAT_HTTP_ALLOWLIST: '' }, {}],
    [
      { TUGBOAT_HTTP_ALLOWLIST: ' *.example.com, 10.0.0.0/8 ,api.github.com,,127.0.0.1' },
      { allowList: ['*.example.com', '10.0.0.0/8', 'api.github.com', '127.0.0.1'] },
    ],
    [{ TUGBOAT_HTTP_BLOCK_PRIVATE: 'true' }, { blockPrivate: true }],
    [{ TUGBOAT_HTTP_BLOCK_PRIVATE: '0' }, { blockPrivate: false }],
  ])('%j → %j', (env, expected) => {
    expect(outboundConfigFromEnv(env)).toEqual(expected)
  })

  it.each([
    [
      { TUGBOAT_HTTP_ALLOWLIST: 'https://example.com' },
      /TUGBOAT_HTTP_ALLOWLIST entry "https:\/\/example.com"/,
    ],
    [{ TUGBOAT_HTTP_ALLOWLIST: '10.0.0.0/99' }, /TUGBOAT_HTTP_ALLOWLIST entry "10.0.0.0\/99"/],
    [{ TUGBOAT_HTTP_BLOCK_PRIVATE: 'yes' }, /TUGBOAT_HTTP_BLOCK_PRIVATE/],
  ])('rejects %j', (env, message) => {
    expect(() => outboundConfigFromEnv(env)).toThrow(ValidationError)
    expect(() => outboundConfigFromEnv(env)).toThrow(message)
  })
})

describe('guardedFetch with the default policy', () => {
  const fetchDefault = guardedFetch()

  it('calls loopback services (allowed by default, for the local runtime and tests)', async () => {
    const response = await fetchDefault(`${server.url}/hello`, {
      method: 'POST',
      body: 'hi',
      headers: { authorization: 'Bearer t' },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.url).toBe(`${server.url}/hello`)
    expect(await response.json()).toEqual({ method: 'POST', body: 'hi', auth: 'Bearer t' })
  })

  it.each([
    [
      'http://169.254.169.254/latest/meta-data/',
      'host 169.254.169.254 is blocked (link-local/cloud metadata)',
    ],
    ['http://2852039166/', 'host 169.254.169.254 is blocked (link-local/cloud metadata)'],
    ['http://[::ffff:169.254.169.254]/', 'host [::ffff:a9fe:a9fe] (resolves to 169.254.169.254) is blocked'],
    ['http://[fe80::1]/', 'host [fe80::1] is blocked (link-local/cloud metadata)'],
    ['http://[fd00:ec2::254]/', 'host [fd00:ec2::254] is blocked (link-local/cloud metadata)'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'host metadata.google.internal is blocked'],
    ['http://169.254.10.1:8080/', 'host 169.254.10.1 is blocked (link-local/cloud metadata)'],
  ])('refuses %s', async (url, message) => {
    const attempt = fetchDefault(url)
    await expect(attempt).rejects.toBeInstanceOf(BlockedHostError)
    await expect(fetchDefault(url)).rejects.toThrow(message)
  })

  it('refuses a name that resolves to a link-local address, checking every address', async () => {
    const resolving = guardedFetch({
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
    })
    await expect(resolving('http://rebind.example/')).rejects.toThrow(
      'host rebind.example (resolves to 169.254.169.254) is blocked (link-local/cloud metadata)',
    )
  })

  it('refuses a redirect to a blocked host', async () => {
    const attempt = fetchDefault(`${server.url}/to-metadata`)
    await expect(attempt).rejects.toBeInstanceOf(TerminalError)
    await expect(fetchDefault(`${server.url}/to-metadata`)).rejects.toThrow(
      'redirect to host 169.254.169.254 is blocked (link-local/cloud metadata)',
    )
  })

  it('follows redirects itself: same origin, 303 → GET, cross-origin drops Authorization', async () => {
    const followed = await fetchDefault(`${server.url}/to-hello`)
    expect(followed.url).toBe(`${server.url}/hello`)
    expect(await followed.json()).toMatchObject({ method: 'GET' })

    const seeOther = await fetchDefault(`${server.url}/see-other`, { method: 'POST', body: 'x' })
    expect(await seeOther.json()).toEqual({ method: 'GET', body: '', auth: null })

    const cross = await fetchDefault(`${server.url}/to-other`, {
      method: 'PUT',
      body: 'x',
      headers: { authorization: 'Bearer secret' },
    })
    expect(await cross.json()).toEqual({ auth: null, method: 'PUT' })
  })

  it('stops after 5 redirects', async () => {
    const before = server.requests.length
    await expect(fetchDefault(`${server.url}/loop`)).rejects.toThrow('too many redirects (more than 5)')
    expect(server.requests.length - before).toBe(6)
  })

  it('returns the redirect itself with redirect: manual', async () => {
    const response = await fetchDefault(`${server.url}/to-metadata`, { redirect: 'manual' })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/')
  })

  it('decodes gzip bodies as fetch does', async () => {
    const response = await fetchDefault(`${server.url}/gzip`, { headers: { 'accept-encoding': 'gzip' } })
    expect(await response.text()).toBe('compressed hello')
  })

  it('rejects with the signal reason on timeout', async () => {
    const attempt = fetchDefault(`${server.url}/hang`, { signal: AbortSignal.timeout(100) })
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' })
  })

  it('rejects like fetch when nothing listens', async () => {
    const closed = await startHTTPServer()
    await closed.close()
    await expect(fetchDefault(`${closed.url}/`)).rejects.toThrow('fetch failed')
  })
})

describe('guardedFetch with an allow-list', () => {
  it.each([
    [['127.0.0.1/32'], true],
    [['127.0.0.0/8', '*.example.com'], true],
    [['*.example.com'], false],
    [['localhost'], false],
  ])('allow-list %j lets 127.0.0.1 through: %s', async (allowList, allowed) => {
    const attempt = guardedFetch({ allowList })(`${server.url}/hello`)
    if (allowed) expect((await attempt).status).toBe(200)
    else
      await expect(attempt).rejects.toThrow(
        'host 127.0.0.1 is blocked (not on the outbound allow-list TUGBOAT_HTTP_ALLOWLIST)',
      )
  })

  it('matches host globs and connects to the address it checked', async () => {
    // `api.tugboat.example` does not exist in DNS: reaching the server proves the checked address was used.
    const pinned = guardedFetch({
      allowList: ['*.tugboat.example'],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    })
    const response = await pinned(`http://api.tugboat.example:${server.port}/hello`)
    expect(response.status).toBe(200)
    expect(server.requests.at(-1)?.headers.host).toBe(`api.tugboat.example:${server.port}`)
    await expect(pinned(`http://tugboat.example:${server.port}/hello`)).rejects.toThrow(
      'not on the outbound allow-list',
    )
  })

  it('never lets an allow-list open the metadata endpoint', async () => {
    await expect(guardedFetch({ allowList: ['169.254.0.0/16'] })('http://169.254.169.254/')).rejects.toThrow(
      'link-local/cloud metadata',
    )
  })
})

describe('guardedFetch with blockPrivate', () => {
  it('refuses loopback and private addresses unless a CIDR names them', async () => {
    await expect(guardedFetch({ blockPrivate: true })(`${server.url}/hello`)).rejects.toThrow(
      'host 127.0.0.1 is blocked (loopback)',
    )
    const privateName = guardedFetch({
      blockPrivate: true,
      resolve: async () => [{ address: '10.1.2.3', family: 4 }],
    })
    await expect(privateName('http://intranet.example/')).rejects.toThrow(
      'host intranet.example (resolves to 10.1.2.3) is blocked (private network)',
    )
    const listed = await guardedFetch({ blockPrivate: true, allowList: ['127.0.0.1'] })(`${server.url}/hello`)
    expect(listed.status).toBe(200)
  })
})

describe('guardedFetch over TLS', () => {
  let tlsServer: TestHTTPServer
  beforeAll(async () => {
    tlsServer = await startHTTPServer({ tls: await selfSignedCert() })
    tlsServer.routes.set('/secure', () => ({ body: { ok: true } }))
  })
  afterAll(async () => {
    await tlsServer.close()
  })

  it('verifies certificates unless insecureSkipTLSVerify is set', async () => {
    const fetchTLS = guardedFetch()
    await expect(fetchTLS(`${tlsServer.url}/secure`)).rejects.toThrow('fetch failed')
    const init: OutboundRequestInit = { insecureSkipTLSVerify: true }
    const response = await fetchTLS(`${tlsServer.url}/secure`, init)
    expect(await response.json()).toEqual({ ok: true })
  })
})
