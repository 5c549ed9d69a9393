import { Command, CommanderError, Option } from 'commander'
import { ApiError, apiClient } from './client.js'
import { CliConfigError, loadCliConfig, saveCliConfig } from './config.js'
import { readManifestSources } from './manifest-files.js'
import { printStructured, tables, type OutputFormat } from './printers.js'
import { PHASE_EXIT, waitForPromotion } from './promote.js'
import { parseDuration } from '../promotion/durations.js'

/**
 * Exit codes: 0 ok, 1 failed (the API's message is printed), 2 bad usage, 3 not logged in or server unreachable;
 * `promote --wait`: 4 Failed, 5 Errored, 6 Aborted, 7 still running at --timeout.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

/** Lets a command end the run with a chosen exit code after printing its own output. */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`)
  }
}

const kindAliases: Record<string, string> = {
  project: 'projects',
  projects: 'projects',
  warehouse: 'warehouses',
  warehouses: 'warehouses',
  stage: 'stages',
  stages: 'stages',
  freight: 'freight',
  freights: 'freight',
  promotion: 'promotions',
  promotions: 'promotions',
  'promotion-task': 'promotion-tasks',
  'promotion-tasks': 'promotion-tasks',
  promotiontasks: 'promotion-tasks',
  'analysis-template': 'analysis-templates',
  'analysis-templates': 'analysis-templates',
  projectconfig: 'config',
  'project-config': 'config',
  config: 'config',
}

type Out = { log: (line: string) => void; error: (line: string) => void }

function client() {
  return apiClient(loadCliConfig())
}

type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string } }
type ApplyResult = {
  createdResourceManifest?: Manifest
  updatedResourceManifest?: Manifest
  deletedResourceManifest?: Manifest
  error?: string
}

function resultLine(result: ApplyResult, verb: string): string {
  const manifest =
    result.createdResourceManifest ?? result.updatedResourceManifest ?? result.deletedResourceManifest
  if (!manifest) return `error: ${result.error}`
  const group = String(manifest.apiVersion).includes('/')
    ? `.${String(manifest.apiVersion).split('/')[0]}`
    : ''
  const action = result.createdResourceManifest
    ? 'created'
    : result.deletedResourceManifest
      ? 'deleted'
      : verb
  return `${String(manifest.kind).toLowerCase()}${group}/${manifest.metadata?.name} ${action}`
}

/** Builds the `tugboat` program; `out` lets tests capture what it prints. */
export function buildProgram(
  out: Out = { log: (l) => console.log(l), error: (l) => console.error(l) },
): Command {
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
      .requiredOption(
        '-f, --filename <paths...>',
        'files or directories of YAML/JSON manifests (- for stdin)',
      )
      .option('-R, --recursive', 'descend into subdirectories of -f directories', false)
      .option('-p, --project <project>', 'project (namespace) for documents that name none')

  manifestCommand('apply', 'create or update resources from manifests, all or nothing').action(
    async (opts: { filename: string[]; recursive: boolean; project?: string }) => {
      const text = readManifestSources(opts.filename, opts.recursive)
      const query = new URLSearchParams({
        upsert: 'true',
        ...(opts.project ? { project: opts.project } : {}),
      })
      const { results } = await client().request<{ results: ApplyResult[] }>(
        'PUT',
        `/v1beta1/resources?${query}`,
        { text },
      )
      for (const result of results) out.log(resultLine(result, 'configured'))
    },
  )

  manifestCommand('delete', 'delete the resources named by manifests').action(
    async (opts: { filename: string[]; recursive: boolean; project?: string }) => {
      const text = readManifestSources(opts.filename, opts.recursive)
      const query = new URLSearchParams(opts.project ? { project: opts.project } : {})
      const { results } = await client().request<{ results: ApplyResult[] }>(
        'DELETE',
        `/v1beta1/resources?${query}`,
        { text },
      )
      for (const result of results) out.log(resultLine(result, 'deleted'))
    },
  )

  program
    .command('get')
    .description(
      'list or show resources: projects, warehouses, stages, freight, promotions, promotion-tasks, analysis-templates, projectconfig',
    )
    .argument('<kind>', 'what to list')
    .argument('[name]', 'one resource by name (freight: name or alias)')
    .option('-p, --project <project>', 'project')
    .option('--warehouse <warehouse>', 'freight: only from this Warehouse')
    .option('--stage <stage>', 'promotions: only to this Stage')
    .option('-l, --selector <selector>', 'promotions: label selector, e.g. kargo.akuity.io/freight=<name>')
    .option('--latest', "promotions: only the newest (with --stage, the Stage's newest)", false)
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .action(
      async (
        kindArg: string,
        name: string | undefined,
        opts: {
          project?: string
          warehouse?: string
          stage?: string
          selector?: string
          latest: boolean
          output: OutputFormat
        },
      ) => {
        const kind = kindAliases[kindArg.toLowerCase()]
        if (!kind)
          throw new UsageError(
            `unknown kind "${kindArg}"; try one of ${[...new Set(Object.values(kindAliases))].join(', ')}`,
          )
        if (kind !== 'projects' && !opts.project)
          throw new UsageError(`-p/--project is required to get ${kind}`)
        const api = client()
        const base =
          kind === 'projects'
            ? '/v1beta1/projects'
            : `/v1beta1/projects/${encodeURIComponent(opts.project!)}/${kind}`
        let items: Array<Record<string, unknown>>
        if (kind === 'config') {
          // One per project (named like it): its webhook receivers and their URLs.
          const one = await api.get<Record<string, unknown>>(base)
          if (opts.output !== 'table') return out.log(printStructured(one, opts.output))
          items = [one]
        } else if (name) {
          const one = await api.get<Record<string, unknown>>(`${base}/${encodeURIComponent(name)}`)
          if (opts.output !== 'table') return out.log(printStructured(one, opts.output))
          items = [one]
        } else if (kind === 'freight') {
          const query = opts.warehouse ? `?origins=${encodeURIComponent(opts.warehouse)}` : ''
          const body = await api.get<{ groups: Record<string, { items: Array<Record<string, unknown>> }> }>(
            `${base}${query}`,
          )
          items = Object.values(body.groups).flatMap((g) => g.items)
        } else if (kind === 'promotions') {
          const query = new URLSearchParams({
            ...(opts.stage ? { stage: opts.stage } : {}),
            ...(opts.selector ? { labelSelector: opts.selector } : {}),
          })
          items = (await api.get<{ items: Array<Record<string, unknown>> }>(`${base}?${query}`)).items
          if (opts.latest) items = items.slice(0, 1)
        } else {
          items = (await api.get<{ items: Array<Record<string, unknown>> }>(base)).items
        }
        const single = name !== undefined || (opts.latest && items.length === 1)
        if (opts.output !== 'table')
          return out.log(printStructured(single ? items[0] : { items }, opts.output))
        out.log(
          items.length === 0
            ? `No ${kind} found${opts.project ? ` in project ${opts.project}` : ''}.`
            : tables[kind]!(items),
        )
      },
    )

  program
    .command('promote')
    .description('promote Freight to a Stage (or to every Stage downstream of one), or abort a Promotion')
    .option('-p, --project <project>', 'project')
    .option('--freight <name>', 'Freight by name')
    .option('--freight-alias <alias>', 'Freight by alias')
    .option('--warehouse <warehouse>', "the Warehouse's newest Freight available to the Stage")
    .option('--stage <stage>', 'the Stage to promote to')
    .option(
      '--downstream-from <stage>',
      'promote to every Stage that takes Freight from this one (all or nothing)',
    )
    .option('--wait', 'wait for the Promotion to finish, showing step progress', false)
    .option('--timeout <duration>', 'with --wait: give up after this long (e.g. 10m)', '30m')
    .option('--name <promotion>', 'with --abort: the Promotion to abort')
    .option('--abort', 'abort the Promotion named by --name', false)
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'),
    )
    .action(
      async (opts: {
        project?: string
        freight?: string
        freightAlias?: string
        warehouse?: string
        stage?: string
        downstreamFrom?: string
        wait: boolean
        timeout: string
        name?: string
        abort: boolean
        output: 'text' | 'json' | 'yaml'
      }) => {
        if (!opts.project) throw new UsageError('-p/--project is required')
        const api = client()
        const project = encodeURIComponent(opts.project)
        if (opts.abort) {
          if (!opts.name) throw new UsageError('--abort needs --name <promotion>')
          const aborted = await api.post<{ metadata: { name: string }; status: { phase: string } }>(
            `/v1beta1/projects/${project}/promotions/${encodeURIComponent(opts.name)}/abort`,
          )
          out.log(
            opts.output === 'text'
              ? `promotion.kargo.akuity.io/${aborted.metadata.name} abort requested (phase ${aborted.status.phase})`
              : printStructured({ name: aborted.metadata.name, phase: aborted.status.phase }, opts.output),
          )
          return
        }
        const selectors = [
          opts.freight && { freight: opts.freight },
          opts.freightAlias && { freightAlias: opts.freightAlias },
          opts.warehouse && { warehouse: opts.warehouse },
        ].filter(Boolean)
        if (selectors.length !== 1)
          throw new UsageError('give exactly one of --freight, --freight-alias or --warehouse')
        if (Boolean(opts.stage) === Boolean(opts.downstreamFrom))
          throw new UsageError('give exactly one of --stage or --downstream-from')
        if (opts.downstreamFrom && opts.warehouse)
          throw new UsageError('--downstream-from takes --freight or --freight-alias')
        const timeoutMs = parseDuration(opts.timeout, '--timeout')
        const created: Array<{ metadata: { name: string }; spec: { stage: string; freight: string } }> =
          opts.stage
            ? [
                await api.post(
                  `/v1beta1/projects/${project}/stages/${encodeURIComponent(opts.stage)}/promotions`,
                  selectors[0],
                ),
              ]
            : (
                await api.post<{
                  items: Array<{ metadata: { name: string }; spec: { stage: string; freight: string } }>
                }>(
                  `/v1beta1/projects/${project}/stages/${encodeURIComponent(opts.downstreamFrom!)}/promotions/downstream`,
                  selectors[0],
                )
              ).items
        const text = opts.output === 'text'
        for (const p of created)
          if (text) out.log(`promotion.kargo.akuity.io/${p.metadata.name} promotion created`)
        if (!opts.wait) {
          if (!text)
            out.log(
              printStructured(
                created.map((p) => ({
                  name: p.metadata.name,
                  stage: p.spec.stage,
                  freight: p.spec.freight,
                  phase: 'Pending',
                })),
                opts.output as 'json' | 'yaml',
              ),
            )
          return
        }
        let worst = 0
        const results: Array<Record<string, unknown>> = []
        for (const p of created) {
          const final = await waitForPromotion(api, opts.project, p.metadata.name, {
            timeoutMs,
            ...(text ? { progress: (line: string) => out.log(line) } : {}),
          })
          const phase = final?.status?.phase ?? 'Running'
          const code = final
            ? (PHASE_EXIT[phase as keyof typeof PHASE_EXIT] ?? EXIT.failed)
            : PHASE_EXIT.timeout
          worst = Math.max(worst, code)
          const failing = final?.status?.stepExecutionMetadata?.find(
            (s) => s.status === 'Failed' || s.status === 'Errored',
          )
          results.push({
            name: p.metadata.name,
            stage: p.spec.stage,
            freight: p.spec.freight,
            phase,
            ...(final?.status?.message ? { message: final.status.message } : {}),
            ...(failing ? { failedStep: failing.alias } : {}),
          })
          if (text) {
            if (!final) out.error(`promotion ${p.metadata.name} still ${phase} after ${opts.timeout}`)
            else if (phase === 'Succeeded') out.log(`promotion ${p.metadata.name} Succeeded`)
            else out.error(`promotion ${p.metadata.name} ${phase}: ${final.status?.message ?? ''}`.trim())
          }
        }
        if (!text)
          out.log(
            printStructured(created.length === 1 ? results[0] : results, opts.output as 'json' | 'yaml'),
          )
        if (worst !== 0) throw new ExitWith(worst)
      },
    )

  program
    .command('approve')
    .description('approve Freight for a Stage, making it available there without upstream verification')
    .requiredOption('-p, --project <project>', 'project')
    .option('--freight <name>', 'Freight by name')
    .option('--freight-alias <alias>', 'Freight by alias')
    .requiredOption('--stage <stage>', 'the Stage to approve it for')
    .action(async (opts: { project: string; freight?: string; freightAlias?: string; stage: string }) => {
      const freight = opts.freight ?? opts.freightAlias
      if (!freight || (opts.freight && opts.freightAlias))
        throw new UsageError('give exactly one of --freight or --freight-alias')
      await client().post(
        `/v1beta1/projects/${encodeURIComponent(opts.project)}/freight/${encodeURIComponent(freight)}/approve?stage=${encodeURIComponent(opts.stage)}`,
      )
      out.log(`freight ${freight} approved for stage ${opts.stage}`)
    })

  program
    .command('refresh')
    .description('poll a Warehouse now')
    .argument('<kind>', 'warehouse')
    .argument('<name>', 'the Warehouse')
    .requiredOption('-p, --project <project>', 'project')
    .option('--wait', 'accepted for compatibility: refresh always waits for the poll to finish', false)
    .action(async (kind: string, name: string, opts: { project: string }) => {
      if (!/^warehouses?$/.test(kind)) throw new UsageError(`can only refresh a warehouse (got "${kind}")`)
      const body = await client().post<{
        result?: { ok: boolean; message?: string; freightCreated?: string[] }
      }>(
        `/v1beta1/projects/${encodeURIComponent(opts.project)}/warehouses/${encodeURIComponent(name)}/refresh`,
      )
      const result = body.result
      if (result && !result.ok) {
        out.error(`warehouse ${name}: discovery failed: ${result.message}`)
        throw new ExitWith(EXIT.failed)
      }
      const created = result?.freightCreated ?? []
      out.log(
        `warehouse ${name} refreshed${created.length ? `; new Freight: ${created.join(', ')}` : '; no new Freight'}`,
      )
    })

  program
    .command('verify')
    .description("re-run (or with --abort, stop) the verification of a Stage's current Freight")
    .argument('<kind>', 'stage')
    .argument('<name>', 'the Stage')
    .requiredOption('-p, --project <project>', 'project')
    .option('--abort', 'abort the running verification', false)
    .action(async (kind: string, name: string, opts: { project: string; abort: boolean }) => {
      if (!/^stages?$/.test(kind)) throw new UsageError(`can only verify a stage (got "${kind}")`)
      const base = `/v1beta1/projects/${encodeURIComponent(opts.project)}/stages/${encodeURIComponent(name)}/verification`
      await client().post(opts.abort ? `${base}/abort` : base)
      out.log(
        opts.abort ? `verification of stage ${name} aborted` : `verification of stage ${name} requested`,
      )
    })

  const create = program.command('create').description('create things that are not manifests')

  create
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

  const collect = (value: string, previous: string[] = []) => [...previous, value]
  create
    .command('freight')
    .description("assemble Freight from a Warehouse's discovered artifacts (freightCreationPolicy: Manual)")
    .requiredOption('-p, --project <project>', 'project')
    .requiredOption('--warehouse <warehouse>', 'the Warehouse that discovered the artifacts')
    .option('--image <repo:tag>', 'an image revision (repeatable)', collect, [])
    .option('--commit <repo@id>', 'a commit (repeatable)', collect, [])
    .option('--chart <repo/name:version>', 'a chart version (repeatable)', collect, [])
    .action(
      async (opts: {
        project: string
        warehouse: string
        image: string[]
        commit: string[]
        chart: string[]
      }) => {
        const splitLast = (value: string, sep: string, what: string) => {
          const at = value.lastIndexOf(sep)
          if (at <= 0 || at === value.length - 1 || (sep === ':' && value.indexOf('/', at) >= 0))
            throw new UsageError(
              `${what} must look like ${what === '--image' ? 'repo:tag' : what === '--commit' ? 'repo@id' : 'repo/name:version'} (got "${value}")`,
            )
          return [value.slice(0, at), value.slice(at + 1)] as const
        }
        const body = {
          origin: { kind: 'Warehouse', name: opts.warehouse },
          images: opts.image.map((i) => {
            const [repoURL, tag] = splitLast(i, ':', '--image')
            return { repoURL, tag }
          }),
          commits: opts.commit.map((c) => {
            const [repoURL, id] = splitLast(c, '@', '--commit')
            return { repoURL, id }
          }),
          charts: opts.chart.map((c) => {
            const [rest, version] = splitLast(c, ':', '--chart')
            const [repoURL, name] = splitLast(rest, '/', '--chart')
            return { repoURL, name, version }
          }),
        }
        const freight = await client().post<{ metadata: { name: string }; alias: string }>(
          `/v1beta1/projects/${encodeURIComponent(opts.project)}/freight`,
          body,
        )
        out.log(`freight.kargo.akuity.io/${freight.metadata.name} (${freight.alias}) created`)
      },
    )

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
    if (error instanceof ExitWith) return error.code
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

const invokedDirectly =
  process.argv[1] && /(?:tugboat(?:\.mjs)?|lib[\\/]cli[\\/]main\.ts)$/.test(process.argv[1])
if (invokedDirectly) {
  process.exitCode = await runCli(process.argv.slice(2))
}
