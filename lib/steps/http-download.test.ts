import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError, UpstreamError } from '../errors.js'
import { guardedFetch } from '../net/outbound.js'
import { startHTTPServer, type TestHTTPServer } from '../../test/support/http-test-server.js'
import { HTTPDownloadConfigSchema, httpDownload, writeAtomically } from './http-download.js'
import type { StepContext, StepResult } from './types.js'

let server: TestHTTPServer
let workDir: string
const payload = randomBytes(1 << 20)

beforeAll(async () => {
  server = await startHTTPServer()
  server.routes.set('/chart.tgz', () => ({ headers: { 'content-type': 'application/gzip' }, body: payload }))
  server.routes.set('/private', (req) =>
    req.headers.authorization === 'Bearer t0k3n' ? { body: 'secret data' } : { status: 401, body: 'no' },
  )
  server.routes.set('/missing', () => ({ status: 404, body: 'not here' }))
  server.routes.set('/huge', () => ({ headers: { 'content-length': String(200 << 20) }, body: '' }))
  server.routes.set('/slow', () => ({ hang: true }))
})
afterAll(async () => {
  await server.close()
})
beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'http-download-'))
})

function context(overrides: Partial<StepContext> = {}): StepContext {
  return {
    project: 'demo',
    stage: 'test',
    promotion: 'test.01hx.abc',
    workDir,
    alias: 'download',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
    fetch: guardedFetch(),
    ...overrides,
  }
}

async function run(config: unknown, overrides: Partial<StepContext> = {}): Promise<StepResult> {
  return httpDownload.run(context(overrides), HTTPDownloadConfigSchema.parse(config))
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.includes('.tmp-'))
}

describe('http-download', () => {
  it('streams the body to outPath, creating directories, leaving no temporary file', async () => {
    const result = await run({ url: `${server.url}/chart.tgz`, outPath: 'charts/demo/chart.tgz' })
    expect(result).toEqual({ status: 'Succeeded' })
    const file = path.join(workDir, 'charts/demo/chart.tgz')
    expect(fs.readFileSync(file).equals(payload)).toBe(true)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(leftovers(path.dirname(file))).toEqual([])
  })

  it('refuses to overwrite unless allowOverwrite', async () => {
    fs.writeFileSync(path.join(workDir, 'out.bin'), 'old')
    const attempt = run({ url: `${server.url}/chart.tgz`, outPath: 'out.bin' })
    await expect(attempt).rejects.toThrow(
      new TerminalError('http-download step: file already exists at out.bin and overwrite is not allowed'),
    )
    await run({ url: `${server.url}/chart.tgz`, outPath: 'out.bin', allowOverwrite: true })
    expect(fs.readFileSync(path.join(workDir, 'out.bin')).equals(payload)).toBe(true)
  })

  it('sends headers and query parameters', async () => {
    await run({
      url: `${server.url}/private?v=1`,
      outPath: 'secret.txt',
      headers: [{ name: 'Authorization', value: 'Bearer t0k3n' }],
      queryParams: [{ name: 'ref', value: 'main' }],
    })
    expect(fs.readFileSync(path.join(workDir, 'secret.txt'), 'utf8')).toBe('secret data')
    expect(server.requests.at(-1)?.url).toBe('/private?ref=main&v=1')
  })

  it('a non-2xx answer is a retryable error and writes nothing', async () => {
    const attempt = run({ url: `${server.url}/missing`, outPath: 'x/missing.txt' })
    await expect(attempt).rejects.toBeInstanceOf(UpstreamError)
    await expect(run({ url: `${server.url}/missing`, outPath: 'x/missing.txt' })).rejects.toThrow(
      'http-download step: HTTP request failed with status 404',
    )
    expect(fs.existsSync(path.join(workDir, 'x/missing.txt'))).toBe(false)
  })

  it('refuses a download declared larger than 100 MiB', async () => {
    await expect(run({ url: `${server.url}/huge`, outPath: 'huge.bin' })).rejects.toThrow(
      'http-download step: download exceeds limit of 104857600 bytes',
    )
  })

  it('stops streaming past the limit and removes the partial file', async () => {
    const target = path.join(workDir, 'partial.bin')
    const body = new Response(randomBytes(4096)).body
    await expect(writeAtomically({ target, body, limit: 1000, label: 'test' })).rejects.toThrow(
      'test: download exceeds limit of 1000 bytes',
    )
    expect(fs.readdirSync(workDir)).toEqual([])
  })

  it('keeps outPath inside the workspace', async () => {
    await expect(run({ url: `${server.url}/chart.tgz`, outPath: '../escape.bin' })).rejects.toThrow(
      'escapes the promotion workspace',
    )
  })

  it('refuses the cloud metadata address', async () => {
    await expect(
      run({ url: 'http://169.254.169.254/latest/user-data', outPath: 'user-data' }, { fetch: undefined }),
    ).rejects.toThrow('http-download step: host 169.254.169.254 is blocked (link-local/cloud metadata)')
  })

  it('times out as configured', async () => {
    await expect(run({ url: `${server.url}/slow`, outPath: 'slow.bin', timeout: '150ms' })).rejects.toThrow(
      'http-download step: error sending HTTP request: timed out after 150 ms',
    )
  })
})
