import { Command, CommanderError, Option } from 'commander'
import { ApiError, apiClient } from './client.js'
import { CliConfigError, loadCliConfig, saveCliConfig } from './config.js'
import { readManifestSources } from './manifest-files.js'
import { printStructured, tables, type OutputFormat } from './printers.js'

/** Exit codes: 0 ok, 1 failed (the API's message is printed), 2 bad usage, 3 not logged in or server unreachable. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

const kindAliases: Record<string, string> = {
  project: 'projects', projects: 'projects',
  warehouse: 'warehouses', warehouses: 'warehouses',
  stage: 'stages', stages: 'stages',
  freight: 'freight', freights: 'freight',
  promotion: 'promotions', promotions: 'promotions',
  'promotion-task': 'promotion-tasks', 'promotion-tasks': 'promotion-tasks', promotiontasks: 'promotion-tasks',
  'analysis-template': 'analysis-templates', 'analysis-templates': 'analysis-templates',
}

type Out = { log: (line: string) => void; error: (line: string) => void }

function client() {
  return apiClient(loadCliConfig())
}

function resultLine(result: Record<string, any>, verb: string): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const manifest = result.createdResourceManifest ?? result.updatedResourceManifest ?? result.deletedResourceManifest
  if (!manifest) return `error: ${result.error}`
  const group = String(manifest.apiVersion).includes('/') ? `.${String(manifest.apiVersion).split('/')[0]}` : ''
  const action = result.createdResourceManifest ? 'created' : result.deletedResourceManifest ? 'deleted' : verb
  return `${String(manifest.kind).toLowerCase()}${group}/${manifest.metadata?.name} ${action}`
}

/** Builds the `tugboat` program; `out` lets tests capture what it prints. */
export function buildProgram(out: Out = { log: (l) => console.log(l), error: (l) => console.error(l) }): Command {
  const program = new Command('tugboat')
    .description("Tugboat: Kargo's continuous promotion, on serverless functions")
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => out.log(s.trimEnd()), writeErr: (s) => out.error(s.trimEnd()) })
    .exitOverride()

  program
    .command('login')
    .description('save the server URL and token the other commands use')
    .argument('<server>', 'Tugboat API URL, e.g. http://127.0.0.1:8080')
    .requiredOption('--token <token>', 'a bearer token (see `tugboat create token`)')
    .action(async (server: string, opts: { token: string }) => {
      const config = { server: server.replace(/\/+$/, ''), token: opts.token }
      await apiClient(config).get('/v1beta1/projects')
      out.log(`logged in to ${config.server} (config: ${saveCliConfig(config)})`)
    })

  const manifestCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .requiredOption('-f, --filename <paths...>', 'files or directories of YAML/JSON manifests (- for stdin)')
      .option('-R, --recursive', 'descend into subdirectories of -f directories', false)
      .option('-p, --project <project>', 'project (namespace) for documents that name none')

  manifestCommand('apply', 'create or update resources from manifests, all or nothing').action(
    async (opts: { filename: string[]; recursive: boolean; project?: string }) => {
      const text = readManifestSources(opts.filename, opts.recursive)
      const query = new URLSearchParams({ upsert: 'true', ...(opts.project ? { project: opts.project } : {}) })
      const { results } = await client().request<{ results: Array<Record<string, unknown>> }>('PUT', `/v1beta1/resources?${query}`, { text })
      for (const result of results) out.log(resultLine(result, 'configured'))
    },
  )

  manifestCommand('delete', 'delete the resources named by manifests').action(
    async (opts: { filename: string[]; recursive: boolean; project?: string }) => {
      const text = readManifestSources(opts.filename, opts.recursive)
      const query = new URLSearchParams(opts.project ? { project: opts.project } : {})
      const { results } = await client().request<{ results: Array<Record<string, unknown>> }>('DELETE', `/v1beta1/resources?${query}`, { text })
      for (const result of results) out.log(resultLine(result, 'deleted'))
    },
  )

  program
    .command('get')
    .description('list or show resources: projects, warehouses, stages, freight, promotions, promotion-tasks, analysis-templates')
    .argument('<kind>', 'what to list')
    .argument('[name]', 'one resource by name (freight: name or alias)')
    .option('-p, --project <project>', 'project')
    .option('--warehouse <warehouse>', 'freight: only from this Warehouse')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .action(async (kindArg: string, name: string | undefined, opts: { project?: string; warehouse?: string; output: OutputFormat }) => {
      const kind = kindAliases[kindArg.toLowerCase()]
      if (!kind) throw new UsageError(`unknown kind "${kindArg}"; try one of ${[...new Set(Object.values(kindAliases))].join(', ')}`)
      if (kind !== 'projects' && !opts.project) throw new UsageError(`-p/--project is required to get ${kind}`)
      const api = client()
      const base = kind === 'projects' ? '/v1beta1/projects' : `/v1beta1/projects/${encodeURIComponent(opts.project!)}/${kind}`
      let items: Array<Record<string, unknown>>
      if (name) {
        const one = await api.get<Record<string, unknown>>(`${base}/${encodeURIComponent(name)}`)
        if (opts.output !== 'table') return out.log(printStructured(one, opts.output))
        items = [one]
      } else if (kind === 'freight') {
        const query = opts.warehouse ? `?origins=${encodeURIComponent(opts.warehouse)}` : ''
        const body = await api.get<{ groups: Record<string, { items: Array<Record<string, unknown>> }> }>(`${base}${query}`)
        items = Object.values(body.groups).flatMap((g) => g.items)
      } else {
        items = (await api.get<{ items: Array<Record<string, unknown>> }>(base)).items
      }
      if (opts.output !== 'table') return out.log(printStructured(name ? items[0] : { items }, opts.output))
      out.log(items.length === 0 ? `No ${kind} found${opts.project ? ` in project ${opts.project}` : ''}.` : tables[kind]!(items))
    })

  program
    .command('create')
    .description('create things that are not manifests')
    .command('token')
    .description('create a bearer token bound to a role in a project (shown once)')
    .requiredOption('--role <role>', 'kargo-admin, kargo-promoter or kargo-viewer (system-admin without -p)')
    .option('-p, --project <project>', 'project the role applies to')
    .option('--name <name>', 'a name for the token, shown as the actor', `token-${Date.now()}`)
    .action(async (opts: { role: string; project?: string; name: string }) => {
      const path = opts.project
        ? `/v1beta1/projects/${encodeURIComponent(opts.project)}/roles/${encodeURIComponent(opts.role)}/api-tokens`
        : `/v1beta1/system/roles/${encodeURIComponent(opts.role)}/api-tokens`
      const created = await client().post<{ token: string }>(path, { name: opts.name })
      out.log(created.token)
    })

  return program
}

export class UsageError extends Error {}

/** Runs the CLI and returns the exit code; never throws. */
export async function runCli(argv: string[], out?: Out): Promise<number> {
  const printer = out ?? { log: (l: string) => console.log(l), error: (l: string) => console.error(l) }
  const program = buildProgram(printer)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (error instanceof UsageError) {
      printer.error(`error: ${error.message}`)
      return EXIT.usage
    }
    if (error instanceof CliConfigError) {
      printer.error(`error: ${error.message}`)
      return EXIT.unreachable
    }
    if (error instanceof ApiError) {
      printer.error(`error: ${error.message}`)
      return error.status === 0 ? EXIT.unreachable : EXIT.failed
    }
    printer.error(`error: ${(error as Error).message}`)
    return EXIT.failed
  }
}

const invokedDirectly = process.argv[1] && /(?:tugboat(?:\.mjs)?|lib[\\/]cli[\\/]main\.ts)$/.test(process.argv[1])
if (invokedDirectly) {
  process.exitCode = await runCli(process.argv.slice(2))
}
