import { TerminalError, TugboatError, UpstreamError } from '../errors.js'
import { redact, redactURL } from './redact.js'

export interface GitErrorContext {
  /** What was being done, e.g. `cloning` or `pushing to`. */
  action: string
  /** The remote involved, shown redacted. */
  url?: string
  /** Secrets to scrub from the message. */
  secrets?: Array<string | undefined>
  /** Class for errors that are neither HTTP nor network errors: `terminal` for local operations. Default `upstream`. */
  fallback?: 'upstream' | 'terminal'
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
])

/**
 * Turns an isomorphic-git (or network) error into a Tugboat error with a redacted message: auth failures and missing
 * repositories are terminal, server and network errors are upstream errors worth a retry. The raw error is not kept as
 * `cause`, since it may hold the credentials.
 */
export function toGitError(error: unknown, ctx: GitErrorContext): TugboatError {
  const secrets = ctx.secrets ?? []
  const where = ctx.url ? `${ctx.action} ${redactURL(ctx.url)}` : ctx.action
  if (error instanceof TugboatError) {
    const message = redact(error.message, secrets)
    if (message === error.message) return error
    return error instanceof TerminalError
      ? new TerminalError(message, { data: error.data })
      : new UpstreamError(message, { data: error.data })
  }
  const code = errorCode(error)
  const detail = redact(error instanceof Error ? error.message : String(error), secrets)
  const data = { gitCode: code ?? 'unknown' }
  if (code === 'HttpError') {
    const status = httpStatus(error)
    if (status === 401 || status === 403) {
      return new TerminalError(
        `${where}: authentication failed (HTTP ${status}); check the project's git credentials`,
        {
          data,
        },
      )
    }
    if (status === 404) return new TerminalError(`${where}: repository not found (HTTP 404)`, { data })
    return new UpstreamError(`${where}: ${detail}`, { data, status })
  }
  if (code === 'UserCanceledError') {
    return new TerminalError(`${where}: authentication failed; check the project's git credentials`, { data })
  }
  if (code !== undefined && NETWORK_CODES.has(code)) return new UpstreamError(`${where}: ${detail}`, { data })
  if (code === 'SmartHttpError' || code === 'EmptyServerResponseError') {
    return new UpstreamError(`${where}: ${detail}`, { data })
  }
  return ctx.fallback === 'terminal'
    ? new TerminalError(`${where}: ${detail}`, { data })
    : new UpstreamError(`${where}: ${detail}`, { data })
}

/** The `code` of an isomorphic-git or Node error. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code: unknown = Reflect.get(error, 'code')
  return typeof code === 'string' ? code : undefined
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const data: unknown = Reflect.get(error, 'data')
  if (typeof data !== 'object' || data === null) return undefined
  const status: unknown = Reflect.get(data, 'statusCode')
  return typeof status === 'number' ? status : undefined
}
