import { handle } from 'hono/aws-lambda'
import { createApp } from '../lib/http/app.js'
import { appDeps } from '../lib/runtime/context.js'

let handler: ReturnType<typeof handle> | undefined

/** API Gateway (HTTP API) → the Hono app. The app is built on the first request, not at import. */
export const main: ReturnType<typeof handle> = (event, context) => {
  handler ??= handle(createApp(appDeps()))
  return handler(event, context)
}
