import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { TugboatError } from '../errors.js'
import { bearerAuth, type AuthEnv } from './auth.js'
import type { AppDeps } from './deps.js'
import { errorBody, handleError } from './errors.js'
import { openApiDocument } from './openapi.js'
import { projectRoutes } from './routes/projects.js'
import { promotionRoutes } from './routes/promotions.js'
import { verificationRoutes } from './routes/verification.js'
import { eventRoutes } from './routes/events.js'
import { webhookRoutes } from './routes/webhooks.js'
import { resourcesRoutes } from './routes/resources.js'
import { tokenRoutes } from './routes/tokens.js'

/** Request bodies above this are refused with 413 before they are read. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Builds the whole HTTP API. The Lambda handler is `handle(createApp(deps))`; tests call `app.request()`. */
export function createApp(deps: AppDeps) {
  const app = new Hono<AuthEnv>()
  app.onError(handleError)
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404))

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/v1beta1/openapi.json', (c) => c.json(openApiDocument()))

  // Webhook receivers authenticate by the provider's signature or token, not by a bearer token.
  app.route(
    '/webhooks',
    webhookRoutes({
      db: deps.db,
      sealer: deps.sealer,
      ...(deps.refreshWarehouse ? { refreshWarehouse: deps.refreshWarehouse } : {}),
    }),
  )

  const api = new Hono<AuthEnv>()
  api.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(errorBody('too_large', `request body is over ${MAX_BODY_BYTES} bytes (1 MB); split it`), 413),
    }),
  )
  api.use('*', bearerAuth(deps))
  api.use('*', async (c, next) => {
    await next()
    if (c.req.method !== 'GET') await deps.relayEvents?.()
  })
  api.route('/resources', resourcesRoutes(deps))
  api.route('/projects', promotionRoutes(deps))
  api.route('/projects', verificationRoutes(deps))
  api.route('/projects', eventRoutes(deps))
  api.route('/projects', projectRoutes(deps))
  api.route('/', tokenRoutes(deps))
  app.route('/v1beta1', api)
  return app
}

export type App = ReturnType<typeof createApp>
export { TugboatError }
