import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifySignature } from '../../lib/events/signature.js'

/** One request the sink received. */
export interface SinkRequest {
  method: string
  path: string
  headers: Record<string, string>
  body: string
  /** With a `secret`: whether X-Tugboat-Signature-256 matched the raw body. */
  signatureValid?: boolean
  /** The status the sink answered. */
  status: number
  receivedAt: number
}

export interface HttpSink {
  /** `http://127.0.0.1:<port>`; any path is accepted. */
  url: string
  requests: SinkRequest[]
  /** Answer the next `count` requests with `status` (default 500), then 200 again. */
  failNext(count: number, status?: number): void
  /** Answer every request with `status` from now on (until `failNext`/`reset`). */
  failAlways(status?: number): void
  reset(): void
  /** Resolves once `predicate(requests)` holds, polling; rejects after `timeoutMs`. */
  waitFor(predicate: (requests: SinkRequest[]) => boolean, timeoutMs?: number): Promise<SinkRequest[]>
  close(): Promise<void>
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/**
 * A real HTTP receiver on 127.0.0.1 that records requests, checks HMAC signatures with `secret` (and answers 401
 * to a bad one when `rejectBadSignatures`), and can be told to fail.
 */
export async function startHttpSink(
  options: { secret?: string; rejectBadSignatures?: boolean } = {},
): Promise<HttpSink> {
  const requests: SinkRequest[] = []
  let failuresLeft = 0
  let failStatus = 500
  let always: number | undefined
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === 'string') headers[name] = value
      const signatureValid =
        options.secret === undefined
          ? undefined
          : verifySignature(options.secret, body, headers['x-tugboat-signature-256'])
      let status = 200
      if (options.rejectBadSignatures && signatureValid === false) status = 401
      else if (always !== undefined) status = always
      else if (failuresLeft > 0) {
        failuresLeft--
        status = failStatus
      }
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        body,
        ...(signatureValid === undefined ? {} : { signatureValid }),
        status,
        receivedAt: Date.now(),
      })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: status < 300 }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, status = 500) {
      always = undefined
      failuresLeft = count
      failStatus = status
    },
    failAlways(status = 500) {
      always = status
    },
    reset() {
      always = undefined
      failuresLeft = 0
    },
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(requests)) {
        if (Date.now() > deadline)
          throw new Error(
            `http sink: condition not met within ${timeoutMs} ms (${requests.length} request(s) so far)`,
          )
        await new Promise((r) => setTimeout(r, 25))
      }
      return requests
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
