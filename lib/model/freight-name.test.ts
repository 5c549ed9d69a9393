import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  freightHashParts,
  freightName,
  normalizeChartURL,
  normalizeGitURL,
  normalizeImageURL,
  sanitizeURL,
} from './freight-name.js'

describe('sanitizeURL', () => {
  it.each([
    ['  https://example.com/repo  ', 'https://example.com/repo'],
    ['\n\thttps://example.com/repo\t\n', 'https://example.com/repo'],
    ['\uFEFFhttps://example.com/repo', 'https://example.com/repo'],
    ['https://example.com/\u200Brepo', 'https://example.com/repo'],
    ['https://example.com/repo\uFEFF', 'https://example.com/repo'],
    ['\uFEFF \n https://example.com/\trepo \u200B \n ', 'https://example.com/repo'],
    ['https://example.com/ myrepo', 'https://example.com/ myrepo'],
    ['https://exa\u00A0mple.com', 'https://example.com'],
    ['   ', ''],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeURL(input)).toBe(expected)
  })
})

describe('normalizeGitURL', () => {
  it.each([
    // cannot be normalised: returned as given
    ['https://not a url', 'https://not a url'],
    ['http://github.com/example/repo?foo=bar', 'http://github.com/example/repo?foo=bar'],
    ['HTTP://GitHub.com/Example/Repo?Foo=Bar', 'HTTP://GitHub.com/Example/Repo?Foo=Bar'],
    ['ssh://not a url', 'ssh://not a url'],
    ['ssh://github.com/example/repo?foo=bar', 'ssh://github.com/example/repo?foo=bar'],
    ['not even remotely a url', 'not even remotely a url'],
    ['https://a:b:c/repo', 'https://a:b:c/repo'], // Go 1.26 refuses a second colon in an http host
    // http(s)
    ['https://github.com', 'https://github.com'],
    ['https://github.com/', 'https://github.com'],
    ['https://foo:bar@github.com', 'https://github.com'],
    ['https://github.com/example/repo', 'https://github.com/example/repo'],
    ['https://github.com/example/repo/', 'https://github.com/example/repo'],
    ['https://github.com/example/repo.git', 'https://github.com/example/repo'],
    ['https://github.com/example/repo.git/', 'https://github.com/example/repo'],
    ['https://localhost:8443/example/repo.git/', 'https://localhost:8443/example/repo'],
    ['https://foo:bar@localhost:8443/example/repo.git/', 'https://localhost:8443/example/repo'],
    ['https://GitHub.com/Example/Repo.GIT', 'https://github.com/example/repo'],
    ['https://github.com/example/repo//', 'https://github.com/example/repo/'], // one `/` only
    ['https://github.com/example/repo.git?', 'https://github.com/example/repo?'], // an empty query is no query
    ['https://github.com/a%2fb.git', 'https://github.com/a/b'],
    ['https://github.com/a%2fb', 'https://github.com/a%2fb'],
    ['https://github.com/my repo', 'https://github.com/my%20repo'],
    ['https://github.com/x#frag', 'https://github.com/x#frag'],
    // ssh keeps the user
    ['ssh://git.example.com', 'ssh://git.example.com'],
    ['ssh://git@git.example.com/', 'ssh://git@git.example.com'],
    ['ssh://github.com/example/repo.git', 'ssh://github.com/example/repo'],
    ['ssh://git@localhost:2222/example/repo.git/', 'ssh://git@localhost:2222/example/repo'],
    // SCP form becomes ssh://
    ['git.example.com', 'ssh://git.example.com'],
    ['git@git.example.com', 'ssh://git@git.example.com'],
    ['github.com:example/repo', 'ssh://github.com/example/repo'],
    ['github.com:example/repo.git/', 'ssh://github.com/example/repo'],
    ['git@github.com:example/repo', 'ssh://git@github.com/example/repo'],
    ['git@github.com:example/repo.git', 'ssh://git@github.com/example/repo'],
    ['git@github.com:example/repo.git/', 'ssh://git@github.com/example/repo'],
    ['Git@GitHub.com:Example/Repo.git', 'ssh://git@github.com/example/repo'],
    ['git@github.com:', 'ssh://git@github.com'],
    // non-printable runes are removed anywhere (after lowercasing)
    ['\uFEFFhttps://github.com/example/re\u200Bpo.git\t', 'https://github.com/example/repo'],
    ['  git@github.com:example/repo.git \n', 'ssh://git@github.com/example/repo'],
    ['https://github.com/exam\tple/repo', 'https://github.com/example/repo'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeGitURL(input)).toBe(expected)
  })
})

describe('normalizeImageURL', () => {
  it.each([
    ['index.docker.io/library/busybox', 'busybox'],
    ['index.docker.io/busybox', 'busybox'],
    ['registry-1.docker.io/library/busybox', 'busybox'],
    ['registry-1.docker.io/busybox', 'busybox'],
    ['docker.io/library/busybox', 'busybox'],
    ['docker.io/busybox', 'busybox'],
    ['library/busybox', 'busybox'],
    ['busybox', 'busybox'],
    ['busybox:1.36', 'busybox'],
    [`busybox@sha256:${'a'.repeat(64)}`, 'busybox'],
    ['index.docker.io/example/repo', 'example/repo'],
    ['docker.io/example/repo', 'example/repo'],
    ['example/repo', 'example/repo'],
    ['Example/Repo', 'example/repo'],
    ['ghcr.io/example/repo', 'ghcr.io/example/repo'],
    ['quay.io/example/repo:v1', 'quay.io/example/repo'],
    ['localhost/foo', 'localhost/foo'],
    ['localhost:5000/foo', 'localhost:5000/foo'],
    ['[::1]:5000/foo', '[::1]:5000/foo'],
    ['invalid url', 'invalid url'],
    ['a', 'a'], // a one-character repository does not parse (go-containerregistry v0.21.7)
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeImageURL(input)).toBe(expected)
  })
})

describe('normalizeChartURL', () => {
  it.each([
    ['', ''],
    ['repo', 'repo'],
    ['  repo  ', 'repo'],
    ['REpo', 'repo'],
    ['oci://repo', 'repo'],
    ['  oci://repo  ', 'repo'],
    ['OCI://Repo', 'repo'],
    ['oci://docker.io/example/repo', 'example/repo'],
    ['docker.io/example/repo', 'example/repo'],
    ['oci://index.docker.io/example/repo', 'example/repo'],
    ['oci://registry-1.docker.io/example/repo', 'example/repo'],
    ['oci://ghcr.io/Acme/Charts', 'ghcr.io/acme/charts'],
    ['https://Charts.Example.com/', 'https://charts.example.com/'],
    ['https://charts.example.com:8443/x', 'https://charts.example.com:8443/x'],
    ['\uFEFFhttps://charts.example.com', 'https://charts.example.com'],
    ['https://a:b:c/x', 'https://a:b:c/x'], // not a Go URL: returned as given
  ])('%j → %j', (input, expected) => {
    expect(normalizeChartURL(input)).toBe(expected)
  })
})

describe('freightHashParts', () => {
  it.each([
    [
      { commits: [{ repoURL: 'https://github.com/Acme/App.git', id: 'abc' }] },
      'https://github.com/acme/app:abc',
    ],
    [
      { commits: [{ repoURL: 'git@github.com:acme/app.git', id: 'abc', tag: 'v1.0.0' }] },
      'ssh://git@github.com/acme/app:v1.0.0:abc',
    ],
    [
      { commits: [{ repoURL: 'https://github.com/acme/app', id: 'abc', tag: '', subscriptionName: 'src' }] },
      'https://github.com/acme/app:abc:src',
    ],
    // the image URL is not normalised, and an empty digest still leaves the `@`
    [{ images: [{ repoURL: 'Docker.io/Library/Nginx', tag: '1.27' }] }, 'Docker.io/Library/Nginx:1.27@'],
    [
      { images: [{ repoURL: 'ghcr.io/acme/app', tag: 'v1', digest: 'sha256:ff', subscriptionName: 'app' }] },
      'ghcr.io/acme/app:v1@sha256:ff:app',
    ],
    // path.Join cleans the chart URL: `https://x` + `c` → `https:/x/c`
    [{ charts: [{ repoURL: 'https://x', name: 'c', version: '1.0.0' }] }, 'https:/x/c:1.0.0'],
    [
      { charts: [{ repoURL: 'https://charts.example.com/', name: 'nginx', version: '1.2.3' }] },
      'https:/charts.example.com/nginx:1.2.3',
    ],
    [
      { charts: [{ repoURL: 'oci://ghcr.io/acme/charts/app', name: '', version: '0.1.0' }] },
      'ghcr.io/acme/charts/app:0.1.0',
    ],
    [
      {
        charts: [
          {
            repoURL: 'oci://registry-1.docker.io/acme',
            name: 'app',
            version: '2.0.0',
            subscriptionName: 'c',
          },
        ],
      },
      'acme/app:2.0.0:c',
    ],
    [{ artifacts: [{ artifactType: 'x', subscriptionName: 's', version: 'v' }] }, 'x:s:v'],
  ])('%j → %j', (contents, expected) => {
    expect(freightHashParts(contents)).toEqual([expected])
  })
})

describe('freightName', () => {
  it('matches a vector derived by hand', () => {
    // parts: https://github.com/example/repo:v1.0.0:abc123
    //        https:/charts.example.com/nginx:1.2.3
    //        public.ecr.aws/nginx/nginx:1.27.0@sha256:abc
    // sorted byte-wise ('/' < 'c' < 'p'), joined by '|', prefixed with "Warehouse/kargo-demo:",
    // SHA-1 computed independently (Python hashlib).
    expect(
      freightName('kargo-demo', {
        images: [{ repoURL: 'public.ecr.aws/nginx/nginx', tag: '1.27.0', digest: 'sha256:abc' }],
        charts: [{ repoURL: 'https://charts.example.com/', name: 'nginx', version: '1.2.3' }],
        commits: [{ repoURL: 'https://github.com/Example/Repo.git', id: 'abc123', tag: 'v1.0.0' }],
      }),
    ).toBe('8c3858413d910855aae7bccab6467df20f3840d2')
    expect(freightName('w', { images: [{ repoURL: 'ghcr.io/acme/app', tag: '1.0.0' }] })).toBe(
      'a2d4b183a35e6750ac3a025e41a644129498e1de',
    )
    expect(
      freightName('w', {
        commits: [{ repoURL: 'git@github.com:acme/cfg.git', id: '0123abc', subscriptionName: 'cfg' }],
        images: [{ repoURL: 'ghcr.io/acme/app', tag: '1.0.0', subscriptionName: 'sub-a' }],
      }),
    ).toBe('6905c0543b7e46d508bd872acc599abce08c0b96')
  })

  it('is the SHA-1 of the origin and the sorted parts', () => {
    const contents = {
      commits: [{ repoURL: 'https://github.com/a/b', id: '1' }],
      images: [{ repoURL: 'z/img', tag: 't', digest: 'd' }],
      charts: [{ repoURL: 'oci://ghcr.io/c', name: 'n', version: '1' }],
    }
    const input = `Warehouse/wh:${['ghcr.io/c/n:1', 'https://github.com/a/b:1', 'z/img:t@d'].join('|')}`
    expect(freightName('wh', contents)).toBe(createHash('sha1').update(input).digest('hex'))
  })

  it('does not depend on input order, and changes with any part', () => {
    const a = { repoURL: 'ghcr.io/a', tag: '1' }
    const b = { repoURL: 'ghcr.io/b', tag: '2' }
    expect(freightName('w', { images: [a, b] })).toBe(freightName('w', { images: [b, a] }))
    expect(freightName('w', { images: [a] })).not.toBe(freightName('w2', { images: [a] }))
    expect(freightName('w', { images: [a] })).not.toBe(freightName('w', { images: [{ ...a, digest: 'x' }] }))
    expect(freightName('w', { images: [a] })).not.toBe(
      freightName('w', { images: [{ ...a, subscriptionName: 's' }] }),
    )
    expect(freightName('w', { images: [a] })).toMatch(/^[0-9a-f]{40}$/)
  })

  it('gives equivalent Git URLs the same name', () => {
    const name = (repoURL: string): string => freightName('w', { commits: [{ repoURL, id: 'c0ffee' }] })
    expect(name('https://user:pw@GitHub.com/acme/app.git/')).toBe(name('https://github.com/acme/app'))
    expect(name('\uFEFFgit@github.com:acme/app')).toBe(name('ssh://git@github.com/acme/app.git'))
  })
})
