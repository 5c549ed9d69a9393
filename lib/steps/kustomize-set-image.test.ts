import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { runKustomizeBuild } from '../tools/kustomize.js'
import {
  buildCommitMessage,
  kustomizeSetImage,
  setImages,
  type KustomizeImage,
} from './kustomize-set-image.js'
import type { FreightCollection, StepContext } from './types.js'

const DIGEST = 'sha256:2b1af44edf0ddb4dd2d75b2c9c4cd5e68e7c374dd5960fffa24e15d359ab9d61'

const freight: FreightCollection = {
  items: {
    'Warehouse/silly-demo': {
      name: '0608f9513259128d32af62bb4a5dae892f712d41',
      origin: { kind: 'Warehouse', name: 'silly-demo' },
      images: [{ repoURL: 'ghcr.io/vfarcic/silly-demo', tag: '1.4.299', digest: DIGEST }],
    },
  },
}

function makeCtx(workDir: string, f: FreightCollection = freight): StepContext {
  return {
    project: 'demo',
    stage: 'dev',
    promotion: 'dev.01hx.abc',
    workDir,
    alias: 'update-image',
    freight: f,
    outputs: {},
    credentials: async () => undefined,
    log: () => {},
  }
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: silly-demo
spec:
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/vfarcic/silly-demo:1.0.0
      - name: sidecar
        image: nginx:1.25
`

const kustomization = `# base of the app
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml # the only resource
commonLabels:
  app: silly-demo
`
// As Kargo (kyaml) writes it back: same comments and key order, sequences in kustomize's compact style.
const kustomizationAfter = kustomization.replace('  - deployment.yaml', '- deployment.yaml')

describe('kustomize-set-image', () => {
  let workDir: string
  let base: string
  beforeEach(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kustomize-set-image-'))
    base = path.join(workDir, 'src/kustomize/base')
    fs.mkdirSync(base, { recursive: true })
    fs.writeFileSync(path.join(base, 'deployment.yaml'), deployment)
    fs.writeFileSync(path.join(base, 'kustomization.yaml'), kustomization)
  })

  async function run(config: unknown, f?: FreightCollection) {
    return kustomizeSetImage.run(makeCtx(workDir, f), kustomizeSetImage.config.parse(config))
  }

  async function renderedImages(): Promise<string[]> {
    const out = await runKustomizeBuild(base)
    return [...out.matchAll(/image: (\S+)/g)].map((m) => m[1] ?? '')
  }

  it.each([
    {
      name: 'the seed form: image only, tag from the Freight',
      images: [{ image: 'ghcr.io/vfarcic/silly-demo' }],
      entries: '- name: ghcr.io/vfarcic/silly-demo\n  newTag: 1.4.299\n',
      rendered: ['ghcr.io/vfarcic/silly-demo:1.4.299', 'nginx:1.25'],
      message: 'Updated ./src/kustomize/base to use new image\n\n- ghcr.io/vfarcic/silly-demo:1.4.299',
    },
    {
      name: 'useDigest: tag and digest from the Freight (kustomize renders both)',
      images: [{ image: 'ghcr.io/vfarcic/silly-demo', useDigest: true }],
      entries: `- name: ghcr.io/vfarcic/silly-demo\n  newTag: 1.4.299\n  digest: ${DIGEST}\n`,
      rendered: [`ghcr.io/vfarcic/silly-demo:1.4.299@${DIGEST}`, 'nginx:1.25'],
      message: `Updated ./src/kustomize/base to use new image\n\n- ghcr.io/vfarcic/silly-demo:1.4.299@${DIGEST}`,
    },
    {
      name: 'an explicit tag',
      images: [{ image: 'ghcr.io/vfarcic/silly-demo', tag: '2.0' }],
      entries: '- name: ghcr.io/vfarcic/silly-demo\n  newTag: "2.0"\n',
      rendered: ['ghcr.io/vfarcic/silly-demo:2.0', 'nginx:1.25'],
      message: 'Updated ./src/kustomize/base to use new image\n\n- ghcr.io/vfarcic/silly-demo:2.0',
    },
    {
      name: 'a digest, a name and a newName',
      images: [
        {
          image: 'ghcr.io/vfarcic/silly-demo',
          name: 'nginx',
          newName: 'mirror.example.com/nginx',
          digest: DIGEST,
        },
      ],
      entries: `- name: nginx\n  newName: mirror.example.com/nginx\n  digest: ${DIGEST}\n`,
      rendered: ['ghcr.io/vfarcic/silly-demo:1.0.0', `mirror.example.com/nginx@${DIGEST}`],
      message: `Updated ./src/kustomize/base to use new image\n\n- mirror.example.com/nginx@${DIGEST}`,
    },
    {
      name: 'no images: every Freight image, tag and digest',
      images: undefined,
      entries: `- name: ghcr.io/vfarcic/silly-demo\n  newTag: 1.4.299\n  digest: ${DIGEST}\n`,
      rendered: [`ghcr.io/vfarcic/silly-demo:1.4.299@${DIGEST}`, 'nginx:1.25'],
      message: `Updated ./src/kustomize/base to use new image\n\n- ghcr.io/vfarcic/silly-demo:1.4.299@${DIGEST}`,
    },
    {
      name: 'two images, sorted by name',
      images: [
        { image: 'nginx', tag: '1.27' },
        { image: 'ghcr.io/vfarcic/silly-demo', tag: '1.5.0' },
      ],
      entries: '- name: ghcr.io/vfarcic/silly-demo\n  newTag: 1.5.0\n- name: nginx\n  newTag: "1.27"\n',
      rendered: ['ghcr.io/vfarcic/silly-demo:1.5.0', 'nginx:1.27'],
      message:
        'Updated ./src/kustomize/base to use new images\n\n- ghcr.io/vfarcic/silly-demo:1.5.0\n- nginx:1.27',
    },
  ])('$name', async ({ images, entries, rendered, message }) => {
    const result = await run({ path: './src/kustomize/base', ...(images ? { images } : {}) })
    expect(result).toEqual({ status: 'Succeeded', output: { commitMessage: message } })
    // Comments and key order survive; images is appended in kustomize's style.
    expect(fs.readFileSync(path.join(base, 'kustomization.yaml'), 'utf8')).toBe(
      `${kustomizationAfter}images:\n${entries}`,
    )
    expect(await renderedImages()).toEqual(rendered)
  })

  it('replaces existing entries, keeps `*` fields, keeps untouched entries, and re-sorts by name', async () => {
    fs.writeFileSync(
      path.join(base, 'kustomization.yaml'),
      [
        'images:',
        '- name: zeta',
        '  newTag: "9"',
        '- name: ghcr.io/vfarcic/silly-demo',
        '  newName: registry.example.com/silly-demo # mirror',
        '  newTag: 1.0.0',
        '  digest: sha256:old',
        'resources:',
        '- deployment.yaml',
        '',
      ].join('\n'),
    )
    const result = await run({
      path: 'src/kustomize/base',
      images: [{ image: 'ghcr.io/vfarcic/silly-demo', tag: '1.4.300', newName: '*' }],
    })
    expect(fs.readFileSync(path.join(base, 'kustomization.yaml'), 'utf8')).toBe(
      [
        'images:',
        '- name: ghcr.io/vfarcic/silly-demo',
        '  newName: registry.example.com/silly-demo',
        '  newTag: 1.4.300',
        '- name: zeta',
        '  newTag: "9"',
        'resources:',
        '- deployment.yaml',
        '',
      ].join('\n'),
    )
    // Kargo's message lists every image of the file, untouched ones included.
    expect(result.output).toEqual({
      commitMessage:
        'Updated src/kustomize/base to use new images\n\n- registry.example.com/silly-demo:1.4.300\n- zeta:9',
    })
    expect(await renderedImages()).toEqual(['registry.example.com/silly-demo:1.4.300', 'nginx:1.25'])
  })

  it.each([
    { name: 'kustomization.yml', file: 'kustomization.yml' },
    { name: 'Kustomization', file: 'Kustomization' },
  ])('finds $name', async ({ file }) => {
    fs.renameSync(path.join(base, 'kustomization.yaml'), path.join(base, file))
    await run({ path: 'src/kustomize/base', images: [{ image: 'nginx', tag: '1.27' }] })
    expect(fs.readFileSync(path.join(base, file), 'utf8')).toContain('- name: nginx\n  newTag: "1.27"\n')
  })

  it.each([
    {
      name: 'two Kustomization files',
      setup: (dir: string) => fs.writeFileSync(path.join(dir, 'kustomization.yml'), 'resources: []\n'),
      config: { path: 'src/kustomize/base', images: [{ image: 'nginx', tag: '1' }] },
      error: /multiple Kustomization files/,
    },
    {
      name: 'no Kustomization file',
      setup: (dir: string) => fs.rmSync(path.join(dir, 'kustomization.yaml')),
      config: { path: 'src/kustomize/base', images: [{ image: 'nginx', tag: '1' }] },
      error: /could not find any Kustomization files/,
    },
    {
      name: 'an image missing from the Freight',
      setup: () => {},
      config: { path: 'src/kustomize/base', images: [{ image: 'quay.io/other/app' }] },
      error: /image from repo quay.io\/other\/app not found in referenced Freight/,
    },
    {
      name: 'a path escaping the workspace',
      setup: () => {},
      config: { path: '../../etc', images: [{ image: 'nginx', tag: '1' }] },
      error: /escapes the promotion workspace/,
    },
  ])('fails terminally on $name', async ({ setup, config, error }) => {
    setup(base)
    const result = run(config)
    await expect(result).rejects.toBeInstanceOf(TerminalError)
    await expect(result).rejects.toThrow(error)
  })

  it.each([
    { name: 'without images (ambiguous)', config: { path: 'src/kustomize/base' }, error: /ambiguous/ },
    {
      name: 'an image without fromOrigin',
      config: { path: 'src/kustomize/base', images: [{ image: 'ghcr.io/vfarcic/silly-demo' }] },
      error: /disambiguate/,
    },
  ])('with two Warehouses providing the same image, fails $name', async ({ config, error }) => {
    const two: FreightCollection = {
      items: {
        ...freight.items,
        'Warehouse/other': {
          name: 'f2',
          origin: { kind: 'Warehouse', name: 'other' },
          images: [{ repoURL: 'ghcr.io/vfarcic/silly-demo', tag: '9.9.9' }],
        },
      },
    }
    await expect(run(config, two)).rejects.toThrow(error)
    // fromOrigin picks one.
    await run(
      {
        path: 'src/kustomize/base',
        images: [{ image: 'ghcr.io/vfarcic/silly-demo', fromOrigin: { kind: 'Warehouse', name: 'other' } }],
      },
      two,
    )
    expect(await renderedImages()).toContain('ghcr.io/vfarcic/silly-demo:9.9.9')
  })

  it.each([
    {
      name: 'tag and digest together',
      config: { path: 'p', images: [{ image: 'a', tag: '1', digest: 'sha256:x' }] },
    },
    { name: 'an image without a name', config: { path: 'p', images: [{ tag: '1' }] } },
    { name: 'an unknown field', config: { path: 'p', images: [{ image: 'a', version: '1' }] } },
  ])('rejects a config with $name', ({ config }) => {
    expect(kustomizeSetImage.config.safeParse(config).success).toBe(false)
  })
})

describe('setImages', () => {
  it.each([
    {
      name: 'an empty file',
      text: '',
      expected: 'images:\n- name: nginx\n  newTag: "1.27"\n',
    },
    {
      name: 'flow style and quoting elsewhere are kept',
      text: 'resources: [a.yaml, \'b.yaml\']\nnamePrefix: "dev-"\n',
      expected:
        'resources: [ a.yaml, \'b.yaml\' ]\nnamePrefix: "dev-"\nimages:\n- name: nginx\n  newTag: "1.27"\n',
    },
  ])('on $name', ({ text, expected }) => {
    expect(setImages(text, { nginx: { name: 'nginx', newTag: '1.27' } }).text).toBe(expected)
  })

  it.each([
    { tag: '1.4.299', written: '1.4.299' },
    { tag: '1.0', written: '"1.0"' },
    { tag: '20231001', written: '"20231001"' },
    { tag: 'true', written: '"true"' },
    { tag: 'on', written: '"on"' },
    { tag: 'latest', written: 'latest' },
  ])('writes the tag $tag as $written, as yaml.v3 does', ({ tag, written }) => {
    expect(setImages('', { a: { name: 'a', newTag: tag } }).text).toBe(
      `images:\n- name: a\n  newTag: ${written}\n`,
    )
  })

  it('rejects a file that is not a mapping', () => {
    expect(() => setImages('- a\n- b\n', { nginx: { name: 'nginx', newTag: '1' } })).toThrow(
      /not a YAML mapping/,
    )
  })
})

describe('buildCommitMessage', () => {
  it.each<{ images: Record<string, KustomizeImage>; expected: string }>([
    { images: {}, expected: '' },
    { images: { a: { name: 'a', newTag: '1' } }, expected: 'Updated p to use new image\n\n- a:1' },
    {
      images: { b: { name: 'b', newName: 'c', digest: 'sha256:d' }, a: { name: 'a' } },
      expected: 'Updated p to use new images\n\n- a\n- c@sha256:d',
    },
  ])('$expected', ({ images, expected }) => {
    expect(buildCommitMessage('p', images)).toBe(expected)
  })
})
