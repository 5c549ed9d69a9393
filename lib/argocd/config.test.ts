import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { argoCDConfigFromEnv, normalizeServerURL } from './config.js'

const TOKEN = 'x.y.z'

describe('argoCDConfigFromEnv', () => {
  it.each([
    [
      { ARGOCD_SERVER: 'argocd.example.com', ARGOCD_AUTH_TOKEN: TOKEN },
      { server: 'https://argocd.example.com', insecureSkipTLSVerify: false },
    ],
    [
      { ARGOCD_SERVER: 'http://127.0.0.1:8080/', ARGOCD_AUTH_TOKEN: TOKEN, ARGOCD_INSECURE: 'true' },
      { server: 'http://127.0.0.1:8080', insecureSkipTLSVerify: true },
    ],
    [
      { ARGOCD_SERVER: 'argocd.example.com:443', ARGOCD_AUTH_TOKEN: TOKEN, ARGOCD_INSECURE: 'FALSE' },
      { server: 'https://argocd.example.com', insecureSkipTLSVerify: false },
    ],
    [
      { ARGOCD_SERVER: 'https://h/argo', ARGOCD_AUTH_TOKEN: TOKEN, ARGOCD_ROOT_PATH: 'argo/' },
      { server: 'https://h/argo', rootPath: '/argo' },
    ],
  ])('parses %j', (env, expected) => {
    expect(argoCDConfigFromEnv(env)).toMatchObject({ token: TOKEN, ...expected })
  })

  it.each([
    [{ ARGOCD_AUTH_TOKEN: TOKEN }, 'ARGOCD_SERVER is required'],
    [{ ARGOCD_SERVER: 'argocd', ARGOCD_AUTH_TOKEN: ' ' }, 'ARGOCD_AUTH_TOKEN is required'],
    [
      { ARGOCD_SERVER: 'argocd', ARGOCD_AUTH_TOKEN: TOKEN, ARGOCD_INSECURE: 'maybe' },
      'ARGOCD_INSECURE must be true or false',
    ],
    [
      { ARGOCD_SERVER: 'ftp://argocd', ARGOCD_AUTH_TOKEN: TOKEN },
      'Argo CD server must be an http(s) URL, got "ftp:"',
    ],
  ])('refuses %j', (env, message) => {
    let error: unknown
    try {
      argoCDConfigFromEnv(env)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toBe(message)
    expect((error as Error).message).not.toContain(TOKEN)
  })

  it('normalises server addresses', () => {
    expect(normalizeServerURL(' https://argocd.example.com/ ')).toBe('https://argocd.example.com')
    expect(() => normalizeServerURL('https://a/?x=1')).toThrow(ValidationError)
  })
})
