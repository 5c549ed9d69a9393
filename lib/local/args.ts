import { parseArgs } from 'node:util'
import path from 'node:path'

export interface LocalOptions {
  port: number
  host: string
  inMemory: boolean
  dataDir: string
  discoverEverySeconds: number
  reconcileEverySeconds: number
  /** Start the offline demo pipeline (examples/demo) with its git server; off with `--no-demo`. */
  demo: boolean
}

export const LOCAL_USAGE = `usage: npm start -- [--port 8080] [--in-memory] [--data-dir .tugboat] [--no-demo]

  --port N           serve the API on http://127.0.0.1:N (default 8080)
  --in-memory        keep everything in memory (default: persist to --data-dir)
  --data-dir DIR     where data lives between restarts (default .tugboat)
  --discover-every S seconds between discovery runs (default 5)
  --reconcile-every S seconds between reconcile runs (default 5)
  --no-demo          do not start the demo pipeline (project "demo", its git server and repository)`

/** Parses `npm start -- …` arguments; throws with a one-line message on bad input. */
export function parseLocalArgs(argv: string[], cwd = process.cwd()): LocalOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'in-memory': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: '.tugboat' },
      'discover-every': { type: 'string', default: '5' },
      'reconcile-every': { type: 'string', default: '5' },
      'no-demo': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) throw new HelpRequested()
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`--port must be a number from 1 to 65535 (got "${values.port}")`)
  const seconds = (name: string, raw: string) => {
    const n = Number(raw)
    if (!(n > 0)) throw new Error(`--${name} must be a positive number of seconds (got "${raw}")`)
    return n
  }
  return {
    port,
    host: values.host!,
    inMemory: values['in-memory']!,
    dataDir: path.resolve(cwd, values['data-dir']!),
    discoverEverySeconds: seconds('discover-every', values['discover-every']!),
    reconcileEverySeconds: seconds('reconcile-every', values['reconcile-every']!),
    demo: !values['no-demo'],
  }
}

export class HelpRequested extends Error {}
