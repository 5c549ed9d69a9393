import { spawn } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { TerminalError, UpstreamError } from '../errors.js'
import { isExecutable, which } from './which.js'

/** How to run `kustomize build`: the program and the arguments that come before the build's own. */
export interface KustomizeCommand {
  command: string
  prefix: string[]
  /** Where it was found. */
  source: 'KUSTOMIZE_BIN' | 'layer' | 'PATH' | 'kubectl'
}

/** The Lambda layer's install path. */
export const LAYER_KUSTOMIZE = '/opt/bin/kustomize'

let cached: { key: string; command: KustomizeCommand } | undefined

/**
 * Finds kustomize, in order: `$KUSTOMIZE_BIN`, the Lambda layer (`/opt/bin/kustomize`), `kustomize` on PATH, else
 * `kubectl kustomize` (kubectl embeds kustomize). A TerminalError when none is there.
 */
export function findKustomize(env: NodeJS.ProcessEnv = process.env): KustomizeCommand {
  const key = `${env.KUSTOMIZE_BIN ?? ''}\0${env.PATH ?? ''}`
  if (cached?.key === key) return cached.command
  const command = locate(env)
  cached = { key, command }
  return command
}

function locate(env: NodeJS.ProcessEnv): KustomizeCommand {
  if (env.KUSTOMIZE_BIN) {
    if (!isExecutable(env.KUSTOMIZE_BIN)) {
      throw new TerminalError(
        `KUSTOMIZE_BIN is set to ${env.KUSTOMIZE_BIN}, which is not an executable file`,
        {
          data: { tool: 'kustomize' },
        },
      )
    }
    return { command: env.KUSTOMIZE_BIN, prefix: ['build'], source: 'KUSTOMIZE_BIN' }
  }
  if (isExecutable(LAYER_KUSTOMIZE)) return { command: LAYER_KUSTOMIZE, prefix: ['build'], source: 'layer' }
  const onPath = which('kustomize', env.PATH)
  if (onPath) return { command: onPath, prefix: ['build'], source: 'PATH' }
  const kubectl = which('kubectl', env.PATH)
  if (kubectl) return { command: kubectl, prefix: ['kustomize'], source: 'kubectl' }
  throw new TerminalError(
    'kustomize is not installed: set KUSTOMIZE_BIN, add the kustomize layer (/opt/bin/kustomize), or put kustomize or kubectl on PATH',
    { data: { tool: 'kustomize' } },
  )
}

export interface KustomizeBuildOptions {
  /** Enable the builtin Helm chart inflator (Kargo always does). */
  enableHelm?: boolean
  helmApiVersions?: string[]
  helmKubeVersion?: string
  /** `LoadRestrictionsRootOnly` (kustomize's default) or `LoadRestrictionsNone`. */
  loadRestrictor?: 'LoadRestrictionsRootOnly' | 'LoadRestrictionsNone'
  /** Kill the build after this long. Default 5 minutes. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Text to replace with `.` in error messages (the workspace path). */
  hidePath?: string
  env?: NodeJS.ProcessEnv
}

/**
 * Runs `kustomize build <dir>` (no shell) and returns the rendered YAML. A failing build is a TerminalError carrying
 * kustomize's own message; a timeout is an UpstreamError. The child gets only PATH, HOME and TMPDIR from the
 * environment, so no cloud credentials can leak into rendered manifests.
 */
export async function runKustomizeBuild(dir: string, opts: KustomizeBuildOptions = {}): Promise<string> {
  const env = opts.env ?? process.env
  const tool = findKustomize(env)
  const args = [...tool.prefix, dir]
  if (opts.loadRestrictor) args.push('--load-restrictor', opts.loadRestrictor)
  if (opts.enableHelm) args.push('--enable-helm')
  for (const version of opts.helmApiVersions ?? []) args.push('--helm-api-versions', version)
  if (opts.helmKubeVersion) args.push('--helm-kube-version', opts.helmKubeVersion)
  const childEnv: NodeJS.ProcessEnv = {
    PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: env.HOME ?? os.tmpdir(),
    TMPDIR: env.TMPDIR ?? os.tmpdir(),
  }
  // kubectl (the Google Cloud SDK wrapper included) wants a kubeconfig location even for `kustomize`.
  if (tool.source === 'kubectl') childEnv.KUBECONFIG = path.join(os.tmpdir(), 'tugboat-no-kubeconfig')
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000
  const hide = (text: string): string => (opts.hidePath ? text.split(opts.hidePath).join('.') : text)

  return new Promise<string>((resolve, reject) => {
    const child = spawn(tool.command, args, {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: opts.signal,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(
        new UpstreamError(`could not run kustomize (${tool.command}): ${error.message}`, {
          data: { tool: 'kustomize' },
        }),
      )
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut) {
        reject(
          new UpstreamError(`kustomize build timed out after ${timeoutMs} ms`, {
            data: { tool: 'kustomize' },
          }),
        )
      } else if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'))
      } else {
        const message =
          hide(
            Buffer.concat(err)
              .toString('utf8')
              .trim()
              .replace(/^Error: /, ''),
          ) || `exit code ${code}`
        reject(
          new TerminalError(`kustomize build failed: ${message}`, {
            data: { tool: 'kustomize', exitCode: code },
          }),
        )
      }
    })
  })
}
