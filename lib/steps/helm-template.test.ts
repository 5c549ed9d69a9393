import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { startPackagedChartRepo, writeChart, type PackagedChartRepo } from '../../test/support/helm-charts.js'
import {
  HelmTemplateConfigSchema,
  createHelmTemplate,
  findHelm,
  flatFiles,
  helmAvailable,
  helmTemplate,
  helmTemplateArgs,
  outputLayout,
} from './helm-template.js'
import type { StepContext, StepResult } from './types.js'

// helm cannot be installed in this environment; the tests that render with the real binary skip when it is absent
// and say so in their names. The argument building and the flat layout are tested without it.
const helmInstalled = helmAvailable()
const needsHelm = helmInstalled ? '' : ' (skipped: helm is not installed here)'

let workDir: string
beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-template-'))
})

function context(): StepContext {
  return {
    project: 'demo',
    stage: 'prod',
    promotion: 'prod.01hx.abc',
    workDir,
    alias: 'render',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
  }
}

async function run(config: unknown, step = helmTemplate): Promise<StepResult> {
  return step.run(context(), HelmTemplateConfigSchema.parse(config))
}

describe('helm-template without helm', () => {
  it('is a clear TerminalError when helm cannot be found', async () => {
    writeChart(path.join(workDir, 'chart'), 'demo', '1.0.0')
    const noHelm = createHelmTemplate({ env: { PATH: path.join(workDir, 'empty-bin') } })
    const attempt = run({ path: 'chart', outPath: 'out.yaml', releaseName: 'demo' }, noHelm)
    await expect(attempt).rejects.toBeInstanceOf(TerminalError)
    await expect(attempt).rejects.toThrow(
      'helm is not installed: set HELM_BIN, add the helm layer (/opt/bin/helm), or put helm on PATH',
    )
    expect(() => findHelm({ HELM_BIN: path.join(workDir, 'nope') })).toThrow(
      'which is not an executable file',
    )
  })

  it('checks paths before looking for helm', async () => {
    await expect(run({ path: '../chart', outPath: 'out.yaml', releaseName: 'demo' })).rejects.toThrow(
      'escapes the promotion workspace',
    )
    await expect(
      run({ path: 'chart', outPath: 'out.yaml', releaseName: 'demo', valuesFiles: ['/etc/passwd'] }),
    ).rejects.toThrow('must be relative to the promotion workspace')
  })

  it.each([
    [{ outPath: 'out/all.yaml' }, 'file'],
    [{ outPath: 'out/all.yml', outLayout: 'flat' as const }, 'file'],
    [{ outPath: 'out' }, 'helm'],
    [{ outPath: 'out', outLayout: 'flat' as const }, 'flat'],
  ])('layout of %j is %s', (cfg, layout) => {
    expect(outputLayout(cfg)).toBe(layout)
  })

  it('builds helm template arguments from every option', () => {
    const cfg = HelmTemplateConfigSchema.parse({
      path: 'chart',
      outPath: 'out',
      releaseName: 'web',
      useReleaseName: true,
      setValues: [
        { key: 'image.tag', value: '1.2.3' },
        { key: 'build', value: '007', literal: true },
      ],
      includeCRDs: true,
      disableHooks: true,
      skipTests: true,
      kubeVersion: '1.29.0',
      apiVersions: ['monitoring.coreos.com/v1', 'networking.k8s.io/v1/Ingress'],
    })
    expect(
      helmTemplateArgs(cfg, {
        chartDir: '/w/chart',
        valuesFiles: ['/w/a.yaml', '/w/b.yaml'],
        namespace: 'demo',
      }),
    ).toEqual([
      'template',
      'web',
      '/w/chart',
      '--namespace',
      'demo',
      '--values',
      '/w/a.yaml',
      '--values',
      '/w/b.yaml',
      '--set',
      'image.tag=1.2.3',
      '--set-literal',
      'build=007',
      '--release-name',
      '--include-crds',
      '--no-hooks',
      '--skip-tests',
      '--kube-version',
      '1.29.0',
      '--api-versions',
      'monitoring.coreos.com/v1',
      '--api-versions',
      'networking.k8s.io/v1/Ingress',
    ])
  })

  it('names flat files as Kargo does: [group-]kind[-namespace]-name.yaml', () => {
    const rendered = [
      '---',
      '# Source: demo/templates/deploy.yaml',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: Web',
      '  namespace: prod',
      '---',
      '# Source: demo/templates/cm.yaml',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: settings',
      '--- # a comment is allowed after the marker',
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress',
      'metadata: {name: web}',
      '---',
      'just: data',
      '---',
      '',
    ].join('\n')
    const files = flatFiles(rendered)
    expect([...files.keys()]).toEqual([
      'apps-deployment-prod-web.yaml',
      'configmap-settings.yaml',
      'networking_k8s_io-ingress-web.yaml',
      'resource-0.yaml',
    ])
    expect(files.get('configmap-settings.yaml')).toBe(
      '# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings',
    )
  })

  it('refuses flat file names that would leave the directory', () => {
    expect(() => flatFiles('kind: ConfigMap\nmetadata:\n  name: ../../evil\n')).toThrow(
      'unsafe generated resource filename',
    )
  })
})

describe('helm-template with helm', () => {
  let repo: PackagedChartRepo
  beforeAll(async () => {
    if (helmInstalled) repo = await startPackagedChartRepo({ common: ['0.1.0'] })
  })
  afterAll(async () => {
    if (helmInstalled) await repo.close()
  })

  // These run the real `helm template`.
  it.skipIf(!helmInstalled)(`renders one file, with values files and --set${needsHelm}`, async () => {
    writeChart(path.join(workDir, 'chart'), 'demo', '1.0.0')
    fs.writeFileSync(path.join(workDir, 'prod.yaml'), 'greeting: hi from prod\n')
    await run({
      path: 'chart',
      outPath: 'out/demo.yaml',
      releaseName: 'web',
      valuesFiles: ['prod.yaml', 'missing.yaml'],
      ignoreMissingValueFiles: true,
      setValues: [{ key: 'greeting', value: 'set wins' }],
    })
    const out = fs.readFileSync(path.join(workDir, 'out/demo.yaml'), 'utf8')
    expect(out).toContain('name: web-demo')
    expect(out).toContain('greeting: "set wins"')
  })

  it.skipIf(!helmInstalled)(`writes helm and flat layouts${needsHelm}`, async () => {
    writeChart(path.join(workDir, 'chart'), 'demo', '1.0.0')
    await run({ path: 'chart', outPath: 'helm-out', releaseName: 'web', namespace: 'prod' })
    expect(fs.existsSync(path.join(workDir, 'helm-out/demo/templates/configmap.yaml'))).toBe(true)
    await run({ path: 'chart', outPath: 'flat-out', outLayout: 'flat', releaseName: 'web' })
    expect(fs.readdirSync(path.join(workDir, 'flat-out'))).toEqual(['configmap-web-demo.yaml'])
  })

  it.skipIf(!helmInstalled)(`builds dependencies first when asked${needsHelm}`, async () => {
    writeChart(path.join(workDir, 'chart'), 'umbrella', '1.0.0', {
      'Chart.yaml': `apiVersion: v2\nname: umbrella\nversion: 1.0.0\ndependencies:\n- name: common\n  repository: ${repo.url}\n  version: 0.1.0\n`,
    })
    await run({ path: 'chart', outPath: 'out.yaml', releaseName: 'web', buildDependencies: true })
    expect(fs.readFileSync(path.join(workDir, 'out.yaml'), 'utf8')).toContain('name: web-common')
  })

  it.skipIf(!helmInstalled)(`reports helm's own error for a broken chart${needsHelm}`, async () => {
    writeChart(path.join(workDir, 'chart'), 'demo', '1.0.0', {
      'templates/bad.yaml': '{{ .Values.nope.deeper }}',
    })
    await expect(run({ path: 'chart', outPath: 'out.yaml', releaseName: 'web' })).rejects.toThrow(
      /helm template failed: .*nil pointer/,
    )
  })
})
