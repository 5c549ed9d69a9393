import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ZodError } from 'zod'
import { TugboatError, type ErrorCode } from '../errors.js'
import { describeIssues } from '../model/zod-errors.js'

const statusOf: Record<ErrorCode, ContentfulStatusCode> = {
  validation: 400,
  not_found: 404,
  conflict: 409,
  unauthenticated: 401,
  forbidden: 403,
  too_large: 413,
  unavailable: 503,
  upstream: 502,
  terminal: 400,
  internal: 500,
}

/** Kargo-style JSON error body: `{error, code, message, details?}`. */
export function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: message, code, message, ...(details && Object.keys(details).length ? { details } : {}) }
}

/** The one place domain errors become HTTP statuses. Unknown errors are logged and answered with a bare 500. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof TugboatError) {
    return c.json(errorBody(error.code, error.message, error.data), statusOf[error.code])
  }
  if (error instanceof ZodError) {
    const problems = describeIssues(error.issues)
    return c.json(errorBody('validation', problems.join('; '), { problems }), 400)
  }
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'unhandled error',
      path: c.req.path,
      error: error.message,
      stack: error.stack,
    }),
  )
  return c.json(errorBody('internal', 'internal error; see the server log'), 500)
}
