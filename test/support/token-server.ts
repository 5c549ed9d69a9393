import { execFile } from 'node:child_process'
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TokenServerOptions {
  /** username → password. Authenticated users get every action they ask for. */
  users?: Record<string, string>
  /** Grant `pull` to anonymous requests (default false: anonymous tokens carry no access). */
  anonymousPull?: boolean
  /** The `service` the registry names in its challenge (default `tugboat-test-registry`). */
  service?: string
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number
}

/** One request the token server answered. */
export interface TokenRequest {
  user?: string
  service?: string
  scopes: string[]
  status: number
}

export interface TokenServer {
  /** The realm to put in the registry's config: `http://127.0.0.1:PORT/token`. */
  realm: string
  service: string
  issuer: string
  /** PEM file of the self-signed certificate whose key signs the tokens (Distribution's `rootcertbundle`). */
  rootCertBundle: string
  requests: TokenRequest[]
  close(): Promise<void>
}

/**
 * A token server written to Docker's token authentication spec: Basic-authenticated (or anonymous) GET
 * `/token?service=…&scope=repository:<name>:<actions>` answers `{token, access_token, expires_in, issued_at}`, the token
 * being an RS256 JWT with an `x5c` header carrying a self-signed certificate that the registry trusts.
 */
export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tugboat-token-'))
  const keyPath = join(dir, 'key.pem')
  const certPath = join(dir, 'cert.pem')
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=tugboat-test-token-issuer',
  ])
  const key = createPrivateKey(await readFile(keyPath))
  const certDER = new X509Certificate(await readFile(certPath)).raw.toString('base64')
  const service = options.service ?? 'tugboat-test-registry'
  const issuer = 'tugboat-test-token-issuer'
  const users = options.users ?? {}
  const expiresIn = options.expiresIn ?? 300
  const requests: TokenRequest[] = []

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET' || url.pathname !== '/token') {
      res.writeHead(404).end()
      return
    }
    const scopes = url.searchParams.getAll('scope')
    const requestedService = url.searchParams.get('service') ?? undefined
    let user: string | undefined
    const authorization = req.headers.authorization
    if (authorization) {
      const match = /^Basic\s+(.+)$/i.exec(authorization)
      const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString() : ''
      const colon = decoded.indexOf(':')
      const name = decoded.slice(0, colon)
      if (colon < 0 || users[name] === undefined || users[name] !== decoded.slice(colon + 1)) {
        requests.push({ user: name, service: requestedService, scopes, status: 401 })
        res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="token"' })
        res.end(
          JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }),
        )
        return
      }
      user = name
    }
    const access = scopes.flatMap((scope) => {
      const parts = scope.split(':')
      if (parts.length < 3) return []
      const type = parts[0] ?? ''
      const actions = (parts[parts.length - 1] ?? '').split(',').filter(Boolean)
      const name = parts.slice(1, -1).join(':')
      const granted =
        user !== undefined ? actions : options.anonymousPull ? actions.filter((a) => a === 'pull') : []
      return granted.length > 0 ? [{ type, name, actions: granted }] : []
    })
    const now = Math.floor(Date.now() / 1000)
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDER] }
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: requestedService ?? service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    }
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    const signature = sign('sha256', Buffer.from(signingInput), key).toString('base64url')
    const token = `${signingInput}.${signature}`
    requests.push({ ...(user ? { user } : {}), service: requestedService, scopes, status: 200 })
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date(now * 1000).toISOString(),
      }),
    )
  }

  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certPath,
    requests,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url')
}
