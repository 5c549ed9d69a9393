import { z } from 'zod'
import { TerminalError, TugboatError, UpstreamError } from '../errors.js'
import type { ArgoCDClient } from './client.js'
import { OperationInProgressError, SyncWindowBlockedError } from './errors.js'
import type { Application } from './schemas.js'
import { labelSelectorString, type AppSelector } from './selector.js'

/** `argocd-common.json#/definitions/argoCDAppSelector`. */
export const AppSelectorSchema = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string().min(1),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).optional(),
        }),
      )
      .optional(),
  })
  .refine((s) => Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions ?? []).length > 0, {
    message: 'a selector needs at least one of matchLabels or matchExpressions',
  })

/** Checks the `oneOf` of Kargo's app entries: exactly one of `name` and `selector`. */
export function nameXorSelector(
  app: { name?: string | undefined; selector?: unknown },
  ctx: z.RefinementCtx,
): void {
  const hasName = app.name !== undefined && app.name !== ''
  const hasSelector = app.selector !== undefined && app.selector !== null
  if (hasName === hasSelector) {
    ctx.addIssue({
      code: 'custom',
      message: hasName ? 'name and selector are mutually exclusive' : 'one of name or selector is required',
      path: hasName ? ['selector'] : ['name'],
    })
  }
}

/** The `as` label of an app in messages. */
export function appLabel(name: string, namespace?: string): string {
  return `Argo CD app "${namespace ? `${namespace}/` : ''}${name}"`
}

/**
 * Turns an Argo CD client error into what a step should throw: retrying cannot fix a refused token, a missing or
 * forbidden app, or a rejected request, so those become TerminalError (keeping code, data and cause); the rest
 * (upstream trouble) is returned as is.
 */
export function stepErrorOf(error: unknown): unknown {
  if (!(error instanceof TugboatError)) return error
  if (
    error instanceof UpstreamError ||
    error instanceof OperationInProgressError ||
    error instanceof SyncWindowBlockedError
  ) {
    return error
  }
  if (error instanceof TerminalError) return error
  return new TerminalError(error.message, { cause: error, data: { ...error.data, argocdError: error.code } })
}

/** True for errors worth waiting out (the step answers Running and looks again later). */
export function isTransient(error: unknown): boolean {
  return (
    error instanceof UpstreamError ||
    error instanceof OperationInProgressError ||
    error instanceof SyncWindowBlockedError
  )
}

/**
 * The apps an entry names: one by `name` (GET), or all the token may see matching `selector` (List). Throws
 * TerminalError when a named app is missing or forbidden, or when a selector matches nothing.
 */
export async function resolveApps(
  client: ArgoCDClient,
  entry: { name?: string | undefined; namespace?: string | undefined; selector?: AppSelector | undefined },
  signal?: AbortSignal,
): Promise<Application[]> {
  try {
    if (entry.name) {
      return [
        await client.getApplication(entry.name, {
          ...(entry.namespace ? { namespace: entry.namespace } : {}),
          ...(signal ? { signal } : {}),
        }),
      ]
    }
    if (!entry.selector) throw new TerminalError('an app entry needs a name or a selector')
    const selector = labelSelectorString(entry.selector)
    const apps = await client.listApplications({
      selector,
      ...(entry.namespace ? { namespace: entry.namespace } : {}),
      ...(signal ? { signal } : {}),
    })
    if (apps.length === 0) {
      const where = entry.namespace ? ` in namespace "${entry.namespace}"` : ''
      throw new TerminalError(
        `no Argo CD apps match selector "${selector}"${where} (or the token may not see them)`,
      )
    }
    return apps
  } catch (error) {
    throw stepErrorOf(error)
  }
}

/** `5m0s`-style durations for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const seconds = Math.round(ms / 1000)
  const minutes = Math.floor(seconds / 60)
  return minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`
}

export const DEFAULT_TIMEOUT_MS = 5 * 60_000
export const DEFAULT_POLL_INTERVAL_MS = 5_000
