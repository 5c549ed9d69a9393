import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { TerminalError, TugboatError, UpstreamError, messageOf } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { parseDuration } from '../promotion/durations.js'
import {
  GoDurationSchema,
  outboundError,
  redactQuery,
  requestHeaders,
  requestURL,
  sendOutbound,
} from './http.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `http-download`: GETs a URL and streams the body to `outPath` in the workspace, through a temporary file in the
 * same directory that is renamed into place once complete (a failed download leaves nothing behind). As in Kargo:
 * an existing file is an error unless `allowOverwrite`; a non-2xx answer is a retryable error; more than 100 MiB is
 * refused; the timeout (default 5 minutes) covers the whole download. Goes through `ctx.fetch`, else the outbound
 * guard (lib/net/outbound.ts). No output.
 */

const NameValueSchema = z.strictObject({ name: z.string().min(1), value: z.string().min(1) })

/** Mirrors `http-download-config.json`. */
export const HTTPDownloadConfigSchema = z.strictObject({
  url: z.string().min(1),
  outPath: z.string().min(1),
  allowOverwrite: z.boolean().optional(),
  headers: z.array(NameValueSchema).optional(),
  queryParams: z.array(NameValueSchema).optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
  timeout: GoDurationSchema.optional(),
})
export type HTTPDownloadConfig = z.infer<typeof HTTPDownloadConfigSchema>

/** Kargo's limit on a download. */
export const MAX_DOWNLOAD_BYTES = 100 << 20
const DOWNLOAD_TIMEOUT_MS = 5 * 60_000
const LABEL = 'http-download step'

/** The `http-download` step. No output. */
export const httpDownload: Step<HTTPDownloadConfig> = {
  kind: 'http-download',
  config: HTTPDownloadConfigSchema,
  requires: ['http'],
  defaultTimeoutMs: DOWNLOAD_TIMEOUT_MS,
  run: runDownload,
}

async function runDownload(ctx: StepContext, cfg: HTTPDownloadConfig): Promise<StepResult> {
  const target = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
  if (!cfg.allowOverwrite && fs.existsSync(target))
    throw new TerminalError(`${LABEL}: file already exists at ${cfg.outPath} and overwrite is not allowed`)
  if (fs.existsSync(target) && fs.statSync(target).isDirectory())
    throw new TerminalError(`${LABEL}: outPath ${cfg.outPath} is a directory`)
  const headers = requestHeaders(cfg.headers, LABEL)
  const url = requestURL(cfg.url, cfg.queryParams, LABEL, headers)
  const timeoutMs = cfg.timeout ? parseDuration(cfg.timeout, 'timeout') : DOWNLOAD_TIMEOUT_MS
  const response = await sendOutbound(ctx, LABEL, url, timeoutMs, {
    method: 'GET',
    headers,
    ...(cfg.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
  })
  if (response.status < 200 || response.status >= 300) {
    await response.body?.cancel().catch(() => undefined)
    throw new UpstreamError(`${LABEL}: HTTP request failed with status ${response.status}`, {
      status: response.status,
    })
  }
  const declared = Number(response.headers.get('content-length') ?? '')
  if (Number.isFinite(declared) && declared > MAX_DOWNLOAD_BYTES) {
    await response.body?.cancel().catch(() => undefined)
    throw new TerminalError(`${LABEL}: download exceeds limit of ${MAX_DOWNLOAD_BYTES} bytes`)
  }

  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 })
  let size: number
  try {
    size = await writeAtomically({ target, body: response.body, limit: MAX_DOWNLOAD_BYTES, label: LABEL })
  } catch (error) {
    if (error instanceof TugboatError) throw error
    throw outboundError(LABEL, 'error downloading', error, timeoutMs)
  }
  ctx.log(`downloaded ${size} bytes from ${redactQuery(url)} to ${cfg.outPath}`)
  return { status: 'Succeeded' }
}

export interface AtomicWrite {
  target: string
  body: ReadableStream<Uint8Array> | null
  /** Bytes allowed; more is a TerminalError. */
  limit: number
  /** Prefix of error messages (`http-download step`). */
  label: string
  /** Sees every chunk (e.g. to hash it). */
  onChunk?: (chunk: Uint8Array) => void
  /** Runs after the last byte and before the rename; throwing aborts the write. */
  verify?: () => void
}

/**
 * Streams a body into a temporary file beside `target` (mode 0600) and renames it into place; the partial file is
 * removed on any failure. Returns the size written.
 */
export async function writeAtomically(input: AtomicWrite): Promise<number> {
  const { target, body, limit, label } = input
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.tmp-${randomBytes(6).toString('hex')}`,
  )
  const fd = fs.openSync(temp, 'wx', 0o600)
  let size = 0
  try {
    if (body) {
      const reader = body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (size > limit) {
          await reader.cancel().catch(() => undefined)
          throw new TerminalError(`${label}: download exceeds limit of ${limit} bytes`)
        }
        input.onChunk?.(value)
        writeAll(fd, value)
      }
    }
    input.verify?.()
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.renameSync(temp, target)
    return size
  } catch (error) {
    try {
      fs.closeSync(fd)
    } catch {
      // already closed
    }
    fs.rmSync(temp, { force: true })
    if (
      error instanceof Error &&
      'code' in error &&
      ['ENOSPC', 'EACCES', 'EISDIR', 'EROFS'].includes(String(error.code))
    )
      throw new TerminalError(`${label}: could not write ${path.basename(target)}: ${messageOf(error)}`)
    throw error
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let offset = 0
  while (offset < chunk.byteLength) offset += fs.writeSync(fd, chunk, offset, chunk.byteLength - offset)
}
