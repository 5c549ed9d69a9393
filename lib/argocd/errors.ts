import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  TerminalError,
  UnauthenticatedError,
  UpstreamError,
  type TugboatError,
  type TugboatErrorOptions,
} from '../errors.js'
import type { RuntimeError } from './schemas.js'

/**
 * Argo CD refused to start a sync because an operation is already running (HTTP 400, gRPC FailedPrecondition).
 * Not a failure: wait, read the app again, and decide anew.
 */
export class OperationInProgressError extends ConflictError {
  readonly retryable = true
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super(message, options)
  }
}

/** A sync was refused by a project sync window (HTTP 403). It may open later, so callers may wait and retry. */
export class SyncWindowBlockedError extends ForbiddenError {
  readonly retryable = true
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super(message, options)
  }
}

/** Argo CD rejected a request as invalid (HTTP 400): a bad revision, an invalid spec, auto-sync conflicts. */
export class ArgoCDRejectedError extends TerminalError {
  constructor(message: string, options: TugboatErrorOptions = {}) {
    super(message, options)
  }
}

/** What a request was about, to phrase its error. */
export interface ArgoCDRequestContext {
  /** e.g. `get`, `patch`, `sync`, `list`, `terminate the operation of`. */
  action: string
  app?: string
  namespace?: string
  project?: string
}

const IN_PROGRESS = 'another operation is already in progress'
const SYNC_WINDOW = 'blocked by sync window'

function appLabel(ctx: ArgoCDRequestContext): string {
  if (!ctx.app) return 'applications'
  return ctx.namespace ? `app "${ctx.namespace}/${ctx.app}"` : `app "${ctx.app}"`
}

/**
 * Maps an Argo CD error answer to Tugboat's error tree with a message a user understands. The message carries
 * Argo CD's own text (never the request or its headers, so never the token).
 */
export function argoCDErrorFromResponse(
  status: number,
  body: RuntimeError | undefined,
  ctx: ArgoCDRequestContext,
): TugboatError {
  const serverMessage = (body?.message || body?.error || '').trim()
  const data = {
    status,
    ...(body?.code !== undefined ? { grpcCode: body.code } : {}),
    ...(serverMessage ? { argocdMessage: serverMessage } : {}),
    ...(ctx.app ? { app: ctx.app } : {}),
    ...(ctx.namespace ? { namespace: ctx.namespace } : {}),
    ...(ctx.project ? { project: ctx.project } : {}),
  }
  const what = appLabel(ctx)
  const detail = serverMessage ? `: ${serverMessage}` : ''

  if (status === 401) {
    return new UnauthenticatedError(`Argo CD rejected the token (401)${detail}`, { data })
  }
  if (status === 403) {
    if (serverMessage.includes(SYNC_WINDOW)) {
      return new SyncWindowBlockedError(`Argo CD refused to sync ${what}: ${serverMessage} (403)`, { data })
    }
    if (!ctx.app)
      return new ForbiddenError(`Argo CD denied permission to ${ctx.action} ${what} (403)`, { data })
    return new ForbiddenError(
      `${what} not found or not permitted (Argo CD answered 403${ctx.action === 'get' ? '' : ` to ${ctx.action}`})`,
      { data },
    )
  }
  if (status === 404) {
    const where = ctx.project ? ` in project "${ctx.project}"` : ''
    return new NotFoundError(`${what} not found${where} (Argo CD answered 404)`, { data })
  }
  if (status === 400 && serverMessage.includes(IN_PROGRESS)) {
    return new OperationInProgressError(`${what}: ${IN_PROGRESS} (Argo CD answered 400)`, { data })
  }
  if (status === 400) {
    return new ArgoCDRejectedError(`Argo CD refused to ${ctx.action} ${what}${detail} (400)`, { data })
  }
  return new UpstreamError(`Argo CD failed to ${ctx.action} ${what}${detail} (HTTP ${status})`, {
    status,
    data,
  })
}

/** True when a wait-and-retry may succeed (operation in progress, sync window, upstream trouble). */
export function isRetryableArgoCDError(error: unknown): boolean {
  return (
    error instanceof OperationInProgressError ||
    error instanceof SyncWindowBlockedError ||
    error instanceof UpstreamError
  )
}
