import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryClient, sha256Digest } from '../discovery/oci/registry-client.js'
import { TerminalError, UpstreamError } from '../errors.js'
import { pushChart } from '../../test/support/chart-repo.js'
import { pushImage, startRegistry, type Registry } from '../../test/support/registry.js'
import { OCIPushConfigSchema, createOCIPush, parseOCIReference, type OCIPushOptions } from './oci-push.js'
import type { RepoCredentials, StepContext, StepResult } from './types.js'

const exec = promisify(execFile)

let registry: Registry
let other: Registry
let secured: Registry
const user = { username: 'pusher', password: 's3cret' }

beforeAll(async () => {
  ;[registry, other, secured] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry({ htpasswd: user }),
  ])
})
afterAll(async () => {
  await Promise.all([registry.close(), other.close(), secured.close()])
})

interface Run {
  result: StepResult
  logs: string[]
  lookups: Array<[string, string]>
}

async function push(
  config: unknown,
  opts: { creds?: RepoCredentials; options?: OCIPushOptions } = {},
): Promise<Run> {
  const logs: string[] = []
  const lookups: Array<[string, string]> = []
  const ctx: StepContext = {
    project: 'demo',
    stage: 'prod',
    promotion: 'prod.01hx.abc',
    workDir: os.tmpdir(),
    alias: 'push',
    freight: { items: {} },
    outputs: {},
    credentials: async (type, url) => {
      lookups.push([type, url])
      return opts.creds
    },
    log: (line) => logs.push(line),
  }
  const step = createOCIPush(opts.options)
  const result = await step.run(ctx, step.config.parse(config))
  return { result, logs, lookups }
}

/** Copies `ref` (all platforms) into a directory with skopeo, which checks every blob and digest. */
async function skopeoVerify(ref: string, creds?: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skopeo-'))
  try {
    await exec('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      ...(creds ? ['--src-creds', creds] : []),
      `docker://${ref}`,
      `dir:${dir}`,
    ])
    return fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe('oci-push', () => {
  it('copies an image to another repository of the same registry by mounting its blobs', async () => {
    const digest = await pushImage(registry, 'team/app', '1.0.0')
    const { result, logs } = await push({
      srcRef: `${registry.host}/team/app:1.0.0`,
      destRef: `${registry.host}/prod/app:1.0.0`,
    })
    expect(result).toEqual({
      status: 'Succeeded',
      output: { image: `${registry.host}/prod/app:1.0.0`, digest, tag: '1.0.0' },
    })
    expect(logs.join('\n')).toContain('0 copied, 2 mounted, 0 already there')
    await skopeoVerify(`${registry.host}/prod/app:1.0.0`)
  })

  it('retags in place: nothing to copy, same digest', async () => {
    const digest = await pushImage(registry, 'team/app', '1.1.0')
    const { result, logs } = await push(
      { srcRef: `${registry.host}/team/app:1.1.0`, destRef: `${registry.host}/team/app:stable` },
      { options: { maxArtifactSize: 0 } },
    )
    expect(result.output).toEqual({ image: `${registry.host}/team/app:stable`, digest, tag: 'stable' })
    expect(logs.join('\n')).toContain('0 copied, 0 mounted, 2 already there')
    const client = new RegistryClient({ host: registry.host })
    expect((await client.getManifest('team/app', 'stable')).digest).toBe(digest)
  })

  it('copies a multi-platform index across registries, streaming blobs in chunks', async () => {
    const digest = await pushImage(registry, 'team/multi', '2.0.0', {
      platforms: ['linux/amd64', 'linux/arm64'],
    })
    const source = `${registry.host}/team/multi@${digest}`
    const { result, logs } = await push(
      { srcRef: source, destRef: `${other.host}/mirror/multi:2.0.0` },
      { options: { chunkBytes: 16 } },
    )
    expect(result.output).toEqual({ image: `${other.host}/mirror/multi:2.0.0`, digest, tag: '2.0.0' })
    expect(logs.join('\n')).toContain('4 copied, 0 mounted')
    const manifest = await skopeoVerify(`${other.host}/mirror/multi:2.0.0`)
    expect(sha256Digest(manifest)).toBe(digest)
  })

  it('annotates the index and every image manifest when asked', async () => {
    const original = await pushImage(registry, 'team/annotated', '3.0.0', {
      platforms: ['linux/amd64', 'linux/arm64'],
    })
    const { result } = await push({
      srcRef: `${registry.host}/team/annotated:3.0.0`,
      destRef: `${registry.host}/prod/annotated:3.0.0`,
      annotations: {
        'index:org.opencontainers.image.source': 'https://example.com/app',
        'manifest:org.example.stage': 'prod',
        'org.example.promoted-by': 'tugboat',
      },
    })
    const client = new RegistryClient({ host: registry.host })
    const index = await client.getManifest('prod/annotated', '3.0.0')
    expect(result.output).toMatchObject({ digest: index.digest })
    expect(index.digest).not.toBe(original)
    if (index.kind !== 'index') throw new Error('expected an index')
    expect(index.index.annotations).toEqual({ 'org.opencontainers.image.source': 'https://example.com/app' })
    for (const child of index.index.manifests) {
      const image = await client.getManifest('prod/annotated', child.digest)
      expect(image.kind === 'image' && image.manifest.annotations).toEqual({
        'org.example.promoted-by': 'tugboat',
        'org.example.stage': 'prod',
      })
      expect(child.size).toBe(image.bytes.byteLength)
    }
    await skopeoVerify(`${registry.host}/prod/annotated:3.0.0`)
  })

  it('pushes a Helm chart (oci://) to a registry that needs credentials, looked up as helm', async () => {
    const digest = await pushChart(registry, 'charts/demo', '0.3.0')
    const config = {
      srcRef: `oci://${registry.host}/charts/demo:0.3.0`,
      destRef: `oci://${secured.host}/charts/demo:0.3.0`,
    }
    const { result, lookups } = await push(config, { creds: user })
    expect(result.output).toEqual({ image: `${secured.host}/charts/demo:0.3.0`, digest, tag: '0.3.0' })
    expect(lookups).toEqual([
      ['helm', `oci://${registry.host}/charts/demo`],
      ['helm', `oci://${secured.host}/charts/demo`],
    ])
    const manifest = await skopeoVerify(
      `${secured.host}/charts/demo:0.3.0`,
      `${user.username}:${user.password}`,
    )
    expect(manifest).toContain('application/vnd.cncf.helm.chart.content.v1.tar+gzip')

    const denied = push(config)
    await expect(denied).rejects.toBeInstanceOf(UpstreamError)
    await expect(push(config)).rejects.toThrow(
      /401 from registry 127\.0\.0\.1:\d+ for charts\/demo: check image credentials/,
    )
  })

  it('enforces MAX_OCI_PUSH_ARTIFACT_SIZE on cross-repository copies only', async () => {
    await pushImage(registry, 'team/limited', '1.0.0')
    const config = {
      srcRef: `${registry.host}/team/limited:1.0.0`,
      destRef: `${registry.host}/prod/limited:1.0.0`,
    }
    const tooBig = push(config, { options: { maxArtifactSize: 10 } })
    await expect(tooBig).rejects.toBeInstanceOf(TerminalError)
    await expect(push(config, { options: { maxArtifactSize: 10 } })).rejects.toThrow(
      /compressed artifact size \d+ bytes exceeds maximum allowed size of 10 bytes/,
    )
    await expect(push(config, { options: { maxArtifactSize: 0 } })).rejects.toThrow(
      'cross-repository push is disabled',
    )
    expect((await push(config, { options: { maxArtifactSize: -1 } })).result.status).toBe('Succeeded')
  })

  it('a missing source is a retryable error', async () => {
    const attempt = push({ srcRef: `${registry.host}/team/nope:1`, destRef: `${registry.host}/prod/nope:1` })
    await expect(attempt).rejects.toBeInstanceOf(UpstreamError)
    await expect(
      push({ srcRef: `${registry.host}/team/nope:1`, destRef: `${registry.host}/prod/nope:1` }),
    ).rejects.toThrow(/failed to get source artifact ".*team\/nope:1": 404/)
  })
})

describe('oci-push config and references', () => {
  it.each([
    ['ghcr.io/org/app:1.0', { registry: 'ghcr.io', repository: 'org/app', tag: '1.0', credType: 'image' }],
    ['oci://ghcr.io/org/chart:0.1.0', { registry: 'ghcr.io', repository: 'org/chart', credType: 'helm' }],
    ['nginx:1.27', { registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'library/nginx' }],
    [
      'localhost:5000/app@sha256:' + 'a'.repeat(64),
      { registry: 'localhost:5000', digest: 'sha256:' + 'a'.repeat(64) },
    ],
  ])('%s', (raw, expected) => {
    expect(parseOCIReference(raw, 'srcRef')).toMatchObject(expected)
  })

  it.each(['ghcr.io/Org/App:1', 'ghcr.io/app@sha256:abc', 'ghcr.io/app:-bad'])('rejects %s', (raw) => {
    expect(() => parseOCIReference(raw, 'srcRef')).toThrow(TerminalError)
  })

  it('requires a tag on destRef (schema)', () => {
    expect(() =>
      OCIPushConfigSchema.parse({ srcRef: 'ghcr.io/a:1', destRef: `ghcr.io/a@sha256:${'a'.repeat(64)}` }),
    ).toThrow()
  })
})
