import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { TerminalError } from '../errors.js'
import { findKustomize, runKustomizeBuild } from '../tools/kustomize.js'
import { kustomizeBuild, splitResources } from './kustomize-build.js'
import type { StepContext } from './types.js'

function makeCtx(workDir: string): StepContext {
  return {
    project: 'demo',
    stage: 'dev',
    promotion: 'dev.01hx.abc',
    workDir,
    alias: 'build',
    freight: { items: {} },
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
  }
}

const tree: Record<string, string> = {
  'src/base/kustomization.yaml': 'resources:\n- deployment.yaml\n- service.yaml\n- namespace.yaml\n',
  'src/base/deployment.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n',
  'src/base/service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n',
  'src/base/namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n',
  'src/overlays/dev/kustomization.yaml':
    'resources:\n- ../../base\nnamespace: dev\nimages:\n- name: nginx\n  newTag: "1.27"\npatches:\n- path: ../../patches/replicas.yaml\n',
  // A patch outside the overlay's root: allowed, as Kargo lifts kustomize's load restrictions.
  'src/patches/replicas.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n',
  'src/broken/kustomization.yaml': 'resources:\n- missing.yaml\n',
}

describe('kustomize-build', () => {
  let workDir: string
  beforeEach(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kustomize-build-'))
    for (const [file, content] of Object.entries(tree)) {
      fs.mkdirSync(path.dirname(path.join(workDir, file)), { recursive: true })
      fs.writeFileSync(path.join(workDir, file), content)
    }
  })

  async function run(config: unknown) {
    return kustomizeBuild.run(makeCtx(workDir), kustomizeBuild.config.parse(config))
  }

  it.each([{ outPath: './out/manifests.yaml' }, { outPath: 'out/nested/all.yml' }])(
    'writes all resources to one file ($outPath)',
    async ({ outPath }) => {
      expect(await run({ path: './src/overlays/dev', outPath })).toEqual({ status: 'Succeeded' })
      const text = fs.readFileSync(path.join(workDir, outPath), 'utf8')
      const docs = text
        .split(/^---$/m)
        .map((d) => parse(d) as { kind: string; metadata: { namespace?: string } })
      expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'Service', 'Deployment'])
      expect(text).toContain('image: nginx:1.27')
      expect(text).toContain('replicas: 3')
      expect(text).toContain('namespace: dev')
    },
  )

  it.each([
    {
      format: undefined,
      files: ['deployment-web.yaml', 'namespace-demo.yaml', 'service-web.yaml'],
      overlay: 'src/base',
    },
    {
      format: 'kargo',
      files: ['dev-deployment-web.yaml', 'dev-service-web.yaml', 'namespace-dev.yaml'],
      overlay: 'src/overlays/dev',
    },
    {
      format: 'kustomize',
      files: ['apps_v1_deployment_web.yaml', 'v1_namespace_dev.yaml', 'v1_service_web.yaml'],
      overlay: 'src/overlays/dev',
    },
  ])('writes one file per resource in the $format format', async ({ format, files, overlay }) => {
    await run({ path: overlay, outPath: 'out/manifests', ...(format ? { outputFormat: format } : {}) })
    const dir = path.join(workDir, 'out/manifests')
    expect(fs.readdirSync(dir).sort()).toEqual(files)
    // Keys are sorted, as Kargo's sigs.k8s.io/yaml output is.
    const deployment = fs.readFileSync(path.join(dir, files[0] ?? ''), 'utf8')
    expect(deployment.split('\n')[0]).toBe('apiVersion: apps/v1')
    expect(deployment.indexOf('kind:')).toBeLessThan(deployment.indexOf('metadata:'))
  })

  it('names kustomize-format files with the namespace when resources span several', () => {
    const rendered = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: one\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: two\n',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n',
    ].join('---\n')
    expect([...splitResources(rendered, 'kustomize').keys()]).toEqual([
      'one_v1_configmap_a.yaml',
      'two_v1_configmap_a.yaml',
      'rbac.authorization.k8s.io_v1_clusterrole_r.yaml',
    ])
  })

  it('refuses resource names that would write outside the directory', () => {
    const rendered = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../evil\n'
    expect(() => splitResources(rendered, 'kargo')).toThrow(/unsafe generated resource filename/)
  })

  it.each([
    {
      name: 'a broken kustomization',
      config: { path: 'src/broken', outPath: 'out/m.yaml' },
      error: /kustomize build failed: .*missing.yaml/,
    },
    {
      name: 'a path escaping the workspace',
      config: { path: '../', outPath: 'out/m.yaml' },
      error: /escapes the promotion workspace/,
    },
    {
      name: 'an outPath escaping the workspace',
      config: { path: 'src/base', outPath: '../m.yaml' },
      error: /outPath .* escapes/,
    },
  ])('fails terminally on $name', async ({ config, error }) => {
    const result = run(config)
    await expect(result).rejects.toBeInstanceOf(TerminalError)
    await expect(result).rejects.toThrow(error)
  })

  it('refuses an outPath that leads outside the workspace through a symlink', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'))
    fs.symlinkSync(outside, path.join(workDir, 'src/link'))
    const result = run({ path: 'src/base', outPath: 'src/link/m.yaml' })
    await expect(result).rejects.toThrow(/leads outside the promotion workspace through a symlink/)
    expect(fs.readdirSync(outside)).toEqual([])
  })

  it('does not show the workspace path in errors', async () => {
    const error: unknown = await run({ path: 'src/broken', outPath: 'out/m.yaml' }).catch((e: unknown) => e)
    expect(String(error)).not.toContain(workDir)
  })
})

describe('findKustomize / runKustomizeBuild (lib/tools/kustomize.ts)', () => {
  // Fake binaries that print their arguments, to check discovery order and the command line.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'kustomize-bin-'))
  const script = (name: string, body: string): string => {
    const file = path.join(bin, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    return file
  }
  const custom = script('custom/kustomize', 'echo "custom $*"')
  script('path/kustomize', 'echo "path $*"')
  script('kubectl-only/kubectl', 'echo "kubectl $*"')
  script('failing/kustomize', 'echo "Error: boom in $2" >&2; exit 1')
  const sys = '/usr/bin:/bin'

  it.each([
    {
      name: 'KUSTOMIZE_BIN first',
      env: { KUSTOMIZE_BIN: custom, PATH: `${bin}/path:${sys}` },
      source: 'KUSTOMIZE_BIN',
      out: `custom build ${bin}`,
    },
    {
      name: 'kustomize on PATH',
      env: { PATH: `${bin}/path:${bin}/kubectl-only` },
      source: 'PATH',
      out: `path build ${bin}`,
    },
    {
      name: 'kubectl kustomize last',
      env: { PATH: `${bin}/kubectl-only` },
      source: 'kubectl',
      out: `kubectl kustomize ${bin}`,
    },
  ])('uses $name', async ({ env, source, out }) => {
    expect(findKustomize(env).source).toBe(source)
    expect((await runKustomizeBuild(bin, { env })).trim()).toBe(out)
  })

  it('passes the helm and load-restrictor flags', async () => {
    const env = { KUSTOMIZE_BIN: custom, PATH: sys }
    const out = await runKustomizeBuild('dir', {
      env,
      enableHelm: true,
      helmApiVersions: ['monitoring.coreos.com/v1'],
      helmKubeVersion: '1.30',
      loadRestrictor: 'LoadRestrictionsNone',
    })
    expect(out.trim()).toBe(
      'custom build dir --load-restrictor LoadRestrictionsNone --enable-helm --helm-api-versions monitoring.coreos.com/v1 --helm-kube-version 1.30',
    )
  })

  it.each([
    { name: 'nothing is installed', env: { PATH: `${bin}/empty` }, error: /kustomize is not installed/ },
    {
      name: 'KUSTOMIZE_BIN is not executable',
      env: { KUSTOMIZE_BIN: `${bin}/nope`, PATH: sys },
      error: /not an executable/,
    },
  ])('is a TerminalError when $name', ({ env, error }) => {
    expect(() => findKustomize(env)).toThrow(TerminalError)
    expect(() => findKustomize(env)).toThrow(error)
  })

  it('reports a failing build with kustomize’s message, the workspace path hidden', async () => {
    const env = { PATH: `${bin}/failing` }
    await expect(runKustomizeBuild(`${bin}/work/app`, { env, hidePath: `${bin}/work` })).rejects.toThrow(
      'kustomize build failed: boom in ./app',
    )
  })
})
