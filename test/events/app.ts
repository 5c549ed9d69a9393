import { randomBytes } from 'node:crypto'
import { createApp } from '../../lib/http/app.js'
import type { AppDeps } from '../../lib/http/deps.js'
import type { EventRouteDeps } from '../../lib/http/routes/events.js'
import { sealer } from '../../lib/store/sealing.js'
import { hashToken } from '../../lib/store/tokens.js'
import { freshDb, TEST_ADMIN_TOKEN } from '../support/stack.js'

/** The whole HTTP app (createApp) on a fresh table, recording Warehouse refreshes instead of polling. */
export async function eventsApp(overrides: Partial<EventRouteDeps> = {}) {
  const db = await freshDb()
  const refreshed: Array<{ project: string; warehouse: string }> = []
  const deps: AppDeps & EventRouteDeps = {
    db,
    sealer: sealer(randomBytes(32).toString('base64')),
    adminTokenHash: hashToken(TEST_ADMIN_TOKEN),
    publicUrl: 'https://tugboat.example.com',
    refreshWarehouse: async (project, warehouse) => {
      refreshed.push({ project, warehouse })
      return { warehouse, ok: true }
    },
    ...overrides,
  }
  const app = createApp(deps)

  const call = (
    method: string,
    path: string,
    options: { body?: string | object; token?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...options.headers }
    const token = options.token === undefined ? TEST_ADMIN_TOKEN : options.token
    if (token) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (typeof options.body === 'string') {
      body = options.body
      headers['content-type'] ??= 'text/plain'
    } else if (options.body) {
      body = JSON.stringify(options.body)
      headers['content-type'] ??= 'application/json'
    }
    return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) })
  }
  const apply = async (yaml: string) => {
    const response = await call('PUT', '/v1beta1/resources?upsert=true', { body: yaml })
    if (response.status !== 200) throw new Error(`apply failed: ${response.status} ${await response.text()}`)
  }
  return { app, deps, db, call, apply, refreshed }
}

/** A project with an image Warehouse, a git Warehouse (with path filters) and a Stage. */
export const projectYaml = (project: string) => `
apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata: {name: ${project}}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: images, namespace: ${project}}
spec:
  subscriptions:
  - image: {repoURL: ghcr.io/acme/guestbook, constraint: ^1.0.0}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: config, namespace: ${project}}
spec:
  subscriptions:
  - git:
      repoURL: https://github.com/acme/guestbook-config.git
      branch: main
      includePaths: [apps/guestbook]
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: docs, namespace: ${project}}
spec:
  subscriptions:
  - git:
      repoURL: https://github.com/acme/guestbook-config.git
      branch: main
      includePaths: [docs]
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: ${project}}
spec:
  requestedFreight:
  - origin: {kind: Warehouse, name: images}
    sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
      - uses: git-clone
        config:
          repoURL: https://github.com/acme/guestbook-config.git
          checkout: [{branch: main, path: ./src}]
`
