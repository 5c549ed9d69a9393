import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MediaTypes } from '../discovery/oci/manifest.js'
import { TerminalError, UpstreamError } from '../errors.js'
import { pushChart } from '../../test/support/chart-repo.js'
import { pushArtifact, pushImage, startRegistry, type Registry } from '../../test/support/registry.js'
import { OCIDownloadConfigSchema, ociDownload } from './oci-download.js'
import type { RepoCredentials, StepContext, StepResult } from './types.js'

let registry: Registry
let secured: Registry
let workDir: string
const user = { username: 'reader', password: 'r3ad' }

beforeAll(async () => {
  ;[registry, secured] = await Promise.all([startRegistry(), startRegistry({ htpasswd: user })])
  await pushChart(registry, 'charts/demo', '1.2.3')
  await pushChart(secured, 'charts/private', '0.1.0', user)
  await pushArtifact(registry, 'artifacts/bundle', 'v1', {
    configMediaType: 'application/vnd.example.config.v1+json',
    config: '{}',
    layerMediaType: 'application/vnd.example.readme.v1+markdown',
    layer: new TextEncoder().encode('# readme'),
  })
})
afterAll(async () => {
  await Promise.all([registry.close(), secured.close()])
})
beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-download-'))
})

async function download(config: unknown, creds?: RepoCredentials): Promise<StepResult> {
  const ctx: StepContext = {
    project: 'demo',
    stage: 'dev',
    promotion: 'dev.01hx.abc',
    workDir,
    alias: 'pull',
    freight: { items: {} },
    outputs: {},
    credentials: async () => creds,
    log: () => {},
  }
  return ociDownload.run(ctx, OCIDownloadConfigSchema.parse(config))
}

const read = (file: string): string => fs.readFileSync(path.join(workDir, file), 'utf8')

describe('oci-download', () => {
  it('pulls the chart layer of a Helm chart by media type', async () => {
    const result = await download({
      imageRef: `oci://${registry.host}/charts/demo:1.2.3`,
      outPath: 'charts/demo-1.2.3.tgz',
      mediaType: MediaTypes.helmChart,
    })
    expect(result).toEqual({ status: 'Succeeded' })
    expect(read('charts/demo-1.2.3.tgz')).toBe('chart demo 1.2.3')
    expect(fs.readdirSync(path.join(workDir, 'charts'))).toEqual(['demo-1.2.3.tgz'])
  })

  it('takes the first layer without mediaType, and fails when no layer has the asked type', async () => {
    await download({ imageRef: `${registry.host}/artifacts/bundle:v1`, outPath: 'README.md' })
    expect(read('README.md')).toBe('# readme')
    const missing = download({
      imageRef: `${registry.host}/artifacts/bundle:v1`,
      outPath: 'other.md',
      mediaType: 'text/plain',
    })
    await expect(missing).rejects.toThrow(
      new TerminalError('oci-download step: no layer found with media type "text/plain"'),
    )
  })

  it('resolves an index to its linux/amd64 image, by tag or digest', async () => {
    const digest = await pushImage(registry, 'team/app', '1.0.0', {
      platforms: ['linux/arm64', 'linux/amd64'],
      salt: 'fixed',
    })
    await download({ imageRef: `${registry.host}/team/app@${digest}`, outPath: 'layer.tar.gz' })
    expect(read('layer.tar.gz')).toBe('tugboat test layer fixed linux/amd64')
  })

  it('uses helm credentials for oci:// references', async () => {
    const config = { imageRef: `oci://${secured.host}/charts/private:0.1.0`, outPath: 'private.tgz' }
    const refused = download(config)
    await expect(refused).rejects.toBeInstanceOf(UpstreamError)
    await expect(download(config)).rejects.toThrow(/401 .*check image credentials/)
    await download(config, user)
    expect(read('private.tgz')).toBe('chart private 0.1.0')
  })

  it('refuses to overwrite unless allowOverwrite', async () => {
    fs.writeFileSync(path.join(workDir, 'chart.tgz'), 'old')
    const config = { imageRef: `${registry.host}/charts/demo:1.2.3`, outPath: 'chart.tgz' }
    await expect(download(config)).rejects.toThrow(
      'oci-download step: file already exists at chart.tgz and overwrite is not allowed',
    )
    await download({ ...config, allowOverwrite: true })
    expect(read('chart.tgz')).toBe('chart demo 1.2.3')
  })

  it('keeps outPath inside the workspace and reports a missing tag as retryable', async () => {
    await expect(
      download({ imageRef: `${registry.host}/charts/demo:1.2.3`, outPath: '../../etc/chart.tgz' }),
    ).rejects.toThrow('escapes the promotion workspace')
    await expect(
      download({ imageRef: `${registry.host}/charts/demo:9.9.9`, outPath: 'x.tgz' }),
    ).rejects.toThrow(/failed to resolve image ".*charts\/demo:9\.9\.9": 404/)
  })
})
