import { describe, expect, it } from 'vitest'
import { RegistryClient } from '../../lib/discovery/oci/registry-client.js'
import { pushChart, startChartRepo } from './chart-repo.js'
import { pushImage, startRegistry, startRegistryFront } from './registry.js'
import { startTokenServer } from './token-server.js'

describe('test support: registry, token server, chart repo', () => {
  it('starts Distribution, pushes images, indexes and charts, and stops', async () => {
    const registry = await startRegistry()
    try {
      const digest = await pushImage(registry, 'demo/app', '1.0.0')
      const index = await pushImage(registry, 'demo/app', 'multi', {
        platforms: ['linux/amd64', 'linux/arm64'],
      })
      const chart = await pushChart(registry, 'charts/demo', '1.0.0+b1')
      const client = new RegistryClient({ host: registry.host })
      expect((await client.listTags('demo/app')).tags.sort()).toEqual(['1.0.0', 'multi'])
      expect((await client.getManifest('demo/app', '1.0.0')).digest).toBe(digest)
      const read = await client.getManifest('demo/app', 'multi')
      expect(read.kind === 'index' && read.index.manifests.map((m) => m.platform?.architecture)).toEqual([
        'amd64',
        'arm64',
      ])
      expect(read.digest).toBe(index)
      const helm = await client.getManifest('charts/demo', '1.0.0_b1')
      expect(helm.digest).toBe(chart)
      expect(helm.kind === 'image' && helm.manifest.config.mediaType).toBe(
        'application/vnd.cncf.helm.config.v1+json',
      )
    } finally {
      await registry.close()
    }
  })

  it('serves token auth end to end, and a front that paginates', async () => {
    const tokens = await startTokenServer({ users: { u: 'p' }, anonymousPull: true })
    const registry = await startRegistry({
      tokenAuth: { ...tokens, pushCredentials: { username: 'u', password: 'p' } },
    })
    const front = await startRegistryFront(registry, { tagPageSize: 1 })
    try {
      await pushImage(registry, 'demo/app', 'a')
      await pushImage(registry, 'demo/app', 'b')
      const anonymous = new RegistryClient({ host: front.host })
      expect(await anonymous.listTags('demo/app')).toEqual({ tags: ['a', 'b'], pages: 2 })
      expect(tokens.requests.some((r) => r.user === undefined && r.status === 200)).toBe(true)
    } finally {
      await front.close()
      await registry.close()
      await tokens.close()
    }
  })

  it('serves a generated index.yaml', async () => {
    const repo = await startChartRepo({ charts: { demo: ['1.0.0'] } })
    try {
      const text = await (await fetch(`${repo.url}/index.yaml`)).text()
      expect(text).toContain('demo:')
      expect(text).toContain('version: 1.0.0')
    } finally {
      await repo.close()
    }
  })
})
