import { describe, expect, it } from 'vitest'
import { chartPurl, commitPurl, imagePurl, parsePurl, repositoriesOfPurl } from './purl.js'

const digest = `sha256:${'0'.repeat(64)}`

describe('purls', () => {
  it.each([
    [
      { repoURL: 'ghcr.io/acme/app', tag: 'v1', digest },
      `pkg:oci/app@sha256%3A${'0'.repeat(64)}?repository_url=ghcr.io/acme/app&tag=v1`,
    ],
    [{ repoURL: 'nginx', tag: '1.27' }, 'pkg:oci/nginx?repository_url=docker.io/library/nginx&tag=1.27'],
    [
      { repoURL: 'acme/app', digest },
      `pkg:oci/app@sha256%3A${'0'.repeat(64)}?repository_url=docker.io/acme/app`,
    ],
    [
      { repoURL: 'localhost:5000/team/App', tag: 'latest' },
      'pkg:oci/app?repository_url=localhost:5000/team/App&tag=latest',
    ],
  ])('image %o → %s', (image, expected) => {
    expect(imagePurl(image)).toBe(expected)
  })

  it.each([
    [{ repoURL: 'https://github.com/Acme/App.git', id: 'abc123' }, 'pkg:github/acme/app@abc123'],
    [
      { repoURL: 'https://git.example.com/team/config.git', id: 'abc123' },
      'pkg:generic/config@abc123?vcs_url=git%2Bhttps://git.example.com/team/config.git%40abc123',
    ],
    [
      { repoURL: 'git@git.example.com:team/config.git', id: 'abc' },
      'pkg:generic/config@abc?vcs_url=git%2Bssh://git%40git.example.com/team/config.git%40abc',
    ],
  ])('commit %o → %s', (commit, expected) => {
    expect(commitPurl(commit)).toBe(expected)
  })

  it('chart → generic purl with its repository', () => {
    expect(chartPurl({ repoURL: 'https://charts.example.com', name: 'app', version: '1.2.3' })).toBe(
      'pkg:generic/app@1.2.3?repository_url=https://charts.example.com',
    )
  })

  it('parses what it formats', () => {
    const text = imagePurl({ repoURL: 'ghcr.io/acme/app', tag: 'v1', digest })
    expect(parsePurl(text)).toEqual({
      type: 'oci',
      name: 'app',
      version: digest,
      qualifiers: { repository_url: 'ghcr.io/acme/app', tag: 'v1' },
    })
    expect(parsePurl('not a purl')).toBeUndefined()
  })

  it.each([
    [
      'pkg:oci/app@sha256%3Aabc?repository_url=ghcr.io/acme/app',
      { images: ['ghcr.io/acme/app'], git: [], charts: ['oci://ghcr.io/acme/app'] },
    ],
    ['pkg:docker/acme/app@1.0', { images: ['docker.io/acme/app'], git: [], charts: [] }],
    ['pkg:github/acme/app@abc', { images: [], git: ['https://github.com/acme/app'], charts: [] }],
    [
      'pkg:generic/config@abc?vcs_url=git%2Bhttps://git.example.com/team/config.git%40abc',
      { images: [], git: ['https://git.example.com/team/config.git'], charts: [] },
    ],
    ['nonsense', { images: [], git: [], charts: [] }],
  ])('repositories of %s', (purl, expected) => {
    expect(repositoriesOfPurl(purl)).toEqual(expected)
  })
})
