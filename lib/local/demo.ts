import fs from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startGitServer, type GitFiles, type GitServer } from './git-server.js'
import { portInUse } from './ports.js'

/** The demo's project, Warehouse and repository, as `examples/demo/` names them. */
export const DEMO = { project: 'demo', warehouse: 'app', repo: 'demo/app' } as const

/** Where the demo lives in the repository: its manifests (`*.yaml`) and the app seeded into its git repository. */
export const DEMO_DIR = fileURLToPath(new URL('../../examples/demo/', import.meta.url))

/** The placeholder in `examples/demo/*.yaml` replaced by the demo repository's URL. */
export const DEMO_GIT_URL_PLACEHOLDER = '${DEMO_GIT_URL}'

export interface DemoOptions {
  /** Directory of the git server's bare repositories; a temp dir, removed on stop, when omitted. */
  gitRoot?: string
  /** File remembering the git server's port, so clones and the Warehouse's URL survive a restart. */
  portFile?: string
  /** The port to try first when none is remembered (or it is taken); else any free port. */
  preferredPort?: number
  /** Applies manifest text (YAML), upserting, as `PUT /v1beta1/resources?upsert=true` does. */
  apply: (yaml: string) => Promise<void>
}

export interface Demo {
  /** Clone URL of the demo repository. */
  repoURL: string
  /** True when this start created the repository (first start on this data dir). */
  seeded: boolean
  /** Directory of the git server's bare repositories. */
  gitRoot: string
  /** The lines `npm start` prints about the demo. */
  banner: string[]
  stop(): Promise<void>
}

/** The demo's manifests with the repository URL filled in, in file-name order, as one multi-document text. */
export function demoManifests(repoURL: string, dir = DEMO_DIR): string {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8').replaceAll(DEMO_GIT_URL_PLACEHOLDER, repoURL))
    .join('\n---\n')
}

/** Every file under `dir`, by path relative to it (for the first commit of the demo repository). */
function filesUnder(dir: string, prefix = ''): GitFiles {
  const files: GitFiles = {}
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.isDirectory()) Object.assign(files, filesUnder(dir, rel))
    else if (entry.isFile()) files[rel] = fs.readFileSync(path.join(dir, rel))
  }
  return files
}

async function choosePort(options: DemoOptions): Promise<number | undefined> {
  const remembered =
    options.portFile && fs.existsSync(options.portFile)
      ? Number(fs.readFileSync(options.portFile, 'utf8').trim())
      : undefined
  for (const port of [remembered, options.preferredPort]) {
    if (port && Number.isInteger(port) && port > 0 && port < 65536 && !(await portInUse(port))) return port
  }
  return undefined
}

/**
 * Starts the offline demo: a git smart-HTTP server holding `demo/app.git` (seeded from `examples/demo/app/` once),
 * then applies `examples/demo/*.yaml` pointed at it. Safe to run on every start: the apply is an upsert and the
 * repository is only created when missing.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const ownsRoot = options.gitRoot === undefined
  const root = options.gitRoot ?? (await mkdtemp(path.join(os.tmpdir(), 'tugboat-git-')))
  let server: GitServer | undefined
  try {
    const port = await choosePort(options)
    server = await startGitServer({ root, ...(port ? { port } : {}) }).catch((error: unknown) => {
      // Taken between the check and the listen: any port will do.
      if (port && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') return startGitServer({ root })
      throw error
    })
    if (options.portFile) fs.writeFileSync(options.portFile, new URL(server.url).port + '\n')

    const seeded = (await server.head(DEMO.repo, 'main')) === undefined
    if (seeded) {
      // A half-created repository (an earlier start died mid-seed) is replaced.
      await rm(path.join(root, `${DEMO.repo}.git`), { recursive: true, force: true })
      await server.createRepo(DEMO.repo, filesUnder(path.join(DEMO_DIR, 'app')), {
        message: 'Demo app: a Deployment and its ConfigMap',
        author: { name: 'Tugboat demo', email: 'demo@tugboat.local' },
      })
    }
    const repoURL = server.repoURL(DEMO.repo)
    await options.apply(demoManifests(repoURL))

    const running = server
    return {
      repoURL,
      seeded,
      gitRoot: root,
      banner: [
        `Demo  project "${DEMO.project}": Warehouse "${DEMO.warehouse}" watches ${repoURL} (main);`,
        `      Stages test → uat (both auto-promote) → prod (by hand). Try:`,
        `  npx tugboat get freight -p ${DEMO.project}`,
        `  npx tugboat get stages -p ${DEMO.project}`,
        `  git clone ${repoURL}   # edit, commit, push: new Freight → test → uat`,
        `  npx tugboat promote -p ${DEMO.project} --warehouse ${DEMO.warehouse} --stage prod --wait`,
      ],
      stop: async () => {
        await running.close()
        if (ownsRoot) await rm(root, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await server?.close()
    if (ownsRoot) await rm(root, { recursive: true, force: true })
    throw error
  }
}
