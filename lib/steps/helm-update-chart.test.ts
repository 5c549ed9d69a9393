import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { startPackagedChartRepo, type PackagedChartRepo } from '../../test/support/helm-charts.js'
import { helmAvailable } from './helm-template.js'
import {
  HelmUpdateChartConfigSchema,
  LOCK_NOT_REFRESHED,
  compareChartVersions,
  createHelmUpdateChart,
  helmUpdateChart,
  quoteIfNecessary,
  setDependencyVersions,
} from './helm-update-chart.js'
import type { StepContext, StepResult } from './types.js'

// helm cannot be installed in this environment; the tests that run `helm dependency update` skip when it is
// absent and say so in their names. Everything else runs against real files.
const helmInstalled = helmAvailable()
const needsHelm = helmInstalled ? '' : ' (skipped: helm is not installed here)'

let workDir: string
beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-update-chart-'))
})

function context(): StepContext {
  return {
    project: 'demo',
    stage: 'prod',
    promotion: 'prod.01hx.abc',
    workDir,
    alias: 'update-chart',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
  }
}

const noHelm = createHelmUpdateChart({ env: { PATH: '' } })

async function run(config: unknown, step = noHelm): Promise<StepResult> {
  return step.run(context(), HelmUpdateChartConfigSchema.parse(config))
}

const umbrella = [
  '# The umbrella chart for the demo app',
  'apiVersion: v2',
  'name: umbrella',
  'version: 0.1.0',
  'dependencies:',
  '  # the API',
  '  - name: api',
  '    repository: https://charts.example.com/stable',
  '    version: 1.0.0  # bumped by Kargo',
  '  - name: "worker"',
  "    version: '2.0.0'",
  '    repository: oci://ghcr.io/example/charts',
  '  - name: common',
  '    repository: file://../common',
  '    version: 0.1.0',
  '',
].join('\n')

function writeChart(dir = 'charts/umbrella', text = umbrella): string {
  const file = path.join(workDir, dir, 'Chart.yaml')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  fs.mkdirSync(path.join(workDir, 'charts/common'), { recursive: true })
  return file
}

describe('helm-update-chart without helm', () => {
  it("changes only the version values, Kargo's way, and says Chart.lock was not refreshed", async () => {
    const file = writeChart()
    const result = await run({
      path: 'charts/umbrella',
      charts: [
        { repository: 'https://charts.example.com/stable', name: 'api', version: '1.2.0' },
        { repository: 'oci://ghcr.io/example/charts', name: 'worker', version: '2.1' },
        { repository: 'file://../common', name: 'common', version: '0.1.0' },
      ],
    })
    expect(result).toEqual({
      status: 'Succeeded',
      message: LOCK_NOT_REFRESHED,
      output: {
        commitMessage:
          'Updated chart dependencies for charts/umbrella\n\n- api: 1.0.0 -> 1.2.0\n- worker: 2.0.0 -> 2.1',
      },
    })
    // Comments and quoting elsewhere survive; the edited line loses its trailing comment, as with Kargo.
    expect(fs.readFileSync(file, 'utf8')).toBe(
      umbrella
        .replace('version: 1.0.0  # bumped by Kargo', 'version: 1.2.0')
        .replace("version: '2.0.0'", 'version: "2.1"'),
    )
  })

  it('makes no change and no commit message when versions already match', async () => {
    const file = writeChart()
    const result = await run({
      path: 'charts/umbrella',
      charts: [{ repository: 'https://charts.example.com/stable', name: 'api', version: '1.0.0' }],
    })
    expect(result).toEqual({ status: 'Succeeded', message: LOCK_NOT_REFRESHED })
    expect(fs.readFileSync(file, 'utf8')).toBe(umbrella)
  })

  it('refuses an update that matches no dependency (repository and name must both match)', async () => {
    writeChart()
    const attempt = run({
      path: 'charts/umbrella',
      charts: [{ repository: 'https://charts.example.com/other', name: 'api', version: '1.2.0' }],
    })
    await expect(attempt).rejects.toThrow(
      new TerminalError(
        'no dependency in Chart.yaml matches update with repository "https://charts.example.com/other" and name "api"',
      ),
    )
  })

  it('refuses file:// dependencies that leave the workspace, and a missing Chart.yaml', async () => {
    writeChart('charts/umbrella', umbrella.replace('file://../common', 'file://../../../../etc'))
    await expect(run({ path: 'charts/umbrella' })).rejects.toThrow('escapes the promotion workspace')
    await expect(run({ path: 'charts/none' })).rejects.toThrow('charts/none/Chart.yaml not found')
    await expect(run({ path: '../outside' })).rejects.toThrow('escapes the promotion workspace')
  })

  it('uses helm from the environment at run time (the default step)', () => {
    expect(helmUpdateChart.kind).toBe('helm-update-chart')
  })
})

describe('helm-update-chart helpers', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['2.1', '"2.1"'],
    ['1', '"1"'],
    ['true', '"true"'],
    ['null', '"null"'],
    ['~1.2', '~1.2'],
    ['>=1.0.0 <2.0.0', '>=1.0.0 <2.0.0'],
  ])('quoteIfNecessary(%j) = %s', (value, expected) => {
    expect(quoteIfNecessary(value)).toBe(expected)
  })

  it('rewrites CRLF files with LF and adds a final newline, as Kargo does', () => {
    const text = 'dependencies:\r\n- name: a\r\n  version: 1.0.0'
    expect(setDependencyVersions(text, [{ index: 0, to: '1.1.0' }], 'Chart.yaml')).toBe(
      'dependencies:\n- name: a\n  version: 1.1.0\n',
    )
  })

  it('refuses a dependency without a version key', () => {
    expect(() =>
      setDependencyVersions('dependencies:\n- name: a\n', [{ index: 0, to: '1' }], 'Chart.yaml'),
    ).toThrow('Chart.yaml: dependencies.0.version is not a plain value')
  })

  it('compares lock versions like Kargo', () => {
    expect(
      compareChartVersions(
        [
          { name: 'a', repository: '', version: '1' },
          { name: 'b', repository: '', version: '1' },
        ],
        [
          { name: 'a', repository: '', version: '2' },
          { name: 'c', repository: '', version: '3' },
        ],
      ),
    ).toEqual({ a: '1 -> 2', c: '3', b: '' })
  })
})

describe('helm-update-chart with helm', () => {
  let repo: PackagedChartRepo
  beforeAll(async () => {
    if (helmInstalled) repo = await startPackagedChartRepo({ api: ['1.0.0', '1.2.0'] })
  })
  afterAll(async () => {
    if (helmInstalled) await repo.close()
  })

  // Runs the real `helm dependency update` against a local chart repository serving packaged charts.
  it.skipIf(!helmInstalled)(
    `refreshes Chart.lock and charts/, and reports the change${needsHelm}`,
    async () => {
      const chart = [
        'apiVersion: v2',
        'name: umbrella',
        'version: 0.1.0',
        'dependencies:',
        '  - name: api',
        `    repository: ${repo.url}`,
        '    version: 1.0.0',
        '',
      ].join('\n')
      writeChart('umbrella', chart)
      await run({ path: 'umbrella' }, helmUpdateChart)
      const lock = fs.readFileSync(path.join(workDir, 'umbrella/Chart.lock'), 'utf8')
      expect(lock).toContain('version: 1.0.0')

      const result = await run(
        { path: 'umbrella', charts: [{ repository: repo.url, name: 'api', version: '1.2.0' }] },
        helmUpdateChart,
      )
      expect(result).toEqual({
        status: 'Succeeded',
        output: { commitMessage: 'Updated chart dependencies for umbrella\n\n- api: 1.0.0 -> 1.2.0' },
      })
      expect(fs.readFileSync(path.join(workDir, 'umbrella/Chart.lock'), 'utf8')).toContain('version: 1.2.0')
      expect(fs.existsSync(path.join(workDir, 'umbrella/charts/api-1.2.0.tgz'))).toBe(true)

      const unchanged = fs.readFileSync(path.join(workDir, 'umbrella/Chart.lock'))
      expect((await run({ path: 'umbrella' }, helmUpdateChart)).output).toBeUndefined()
      expect(fs.readFileSync(path.join(workDir, 'umbrella/Chart.lock')).equals(unchanged)).toBe(true)
    },
  )
})
