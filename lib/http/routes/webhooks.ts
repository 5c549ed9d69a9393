import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { handleWebhook, type WebhookDeps } from '../../events/webhooks.js'

/** Kargo's limit for a webhook body. */
export const MAX_WEBHOOK_BODY_BYTES = 2 * 1024 * 1024

/**
 * `/webhooks/{type}/{hash}`: ProjectConfig webhook receivers (GitHub, GitLab, Gitea, Docker Hub, Quay, Harbor,
 * generic). No bearer token: the unguessable path and the provider's signature or token authenticate a request.
 * Mount at the app root, outside `/v1beta1`'s bearer auth.
 */
export function webhookRoutes(deps: WebhookDeps) {
  const app = new Hono()
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_WEBHOOK_BODY_BYTES,
      onError: (c) => c.json({ error: `request body is over ${MAX_WEBHOOK_BODY_BYTES} bytes` }, 413),
    }),
  )
  app.post('/:type/:hash', async (c) => {
    const body = Buffer.from(await c.req.arrayBuffer())
    const response = await handleWebhook(deps, {
      type: c.req.param('type'),
      hash: c.req.param('hash'),
      request: { header: (name) => c.req.header(name), body, query: (name) => c.req.query(name) },
    })
    return c.json(response.body, response.status)
  })
  return app
}
