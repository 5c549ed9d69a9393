import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'

export const CliConfigSchema = z.object({ server: z.string().url(), token: z.string().min(1) })
export type CliConfig = z.infer<typeof CliConfigSchema>

/** Where `tugboat login` and `npm start` write the CLI config (TUGBOAT_CONFIG overrides). */
export function configPath(env = process.env): string {
  return (
    env.TUGBOAT_CONFIG ??
    path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'tugboat', 'config.json')
  )
}

export class CliConfigError extends Error {}

/** The server and token to use: TUGBOAT_SERVER / TUGBOAT_TOKEN override the config file. */
export function loadCliConfig(env = process.env): CliConfig {
  let fromFile: Partial<CliConfig> = {}
  const file = configPath(env)
  if (fs.existsSync(file)) {
    try {
      fromFile = CliConfigSchema.partial().parse(JSON.parse(fs.readFileSync(file, 'utf8')))
    } catch {
      throw new CliConfigError(`${file} is not a valid Tugboat CLI config; run \`tugboat login\` again`)
    }
  }
  const server = env.TUGBOAT_SERVER ?? fromFile.server
  const token = env.TUGBOAT_TOKEN ?? fromFile.token
  if (!server || !token) {
    throw new CliConfigError(
      'not logged in: run `tugboat login <server> --token <token>`, start Tugboat locally with `npm start`, or set TUGBOAT_SERVER and TUGBOAT_TOKEN',
    )
  }
  return { server: server.replace(/\/+$/, ''), token }
}

/** Writes the CLI config with owner-only permissions (it holds a token). */
export function saveCliConfig(config: CliConfig, env = process.env): string {
  const file = configPath(env)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  fs.chmodSync(file, 0o600)
  return file
}
