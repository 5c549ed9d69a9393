import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

/** One request the server received. */
export interface RecordedRequest {
  method: string
  /** Path and query, e.g. `/status?x=1`. */
  url: string
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** What a route answers. `body` objects are sent as JSON (with `application/json` unless a content type is given). */
export interface Reply {
  status?: number
  headers?: Record<string, string | string[]>
  body?: string | Buffer | object
  /** Never answer (for timeout tests). */
  hang?: boolean
}

export type Handler = (request: RecordedRequest, index: number) => Reply | Promise<Reply>

export interface TestHTTPServer {
  /** `http://127.0.0.1:PORT` (or `https://…`). */
  url: string
  port: number
  requests: RecordedRequest[]
  /** Routes by path (without query); the fallback answers 404. Replace entries freely during a test. */
  routes: Map<string, Handler>
  close(): Promise<void>
}

export interface TestHTTPServerOptions {
  /** Serve HTTPS with this key and certificate (see `selfSignedCert`). */
  tls?: { key: string; cert: string }
}

/** Starts a small programmable HTTP(S) server on 127.0.0.1 that records every request. */
export async function startHTTPServer(options: TestHTTPServerOptions = {}): Promise<TestHTTPServer> {
  const requests: RecordedRequest[] = []
  const routes = new Map<string, Handler>()
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void (async () => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(Buffer.from(chunk as Uint8Array))
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      }
      requests.push(recorded)
      const route = routes.get(new URL(recorded.url, 'http://x').pathname)
      const reply: Reply = route
        ? await route(recorded, requests.length - 1)
        : { status: 404, body: 'not found' }
      if (reply.hang) return
      const headers: Record<string, string | string[]> = { ...reply.headers }
      let body: string | Buffer = ''
      if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') body = reply.body
      else if (reply.body !== undefined) {
        body = JSON.stringify(reply.body)
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
          headers['content-type'] = 'application/json'
      }
      res.writeHead(reply.status ?? 200, headers)
      res.end(body)
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(error))
    })
  }
  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    routes,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A throwaway self-signed certificate for 127.0.0.1 / localhost, made with the openssl CLI. */
export async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tugboat-cert-'))
  try {
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    await exec('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ])
    return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
