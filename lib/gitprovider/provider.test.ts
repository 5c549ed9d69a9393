import { describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { inferProviderName, newGitProvider } from './provider.js'
import { parseRepoURL } from './repo-url.js'

describe('inferProviderName', () => {
  it.each([
    ['https://github.com/acme/app.git', 'github'],
    ['https://github.example.com/acme/app', 'github'],
    ['https://acme.ghe.com/acme/app', 'github'],
    ['git@github.com:acme/app.git', 'github'],
    ['https://gitlab.com/group/sub/app.git', 'gitlab'],
    ['https://gitlab.internal:8443/group/app', 'gitlab'],
    ['https://gitea.example.com/acme/app', 'gitea'],
    ['https://bitbucket.org/acme/app', 'bitbucket'],
    ['https://dev.azure.com/org/project/_git/app', 'azure'],
    ['https://git.example.com/acme/app', undefined],
    ['http://127.0.0.1:3000/acme/app.git', undefined],
    ['not a url', undefined],
  ])('%s → %s', (url, name) => {
    expect(inferProviderName(url)).toBe(name)
  })
})

describe('newGitProvider', () => {
  it.each([
    ['https://github.com/acme/app.git', undefined, 'github', 'https://api.github.com'],
    ['ssh://git@github.com/acme/app.git', undefined, 'github', 'https://api.github.com'],
    ['git@github.com:acme/app.git', undefined, 'github', 'https://api.github.com'],
    ['https://octo.ghe.com/acme/app', undefined, 'github', 'https://api.octo.ghe.com'],
    ['https://github.example.com/acme/app', undefined, 'github', 'https://github.example.com/api/v3'],
    ['https://git.example.com/acme/app.git', 'github', 'github', 'https://git.example.com/api/v3'],
    ['https://gitlab.com/group/sub/app.git', undefined, 'gitlab', 'https://gitlab.com/api/v4'],
    ['http://git.example.com:8080/group/app', 'gitlab', 'gitlab', 'http://git.example.com:8080/api/v4'],
    ['https://gitea.example.com/acme/app', undefined, 'gitea', 'https://gitea.example.com/api/v1'],
    ['https://code.example.com/acme/app/', 'gitea', 'gitea', 'https://code.example.com/api/v1'],
  ] as const)('%s (provider %s) → %s at %s', (url, name, expected, api) => {
    const provider = newGitProvider(url, name ? { name } : {})
    expect(provider.name).toBe(expected)
    expect(provider.apiBaseURL).toBe(api)
  })

  it('takes an explicit apiBaseURL', () => {
    const provider = newGitProvider('https://github.com/acme/app', {
      apiBaseURL: 'https://proxy.example.com/gh/',
    })
    expect(provider.apiBaseURL).toBe('https://proxy.example.com/gh')
  })

  it.each([
    ['https://git.example.com/acme/app', undefined, /set "provider"/],
    ['https://bitbucket.org/acme/app', undefined, /bitbucket git provider is not supported/],
    ['https://dev.azure.com/org/project/_git/app', 'azure', /azure git provider is not supported/],
    ['https://github.com/acme', undefined, /expected owner\/repo/],
    ['https://gitea.example.com/a/b/c', undefined, /expected owner\/repo/],
  ] as const)('refuses %s (provider %s)', (url, name, message) => {
    expect(() => newGitProvider(url, name ? { name } : {})).toThrow(TerminalError)
    expect(() => newGitProvider(url, name ? { name } : {})).toThrow(message)
  })
})

describe('parseRepoURL', () => {
  it.each([
    ['https://github.com/acme/app.git', { scheme: 'https', host: 'github.com', path: 'acme/app' }],
    [
      'https://user:tok@GitLab.com/Group/Sub/App/',
      { scheme: 'https', host: 'gitlab.com', path: 'Group/Sub/App' },
    ],
    ['http://127.0.0.1:4000/acme/app.git', { scheme: 'http', host: '127.0.0.1:4000', path: 'acme/app' }],
    [
      'ssh://git@gitea.example.com:2222/acme/app.git',
      { scheme: 'https', host: 'gitea.example.com', path: 'acme/app' },
    ],
    ['git@gitlab.com:group/app.git', { scheme: 'https', host: 'gitlab.com', path: 'group/app' }],
  ])('%s', (url, expected) => {
    expect(parseRepoURL(url)).toEqual(expected)
  })

  it('never shows credentials in its errors', () => {
    expect(() => parseRepoURL('https://user:sekrit@github.com/')).toThrow(/names no repository/)
    expect(() => parseRepoURL('https://user:sekrit@github.com/')).not.toThrow(/sekrit/)
  })
})
