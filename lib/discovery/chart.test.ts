import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError, UpstreamError, ValidationError } from '../errors.js'
import { pushChart, startChartRepo, type ChartRepo } from '../../test/support/chart-repo.js'
import {
  freePort,
  pushImage,
  startRegistry,
  startRegistryFront,
  type Registry,
} from '../../test/support/registry.js'
import { discoverCharts } from './chart.js'

let registry: Registry
let repo: ChartRepo

beforeAll(async () => {
  registry = await startRegistry()
  repo = await startChartRepo({
    charts: {
      demo: ['0.1.0', '1.0', 'v1.2.0', '1.10.0', '1.9.3', '2.0.0-rc.1', 'not-a-version', '2.0.0'],
      other: ['9.9.9'],
    },
  })
}, 60_000)

afterAll(async () => {
  await repo?.close()
  await registry?.close()
})

describe('discoverCharts: classic HTTP repository', () => {
  const cases: Array<{ name: string; sub: Record<string, unknown>; versions: string[] }> = [
    {
      name: 'all versions, leniently parsed, newest first',
      sub: {},
      versions: ['2.0.0', '2.0.0-rc.1', '1.10.0', '1.9.3', 'v1.2.0', '1.0', '0.1.0'],
    },
    { name: 'semverConstraint', sub: { semverConstraint: '^1.2' }, versions: ['1.10.0', '1.9.3', 'v1.2.0'] },
    {
      name: 'comma AND constraint',
      sub: { semverConstraint: '>=1.0.0, <1.10.0' },
      versions: ['1.9.3', 'v1.2.0', '1.0'],
    },
    { name: 'discoveryLimit', sub: { discoveryLimit: 2 }, versions: ['2.0.0', '2.0.0-rc.1'] },
    { name: 'an unknown chart has no versions', sub: { name: 'absent' }, versions: [] },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const result = await discoverCharts({ repoURL: repo.url, name: 'demo', ...c.sub })
      expect(result.versions).toEqual(c.versions)
      expect(result.stats.requests).toBe(1)
    })
  }

  it('keeps the repo URL with or without a trailing slash', async () => {
    const result = await discoverCharts({ repoURL: `${repo.url}/`, name: 'other' })
    expect(result).toMatchObject({ repoURL: `${repo.url}/`, name: 'other', versions: ['9.9.9'] })
    expect(repo.requests.at(-1)).toBe('/charts/index.yaml')
  })

  it('sends credentials, and names the problem without them', async () => {
    const secured = await startChartRepo({
      charts: { demo: ['1.0.0'] },
      auth: { username: 'u', password: 'p' },
    })
    try {
      const ok = await discoverCharts(
        { repoURL: secured.url, name: 'demo' },
        { credentials: { username: 'u', password: 'p' } },
      )
      expect(ok.versions).toEqual(['1.0.0'])
      const error = await discoverCharts({ repoURL: secured.url, name: 'demo' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UpstreamError)
      expect(String(error)).toContain('401 from chart repository 127.0.0.1:')
      expect(String(error)).toContain('check chart repository credentials')
    } finally {
      await secured.close()
    }
  })

  it('reports a missing index and an unreachable host', async () => {
    const missing = await discoverCharts({ repoURL: `${repo.url}/nowhere`, name: 'demo' }).catch(
      (e: unknown) => e,
    )
    expect(missing).toBeInstanceOf(NotFoundError)
    const port = await freePort()
    const down = await discoverCharts({ repoURL: `http://127.0.0.1:${port}/charts`, name: 'demo' }).catch(
      (e: unknown) => e,
    )
    expect(String(down)).toContain(`chart repository 127.0.0.1:${port} is unreachable: ECONNREFUSED`)
  })

  it('validates the subscription', async () => {
    await expect(discoverCharts({ repoURL: repo.url })).rejects.toThrow(/name is required/)
    await expect(
      discoverCharts({ repoURL: repo.url, name: 'demo', semverConstraint: 'bogus' }),
    ).rejects.toBeInstanceOf(ValidationError)
    await expect(
      discoverCharts({ repoURL: `oci://${registry.host}/charts/demo`, name: 'demo' }),
    ).rejects.toThrow(/name must be empty/)
    await expect(discoverCharts({ repoURL: 'ftp://x/y', name: 'demo' })).rejects.toBeInstanceOf(
      ValidationError,
    )
  })
})

describe('discoverCharts: OCI', () => {
  beforeAll(async () => {
    for (const version of ['0.1.0', '1.0.0', '1.1.0+build.7', '1.1.0', '2.0.0-rc.1'])
      await pushChart(registry, 'charts/demo', version)
    // Tags that are not strict SemVer are skipped.
    await pushImage(registry, 'charts/demo', 'latest')
    await pushImage(registry, 'charts/demo', 'v1.5')
  })

  it('lists tags, turns _ back into +, parses strictly, newest first', async () => {
    const result = await discoverCharts({ repoURL: `oci://${registry.host}/charts/demo` })
    expect(result.versions).toEqual(['2.0.0-rc.1', '1.1.0+build.7', '1.1.0', '1.0.0', '0.1.0'])
    expect(result.stats.requests).toBe(1)
  })

  it('applies semverConstraint and discoveryLimit', async () => {
    const result = await discoverCharts({
      repoURL: `oci://${registry.host}/charts/demo`,
      semverConstraint: '<2',
      discoveryLimit: 2,
    })
    expect(result).toMatchObject({ semverConstraint: '<2', versions: ['1.1.0+build.7', '1.1.0'] })
  })

  it('follows tag pages', async () => {
    const front = await startRegistryFront(registry, { tagPageSize: 2 })
    try {
      const result = await discoverCharts({ repoURL: `oci://${front.host}/charts/demo` })
      expect(result.versions).toHaveLength(5)
      expect(result.stats.requests).toBe(4)
    } finally {
      await front.close()
    }
  })

  it('404 for an unknown chart', async () => {
    const error = await discoverCharts({ repoURL: `oci://${registry.host}/charts/absent` }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(NotFoundError)
    expect(String(error)).toContain(
      `404 from registry ${registry.host} for charts/absent: repository not found`,
    )
  })
})
