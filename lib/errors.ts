/** The small error tree every layer speaks. HTTP maps `code` to a status; the worker maps `terminal` to Failed/Errored. */
export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'unauthenticated'
  | 'forbidden'
  | 'too_large'
  | 'unavailable'
  | 'upstream'
  | 'terminal'
  | 'internal'

export interface TugboatErrorOptions {
  data?: Record<string, unknown>
  cause?: unknown
}

/** Base class: a stable `code`, structured `data`, and a `cause`; serialises to JSON for storage in status fields. */
export class TugboatError extends Error {
  readonly code: ErrorCode
  readonly data: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: TugboatErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.data = options.data ?? {}
  }

  toJSON(): { code: ErrorCode; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data }
  }
}

/** Bad input: names the field path and the reason. HTTP 400. */
export class ValidationError extends TugboatError {
  constructor(message: string, options: TugboatErrorOptions & { path?: string } = {}) {
    super('validation', message, {
      ...options,
      data: { ...options.data, ...(options.path ? { path: options.path } : {}) },
    })
  }
}

/** HTTP 404. */
export class NotFoundError extends TugboatError {
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super('not_found', message, options)
  }
}

/** A version or uniqueness conflict. HTTP 409. */
export class ConflictError extends TugboatError {
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super('conflict', message, options)
  }
}

/** No or bad credentials. HTTP 401. */
export class UnauthenticatedError extends TugboatError {
  constructor(message = 'a valid bearer token is required', options: TugboatErrorOptions = {}) {
    super('unauthenticated', message, options)
  }
}

/** Authenticated, but the role is not enough. HTTP 403. */
export class ForbiddenError extends TugboatError {
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super('forbidden', message, options)
  }
}

/** A remote system (registry, git host, Argo CD) answered with an error; usually worth a retry. */
export class UpstreamError extends TugboatError {
  constructor(message: string, options: TugboatErrorOptions & { status?: number } = {}) {
    super('upstream', message, {
      ...options,
      data: { ...options.data, ...(options.status !== undefined ? { status: options.status } : {}) },
    })
  }
}

/** An error that retrying cannot fix (bad config, refused authorisation). A step that throws it fails the Promotion. */
export class TerminalError extends TugboatError {
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super('terminal', message, options)
  }
}

/** True when retrying cannot help. */
export function isTerminal(error: unknown): boolean {
  return error instanceof TerminalError || error instanceof ValidationError
}

/** A message safe to show a user, for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

/**
 * The message of the deepest cause (at most 5 down): undici wraps a socket error as
 * TypeError('fetch failed', { cause: Error('connect ECONNREFUSED …') }), and only the inner one helps a user.
 */
export function innermostMessage(error: unknown): string {
  let current: unknown = error
  let message = messageOf(error)
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause !== undefined; depth++) {
    current = current.cause
    const inner = messageOf(current)
    if (inner) message = inner
  }
  return message
}
