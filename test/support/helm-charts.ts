import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { create as createTar } from 'tar'
import { stringify } from 'yaml'
import { startHTTPServer, type TestHTTPServer } from './http-test-server.js'

/** Files of a chart directory: relative path → content. */
export type ChartFiles = Record<string, string>

/** Writes a minimal, renderable chart (`Chart.yaml`, `values.yaml`, a ConfigMap template) into `dir`. */
export function writeChart(dir: string, name: string, version: string, extra: ChartFiles = {}): void {
  const files: ChartFiles = {
    'Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: ${version}\n`,
    'values.yaml': 'greeting: hello\n',
    'templates/configmap.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      `  name: {{ .Release.Name }}-${name}`,
      'data:',
      '  greeting: {{ .Values.greeting | quote }}',
      '',
    ].join('\n'),
    ...extra,
  }
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
}

/** A packaged chart (`<name>-<version>.tgz` holding `<name>/…`), as `helm package` lays it out. */
export async function packageChart(name: string, version: string): Promise<Buffer> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-chart-'))
  try {
    writeChart(path.join(tmp, name), name, version)
    const out = path.join(tmp, 'chart.tgz')
    await createTar({ gzip: true, file: out, cwd: tmp, portable: true }, [name])
    return fs.readFileSync(out)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

/** A classic Helm repository serving real packaged charts under `/charts` (index.yaml + .tgz files). */
export interface PackagedChartRepo {
  /** `http://127.0.0.1:PORT/charts` */
  url: string
  server: TestHTTPServer
  close(): Promise<void>
}

/** Starts a chart repository holding `charts` (name → versions), each a real, renderable chart. */
export async function startPackagedChartRepo(charts: Record<string, string[]>): Promise<PackagedChartRepo> {
  const server = await startHTTPServer()
  const url = `${server.url}/charts`
  const entries: Record<string, unknown[]> = {}
  for (const [name, versions] of Object.entries(charts)) {
    entries[name] = []
    for (const version of versions) {
      const archive = await packageChart(name, version)
      const file = `${name}-${version}.tgz`
      server.routes.set(`/charts/${file}`, () => ({
        headers: { 'content-type': 'application/gzip' },
        body: archive,
      }))
      entries[name].push({
        apiVersion: 'v2',
        name,
        version,
        created: '2024-01-01T00:00:00Z',
        digest: createHash('sha256').update(archive).digest('hex'),
        urls: [`${url}/${file}`],
      })
    }
  }
  const index = stringify({ apiVersion: 'v1', entries, generated: '2024-01-01T00:00:00Z' })
  server.routes.set('/charts/index.yaml', () => ({
    headers: { 'content-type': 'application/x-yaml' },
    body: index,
  }))
  return { url, server, close: () => server.close() }
}
