import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { MediaTypes } from '../../lib/discovery/oci/manifest.js'
import { RegistryClient, sha256Digest } from '../../lib/discovery/oci/registry-client.js'
import type { Credentials } from '../../lib/discovery/types.js'
import { freePort } from '../../lib/local/ports.js'
import type { TokenServer } from './token-server.js'

const run = promisify(execFile)

/** Re-exported for the discovery tests that take it from here. */
export { freePort }

export interface StartRegistryOptions {
  /** Protect the registry with htpasswd (bcrypt) basic auth for this one user. */
  htpasswd?: Credentials
  /** Protect the registry with Docker token auth issued by this token server; `pushCredentials` is a user it knows. */
  tokenAuth?: TokenServer & { pushCredentials?: Credentials }
}

/** A running CNCF Distribution registry (`docker-registry serve`) on 127.0.0.1. */
export interface Registry {
  /** `127.0.0.1:PORT`: the registry part of an image repoURL. */
  host: string
  /** `http://127.0.0.1:PORT`. */
  url: string
  /** Credentials `pushImage` uses (the htpasswd user, or the token user). */
  credentials?: Credentials
  /** The registry's stderr so far, for diagnosing a failed test. */
  logs(): string
  close(): Promise<void>
}

/** Starts `docker-registry serve` with filesystem storage in a temp dir, waits until `/v2/` answers. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<Registry> {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options)
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}

async function startOnce(options: StartRegistryOptions): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'tugboat-registry-'))
  const port = await freePort()
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: tugboat-test-secret',
  ]
  let credentials: Credentials | undefined
  if (options.htpasswd) {
    const { stdout } = await run('htpasswd', ['-Bbn', options.htpasswd.username, options.htpasswd.password])
    await writeFile(join(dir, 'htpasswd'), stdout)
    lines.push('auth:', '  htpasswd:', '    realm: tugboat-test', `    path: ${join(dir, 'htpasswd')}`)
    credentials = options.htpasswd
  } else if (options.tokenAuth) {
    const t = options.tokenAuth
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`,
    )
    credentials = t.pushCredentials
  }
  const configPath = join(dir, 'config.yml')
  await writeFile(configPath, lines.join('\n') + '\n')

  const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000)
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  try {
    await waitReady(url, child, exited, () => stderr)
  } catch (error) {
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    ...(credentials ? { credentials } : {}),
    logs: () => stderr,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function waitReady(
  url: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  logs: () => string,
): Promise<void> {
  let done = false
  void exited.then(() => {
    done = true
  })
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (done || child.exitCode !== null) throw new Error(`docker-registry exited early: ${logs()}`)
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200 || response.status === 401) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`docker-registry did not become ready: ${logs()}`)
}

export interface PushImageOptions {
  /** Push a multi-arch index with one image per platform (`linux/amd64`, `linux/arm/v7`). */
  platforms?: string[]
  /** The config's `created` (default now). */
  created?: Date | string
  /** `oci` (default) or `docker` (Docker v2 manifest / manifest list media types). */
  format?: 'oci' | 'docker'
  /** Annotations on the manifest (or the index, for multi-arch). */
  annotations?: Record<string, string>
  /** Overrides the registry's credentials. */
  credentials?: Credentials
  /** Makes the content unique even when everything else is equal (default: repo + tag + created). */
  salt?: string
}

/** Pushes a tiny image (or multi-arch index) with plain Distribution API uploads; returns the tag's digest. */
export async function pushImage(
  registry: Registry,
  repository: string,
  tag: string,
  options: PushImageOptions = {},
): Promise<string> {
  const client = pusher(registry, options.credentials)
  const created =
    options.created === undefined ? new Date().toISOString() : new Date(options.created).toISOString()
  const docker = options.format === 'docker'
  const salt = options.salt ?? `${repository}:${tag}:${created}`
  const pushOne = async (
    platform: string | undefined,
    reference: string | undefined,
    annotations?: Record<string, string>,
  ) => {
    const [os = 'linux', architecture = 'amd64', variant] = (platform ?? 'linux/amd64').split('/')
    const layer = new TextEncoder().encode(`tugboat test layer ${salt} ${platform ?? ''}`)
    const layerDigest = await uploadBlob(client, repository, layer)
    const config = JSON.stringify({
      created,
      architecture,
      os,
      ...(variant ? { variant } : {}),
      config: { Labels: { 'org.example.tag': tag } },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
    })
    const configDigest = await uploadBlob(client, repository, config)
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest,
      config: {
        mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig,
        digest: configDigest,
        size: byteLength(config),
      },
      layers: [
        {
          mediaType: docker
            ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
            : 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: layerDigest,
          size: layer.byteLength,
        },
      ],
      ...(annotations ? { annotations } : {}),
    }
    const body = JSON.stringify(manifest)
    // Per-platform manifests of an index are pushed by digest, untagged.
    const digest = await putManifest(
      client,
      repository,
      reference ?? sha256Digest(body),
      manifest.mediaType,
      body,
    )
    return { digest, size: byteLength(body), mediaType: manifest.mediaType, os, architecture, variant }
  }
  if (!options.platforms) {
    return (await pushOne(undefined, tag, options.annotations)).digest
  }
  const entries = []
  for (const platform of options.platforms) {
    const pushed = await pushOne(platform, undefined)
    entries.push(pushed)
  }
  const index = {
    schemaVersion: 2,
    mediaType: docker ? MediaTypes.dockerList : MediaTypes.ociIndex,
    manifests: entries.map((e) => ({
      mediaType: e.mediaType,
      digest: e.digest,
      size: e.size,
      platform: { os: e.os, architecture: e.architecture, ...(e.variant ? { variant: e.variant } : {}) },
    })),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  }
  return putManifest(client, repository, tag, index.mediaType, JSON.stringify(index))
}

/** Pushes an arbitrary manifest (e.g. a Helm chart's) with one config blob and one layer; returns its digest. */
export async function pushArtifact(
  registry: Registry,
  repository: string,
  tag: string,
  artifact: {
    configMediaType: string
    config: string
    layerMediaType: string
    layer: Uint8Array
    artifactType?: string
    annotations?: Record<string, string>
  },
  credentials?: Credentials,
): Promise<string> {
  const client = pusher(registry, credentials)
  const configDigest = await uploadBlob(client, repository, artifact.config)
  const layerDigest = await uploadBlob(client, repository, artifact.layer)
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    ...(artifact.artifactType ? { artifactType: artifact.artifactType } : {}),
    config: { mediaType: artifact.configMediaType, digest: configDigest, size: byteLength(artifact.config) },
    layers: [{ mediaType: artifact.layerMediaType, digest: layerDigest, size: artifact.layer.byteLength }],
    ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
  }
  return putManifest(client, repository, tag, MediaTypes.ociManifest, JSON.stringify(manifest))
}

function pusher(registry: Registry, credentials: Credentials | undefined): RegistryClient {
  const creds = credentials ?? registry.credentials
  return new RegistryClient({ host: registry.host, ...(creds ? { credentials: creds } : {}) })
}

async function uploadBlob(
  client: RegistryClient,
  repository: string,
  content: Uint8Array | string,
): Promise<string> {
  const digest = sha256Digest(content)
  const opts = { repository, kind: 'upload' as const, actions: ['pull', 'push'] }
  const head = await client.send('HEAD', `/v2/${repository}/blobs/${digest}`, {
    ...opts,
    passStatuses: [404],
  })
  if (head.status === 200) return digest
  const start = await client.send('POST', `/v2/${repository}/blobs/uploads/`, opts)
  await start.arrayBuffer()
  const location = start.headers.get('location')
  if (!location) throw new Error('registry gave no upload location')
  const target = new URL(location, client.baseURL)
  target.searchParams.set('digest', digest)
  const put = await client.send('PUT', target.pathname + target.search, {
    ...opts,
    headers: { 'Content-Type': 'application/octet-stream' },
    body: typeof content === 'string' ? new TextEncoder().encode(content) : content,
  })
  await put.arrayBuffer()
  return digest
}

async function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  mediaType: string,
  body: string,
): Promise<string> {
  const response = await client.send('PUT', `/v2/${repository}/manifests/${reference}`, {
    repository,
    kind: 'upload',
    actions: ['pull', 'push'],
    headers: { 'Content-Type': mediaType },
    body: new TextEncoder().encode(body),
  })
  await response.arrayBuffer()
  return response.headers.get('docker-content-digest') ?? sha256Digest(body)
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength
}

/** A request the front saw. */
export interface FrontRequest {
  method: string
  /** Path and query, e.g. `/v2/demo/app/tags/list?n=5`. */
  path: string
}

/** What an interceptor answers instead of the registry. */
export interface FrontReply {
  status: number
  headers?: Record<string, string>
  body?: string
}

export interface RegistryFrontOptions {
  /**
   * Paginate `tags/list` as the Distribution spec describes (`?n=` and `?last=`, `Link: <…>; rel="next"`), with this page
   * size when the client sends no `n`. Distribution 2.8 itself ignores `n`.
   */
  tagPageSize?: number
  /** Answer a request here instead of forwarding it (e.g. a 429 with `Retry-After`); return undefined to forward. */
  intercept?: (request: FrontRequest, index: number) => FrontReply | undefined
}

/** A small HTTP front on 127.0.0.1 forwarding to a registry, to add what Distribution 2.8 lacks (tag pagination) or to inject faults. */
export interface RegistryFront {
  host: string
  url: string
  requests: FrontRequest[]
  close(): Promise<void>
}

/** Starts a front for `upstream` (see `RegistryFrontOptions`). */
export async function startRegistryFront(
  upstream: Registry,
  options: RegistryFrontOptions = {},
): Promise<RegistryFront> {
  const { createServer: createHTTPServer } = await import('node:http')
  const requests: FrontRequest[] = []
  const server = createHTTPServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/'
      const request = { method: req.method ?? 'GET', path }
      requests.push(request)
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const intercepted = options.intercept?.(request, requests.length - 1)
      if (intercepted) {
        res.writeHead(intercepted.status, intercepted.headers ?? {}).end(intercepted.body ?? '')
        return
      }
      const headers: Record<string, string> = {}
      for (const [key, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(key))
          headers[key] = value
      }
      const url = new URL(path, 'http://front')
      const tagList = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname)
      if (tagList && options.tagPageSize !== undefined && request.method === 'GET') {
        const upstreamResponse = await fetch(`${upstream.url}${url.pathname}`, { headers })
        const text = await upstreamResponse.text()
        if (!upstreamResponse.ok) {
          res.writeHead(upstreamResponse.status, pickHeaders(upstreamResponse.headers)).end(text)
          return
        }
        const parsed: unknown = JSON.parse(text)
        const all =
          typeof parsed === 'object' && parsed !== null && 'tags' in parsed && Array.isArray(parsed.tags)
            ? parsed.tags.filter((t): t is string => typeof t === 'string').sort()
            : []
        const n = Number(url.searchParams.get('n') ?? options.tagPageSize)
        const last = url.searchParams.get('last')
        const rest = last === null ? all : all.filter((t) => t > last)
        const page = rest.slice(0, n)
        const out: Record<string, string> = { 'Content-Type': 'application/json' }
        if (rest.length > page.length) {
          out.Link = `</v2/${tagList[1]}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1] ?? '')}>; rel="next"`
        }
        res.writeHead(200, out).end(JSON.stringify({ name: tagList[1], tags: page }))
        return
      }
      const upstreamResponse = await fetch(`${upstream.url}${path}`, {
        method: request.method,
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        redirect: 'manual',
      })
      const body = Buffer.from(await upstreamResponse.arrayBuffer())
      res
        .writeHead(upstreamResponse.status, pickHeaders(upstreamResponse.headers))
        .end(request.method === 'HEAD' ? undefined : body)
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    host: `127.0.0.1:${address.port}`,
    url: `http://127.0.0.1:${address.port}`,
    requests,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function pickHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  headers.forEach((value, key) => {
    if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(key))
      out[key] = value
  })
  return out
}
