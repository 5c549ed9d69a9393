import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { parseRepositoryURL } from './reference.js'

describe('parseRepositoryURL', () => {
  const cases: Array<[string, ReturnType<typeof parseRepositoryURL>]> = [
    [
      'nginx',
      {
        registry: 'docker.io',
        apiHost: 'registry-1.docker.io',
        repository: 'library/nginx',
        scheme: 'https',
      },
    ],
    [
      'docker.io/library/nginx',
      {
        registry: 'docker.io',
        apiHost: 'registry-1.docker.io',
        repository: 'library/nginx',
        scheme: 'https',
      },
    ],
    [
      'docker.io/nginx',
      {
        registry: 'docker.io',
        apiHost: 'registry-1.docker.io',
        repository: 'library/nginx',
        scheme: 'https',
      },
    ],
    [
      'index.docker.io/bitnami/redis',
      {
        registry: 'docker.io',
        apiHost: 'registry-1.docker.io',
        repository: 'bitnami/redis',
        scheme: 'https',
      },
    ],
    [
      'bitnami/redis',
      {
        registry: 'docker.io',
        apiHost: 'registry-1.docker.io',
        repository: 'bitnami/redis',
        scheme: 'https',
      },
    ],
    ['ghcr.io/org/app', { registry: 'ghcr.io', apiHost: 'ghcr.io', repository: 'org/app', scheme: 'https' }],
    [
      'registry.example.com:8443/a/b/c',
      {
        registry: 'registry.example.com:8443',
        apiHost: 'registry.example.com:8443',
        repository: 'a/b/c',
        scheme: 'https',
      },
    ],
    [
      '127.0.0.1:5000/demo/app',
      { registry: '127.0.0.1:5000', apiHost: '127.0.0.1:5000', repository: 'demo/app', scheme: 'http' },
    ],
    ['localhost/app', { registry: 'localhost', apiHost: 'localhost', repository: 'app', scheme: 'http' }],
    [
      'localhost:5000/app',
      { registry: 'localhost:5000', apiHost: 'localhost:5000', repository: 'app', scheme: 'http' },
    ],
  ]
  for (const [input, expected] of cases) {
    it(input, () => expect(parseRepositoryURL(input)).toEqual(expected))
  }
  for (const bad of [
    '',
    'ghcr.io/org/app:1.0',
    'https://ghcr.io/org/app',
    'ghcr.io/org/app@sha256:abc',
    'ghcr.io/',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => expect(() => parseRepositoryURL(bad)).toThrow(ValidationError))
  }
})
