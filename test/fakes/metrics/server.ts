import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'

/** A request a fake received. */
export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: string
}

export type Handler = (
  request: RecordedRequest,
) => Promise<{ status: number; headers?: Record<string, string>; body: string }>

export interface ListeningServer {
  url: string
  /** Stops accepting connections; the port is free again, so requests fail with ECONNREFUSED. */
  close(): Promise<void>
}

/** Starts an HTTP (or, with `tls`, HTTPS) server on 127.0.0.1 and a random port. */
export async function listen(
  handler: Handler,
  tls?: { key: string; cert: string },
): Promise<ListeningServer> {
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      handler(recorded).then(
        (reply) => {
          res.writeHead(reply.status, reply.headers ?? {})
          res.end(reply.body)
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(error instanceof Error ? error.message : String(error))
        },
      )
    })
  }
  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert }, listener)
    : http.createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  let closed = false
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    async close() {
      if (closed) return
      closed = true
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
