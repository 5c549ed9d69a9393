import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { ManifestResult } from '../discovery/oci/registry-client.js'
import { TerminalError, TugboatError, UpstreamError, messageOf } from '../errors.js'
import { goQuote } from '../expressions/go-strconv.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { writeAtomically } from './http-download.js'
import { childForPlatform, parseOCIReference, registryClientFor } from './oci-push.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `oci-download`: pulls one layer of an OCI artifact (e.g. the `.tgz` of a Helm chart) to `outPath`. The layer is
 * the first one of `mediaType`, else the first one. An index resolves to its linux/amd64 image, as Kargo's
 * go-containerregistry does by default. The blob streams through a temporary file, its digest is checked, and it is
 * renamed into place. Over 100 MiB is refused. `oci://` references use `helm` credentials, others `image`
 * credentials. No output.
 */

/** Mirrors `oci-download-config.json`. */
export const OCIDownloadConfigSchema = z.strictObject({
  imageRef: z
    .string()
    .min(1)
    .regex(
      /^(oci:\/\/)?[a-zA-Z0-9._-]+(:\d+)?(\/[a-zA-Z0-9._-]+)*[@:][a-zA-Z0-9._:-]+$/,
      'must be registry/repository:tag or registry/repository@digest',
    ),
  outPath: z.string().min(1),
  allowOverwrite: z.boolean().optional(),
  mediaType: z.string().min(1).optional(),
  insecureSkipTLSVerify: z.boolean().optional(),
})
export type OCIDownloadConfig = z.infer<typeof OCIDownloadConfigSchema>

/** Kargo's limit on a downloaded layer. */
export const MAX_OCI_ARTIFACT_BYTES = 100 << 20
const LABEL = 'oci-download step'

/** The `oci-download` step. No output. */
export const ociDownload: Step<OCIDownloadConfig> = {
  kind: 'oci-download',
  config: OCIDownloadConfigSchema,
  requires: ['credentials'],
  defaultTimeoutMs: 5 * 60_000,
  run: runDownload,
}

async function runDownload(ctx: StepContext, cfg: OCIDownloadConfig): Promise<StepResult> {
  const ref = parseOCIReference(cfg.imageRef, 'imageRef')
  const target = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
  if (!cfg.allowOverwrite && fs.existsSync(target))
    throw new TerminalError(`${LABEL}: file already exists at ${cfg.outPath} and overwrite is not allowed`)
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 })
  const client = await registryClientFor(ctx, ref, cfg.insecureSkipTLSVerify ?? false)
  const wrap = (what: string, error: unknown): TugboatError => {
    const message = `${LABEL}: ${what}: ${messageOf(error)}`
    if (error instanceof TerminalError) return new TerminalError(message, { data: error.data, cause: error })
    if (error instanceof UpstreamError && error.data.mediaType !== undefined)
      return new TerminalError(message, { data: error.data, cause: error })
    return new UpstreamError(message, { data: error instanceof TugboatError ? error.data : {}, cause: error })
  }

  let image: ManifestResult
  try {
    image = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest')
    if (image.kind === 'index') {
      const child = childForPlatform(image.index, 'linux', 'amd64')
      if (!child) throw new TerminalError('no child with platform linux/amd64 in the index')
      image = await client.getManifest(ref.repository, child.digest)
      if (image.kind === 'index')
        throw new TerminalError('the linux/amd64 child of the index is itself an index')
    }
  } catch (error) {
    throw wrap(`failed to resolve image ${goQuote(cfg.imageRef)}`, error)
  }

  const layers = image.manifest.layers ?? []
  if (layers.length === 0) throw new TerminalError(`${LABEL}: ${goQuote(cfg.imageRef)} has no layers`)
  const layer = cfg.mediaType ? layers.find((l) => l.mediaType === cfg.mediaType) : layers[0]
  if (!layer)
    throw new TerminalError(`${LABEL}: no layer found with media type ${goQuote(cfg.mediaType ?? '')}`)
  if ((layer.size ?? 0) > MAX_OCI_ARTIFACT_BYTES)
    throw new TerminalError(
      `${LABEL}: layer size ${layer.size} exceeds maximum allowed size of ${MAX_OCI_ARTIFACT_BYTES} bytes`,
    )

  const [algorithm, expected] = layer.digest.split(':')
  const hash = algorithm === 'sha256' || algorithm === 'sha512' ? createHash(algorithm) : undefined
  let size: number
  try {
    const blob = await client.send('GET', `/v2/${ref.repository}/blobs/${layer.digest}`, {
      repository: ref.repository,
      kind: 'blob',
      notFound: `blob ${layer.digest} not found`,
    })
    size = await writeAtomically({
      target,
      body: blob.body,
      limit: MAX_OCI_ARTIFACT_BYTES,
      label: LABEL,
      onChunk: (chunk) => hash?.update(chunk),
      verify: () => {
        const actual = hash?.digest('hex')
        if (actual !== undefined && actual !== expected)
          throw new UpstreamError(`layer ${layer.digest} arrived with digest ${algorithm}:${actual}`)
      },
    })
  } catch (error) {
    throw wrap(`failed to download layer ${layer.digest}`, error)
  }
  ctx.log(`downloaded layer ${layer.digest} (${size} bytes) of ${cfg.imageRef} to ${cfg.outPath}`)
  return { status: 'Succeeded' }
}
