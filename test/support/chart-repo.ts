import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { stringify } from 'yaml'
import { MediaTypes } from '../../lib/discovery/oci/manifest.js'
import type { Credentials } from '../../lib/discovery/types.js'
import { pushArtifact, type Registry } from './registry.js'

export interface ChartRepoOptions {
  /** chart name → versions, written to index.yaml in the given order. */
  charts?: Record<string, string[]>
  /** Require basic auth. */
  auth?: Credentials
}

export interface ChartRepo {
  /** `http://127.0.0.1:PORT/charts` (the repository URL, without `/index.yaml`). */
  url: string
  /** Paths requested, in order. */
  requests: string[]
  /** Replaces the served charts. */
  setCharts(charts: Record<string, string[]>): void
  /** The index.yaml currently served. */
  index(): string
  close(): Promise<void>
}

/** A classic (static HTTP) Helm chart repository serving a generated `index.yaml` under `/charts`. */
export async function startChartRepo(options: ChartRepoOptions = {}): Promise<ChartRepo> {
  let charts = options.charts ?? {}
  const requests: string[] = []
  let base = ''
  const render = (): string => {
    const entries: Record<string, unknown[]> = {}
    for (const [name, versions] of Object.entries(charts)) {
      entries[name] = versions.map((version) => ({
        apiVersion: 'v2',
        name,
        version,
        appVersion: version,
        created: '2024-01-01T00:00:00Z',
        digest: '0'.repeat(64),
        urls: [`${base}/${name}-${version}.tgz`],
      }))
    }
    return stringify({ apiVersion: 'v1', entries, generated: '2024-01-01T00:00:00Z' })
  }
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push(req.url ?? '')
    if (options.auth) {
      const expected = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="charts"' }).end()
        return
      }
    }
    if (req.method === 'GET' && req.url === '/charts/index.yaml') {
      res.writeHead(200, { 'Content-Type': 'application/x-yaml' }).end(render())
      return
    }
    res.writeHead(404).end()
  }
  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  base = `http://127.0.0.1:${port}/charts`
  return {
    url: base,
    requests,
    setCharts: (next) => {
      charts = next
    },
    index: render,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Pushes a Helm chart as an OCI artifact (`repository` like `charts/demo`); the tag is `version` with `+` → `_`. Returns the digest. */
export async function pushChart(
  registry: Registry,
  repository: string,
  version: string,
  credentials?: Credentials,
): Promise<string> {
  const name = repository.split('/').pop() ?? repository
  const config = JSON.stringify({ apiVersion: 'v2', name, version })
  return pushArtifact(
    registry,
    repository,
    version.replaceAll('+', '_'),
    {
      configMediaType: MediaTypes.helmConfig,
      config,
      layerMediaType: MediaTypes.helmChart,
      layer: new TextEncoder().encode(`chart ${name} ${version}`),
      artifactType: MediaTypes.helmConfig,
      annotations: { 'org.opencontainers.image.title': name, 'org.opencontainers.image.version': version },
    },
    credentials,
  )
}
