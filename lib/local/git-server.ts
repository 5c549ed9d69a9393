import { spawn, execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** One HTTP request the server received (recorded before auth is checked). */
export interface GitRequest {
  method: string
  /** URL path, e.g. `/app.git/info/refs`. */
  path: string
  /** Raw query string without `?`, e.g. `service=git-upload-pack` (empty when none). */
  query: string
  /** `true` when the request carried valid credentials, or the server needs none. */
  authorized: boolean
}

/** Files of a commit: path → content (`{ content, executable: true }` for mode 100755); `null` deletes the path. */
export type GitFiles = Record<
  string,
  string | Uint8Array | { content: string | Uint8Array; executable: boolean } | null
>

export interface CommitOptions {
  message?: string
  author?: { name: string; email: string }
  /** When true the commit's tree is exactly `files`; otherwise `files` are applied on top of the branch's tree. */
  replace?: boolean
}

export interface CreateRepoOptions extends CommitOptions {
  /** Branch of the first commit, and the repository's HEAD. Default `main`. */
  branch?: string
  /** Create the repository without any commit (an empty remote). */
  empty?: boolean
}

export interface GitServerOptions {
  /** Directory holding the bare repositories; a fresh temp dir (removed on `close`) when omitted. */
  root?: string
  /** When set, every request needs HTTP basic auth with these credentials (401 + WWW-Authenticate otherwise). */
  auth?: { username: string; password: string }
  /** Port to listen on (127.0.0.1); a random free one when omitted. Rejects when it is taken. */
  port?: number
}

/** A git smart-HTTP server (`git http-backend` run as CGI), for tests and the `npm start` demo. */
export interface GitServer {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** Directory holding the bare repositories (`<root>/<name>.git`). */
  root: string
  /** Every request received, in order. Clear it with `requests.length = 0`. */
  requests: GitRequest[]
  /**
   * Runs before each request is served (after it is logged). Tests use it to simulate a concurrent
   * writer, e.g. `server.beforeRequest = async (r) => { if (r.method === 'POST') await server.commit(...) }`.
   */
  beforeRequest?: (request: GitRequest) => void | Promise<void>
  /** Creates the bare repo `<name>.git` with one commit of `files` on `opts.branch` (default `main`); returns its URL. */
  createRepo(name: string, files: GitFiles, opts?: CreateRepoOptions): Promise<string>
  /** The clone URL of a repository (no credentials in it). */
  repoURL(name: string): string
  /**
   * Commits `files` on `branch` of repo `name` directly on the server (as another user pushing would),
   * creating the branch when missing (as an orphan, or from `files` only). Returns the new commit SHA.
   */
  commit(name: string, branch: string, files: GitFiles, opts?: CommitOptions): Promise<string>
  /** The SHA a branch points at, or `undefined` when it does not exist. */
  head(name: string, branch: string): Promise<string | undefined>
  /** Paths of all files in `ref` (a branch, tag or SHA), sorted. */
  listFiles(name: string, ref: string): Promise<string[]>
  /** The content of `filePath` at `ref`, or `undefined` when it is absent. */
  readFile(name: string, ref: string, filePath: string): Promise<string | undefined>
  /** Commits reachable from `ref`, newest first: SHA, subject + body, parents. */
  log(name: string, ref: string): Promise<Array<{ sha: string; message: string; parents: string[] }>>
  /** Runs a git CLI command in repo `name` (bare) and returns stdout. */
  git(name: string, args: string[], env?: Record<string, string>): Promise<string>
  /** Number of requests whose path ends with `suffix` (e.g. `/git-upload-pack`) and method matches. */
  count(suffix: string, method?: string): number
  close(): Promise<void>
}

const DEFAULT_AUTHOR = { name: 'Test Server', email: 'server@example.com' }

/** Starts a git smart-HTTP server on 127.0.0.1 (`opts.port`, else random) serving bare repos under `root`. */
export async function startGitServer(opts: GitServerOptions = {}): Promise<GitServer> {
  const ownsRoot = opts.root === undefined
  const root = opts.root ?? (await mkdtemp(path.join(os.tmpdir(), 'git-server-')))
  await mkdir(root, { recursive: true })
  const backend = await gitExecPath('git-http-backend')
  const requests: GitRequest[] = []

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(String(error))
    })
  })

  const api: GitServer = {
    url: '',
    root,
    requests,
    createRepo,
    repoURL: (name) => `${api.url}/${repoDirName(name)}`,
    commit,
    head,
    listFiles,
    readFile,
    log,
    git: (name, args, env) => git(repoDir(name), args, env),
    count: (suffix, method) =>
      requests.filter((r) => r.path.endsWith(suffix) && (method === undefined || r.method === method)).length,
    close,
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const authorized = checkAuth(req.headers.authorization)
    const entry: GitRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.slice(1),
      authorized,
    }
    requests.push(entry)
    if (api.beforeRequest) await api.beforeRequest(entry)
    if (!authorized) {
      req.resume()
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'content-type': 'text/plain' })
      res.end('authentication required')
      return
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: entry.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: entry.query,
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: root,
    }
    if (opts.auth) env.REMOTE_USER = opts.auth.username
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length']
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding']
    const protocol = req.headers['git-protocol']
    if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol
    const child = spawn(backend, [], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    req.pipe(child.stdin)
    child.stdin.on('error', () => undefined)
    const stderr: Buffer[] = []
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    await relayCgi(child.stdout, res)
    const [code] = (await once(child, 'close')) as [number | null]
    if (code !== 0 && process.env.GIT_SERVER_DEBUG) {
      console.error(`git http-backend exited ${code}: ${Buffer.concat(stderr).toString()}`)
    }
  }

  function checkAuth(header: string | undefined): boolean {
    if (!opts.auth) return true
    if (!header?.startsWith('Basic ')) return false
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return (
      colon >= 0 &&
      decoded.slice(0, colon) === opts.auth.username &&
      decoded.slice(colon + 1) === opts.auth.password
    )
  }

  function repoDirName(name: string): string {
    return name.endsWith('.git') ? name : `${name}.git`
  }
  function repoDir(name: string): string {
    return path.join(root, repoDirName(name))
  }

  async function createRepo(name: string, files: GitFiles, o: CreateRepoOptions = {}): Promise<string> {
    const dir = repoDir(name)
    const branch = o.branch ?? 'main'
    await mkdir(dir, { recursive: true })
    await git(dir, ['init', '--bare', '--quiet', `--initial-branch=${branch}`])
    await git(dir, ['config', 'http.receivepack', 'true'])
    await git(dir, ['config', 'uploadpack.allowAnySHA1InWant', 'true'])
    if (!o.empty) await commit(name, branch, files, { ...o, replace: true })
    return api.repoURL(name)
  }

  async function commit(
    name: string,
    branch: string,
    files: GitFiles,
    o: CommitOptions = {},
  ): Promise<string> {
    const dir = repoDir(name)
    const ref = `refs/heads/${branch}`
    const parent = await head(name, branch)
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'git-server-commit-'))
    try {
      const env = { GIT_INDEX_FILE: path.join(scratch, 'index') }
      if (parent && !o.replace) await git(dir, ['read-tree', parent], env)
      else await git(dir, ['read-tree', '--empty'], env)
      const work = path.join(scratch, 'work')
      await mkdir(work, { recursive: true })
      const added: string[] = []
      const removed: string[] = []
      for (const [file, content] of Object.entries(files)) {
        if (content === null) {
          removed.push(file)
          continue
        }
        const target = path.join(work, file)
        await mkdir(path.dirname(target), { recursive: true })
        if (typeof content === 'string' || content instanceof Uint8Array) {
          await writeFile(target, content)
        } else {
          await writeFile(target, content.content, { mode: content.executable ? 0o755 : 0o644 })
        }
        added.push(file)
      }
      if (removed.length > 0) {
        await git(
          dir,
          ['update-index', '--force-remove', '-z', '--stdin'],
          { ...env, GIT_WORK_TREE: work },
          removed.join('\0') + '\0',
          work,
        )
      }
      if (added.length > 0) {
        await git(
          dir,
          ['update-index', '--add', '-z', '--stdin'],
          { ...env, GIT_WORK_TREE: work },
          added.join('\0') + '\0',
          work,
        )
      }
      const tree = (await git(dir, ['write-tree'], env)).trim()
      const author = o.author ?? DEFAULT_AUTHOR
      const commitEnv = {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
      }
      const args = ['commit-tree', tree, '-m', o.message ?? `update ${branch}`]
      if (parent) args.push('-p', parent)
      const sha = (await git(dir, args, commitEnv)).trim()
      await git(dir, ['update-ref', ref, sha, parent ?? ''])
      return sha
    } finally {
      await rm(scratch, { recursive: true, force: true })
    }
  }

  async function head(name: string, branch: string): Promise<string | undefined> {
    try {
      return (
        await git(repoDir(name), ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])
      ).trim()
    } catch {
      return undefined
    }
  }

  async function listFiles(name: string, ref: string): Promise<string[]> {
    const out = await git(repoDir(name), ['ls-tree', '-r', '-z', '--name-only', ref])
    return out
      .split('\0')
      .filter((f) => f !== '')
      .sort()
  }

  async function readFile(name: string, ref: string, filePath: string): Promise<string | undefined> {
    try {
      return await git(repoDir(name), ['show', `${ref}:${filePath}`])
    } catch {
      return undefined
    }
  }

  async function log(
    name: string,
    ref: string,
  ): Promise<Array<{ sha: string; message: string; parents: string[] }>> {
    const out = await git(repoDir(name), ['log', '-z', '--format=%H%x01%P%x01%B', ref])
    return out
      .split('\0')
      .filter((r) => r !== '')
      .map((record) => {
        const [sha = '', parents = '', message = ''] = record.split('\x01')
        return {
          sha,
          message: message.replace(/\n+$/, ''),
          parents: parents.split(' ').filter((p) => p !== ''),
        }
      })
  }

  async function close(): Promise<void> {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (ownsRoot) await rm(root, { recursive: true, force: true })
  }

  server.listen(opts.port ?? 0, '127.0.0.1')
  try {
    await once(server, 'listening')
  } catch (error) {
    if (ownsRoot) await rm(root, { recursive: true, force: true })
    throw error
  }
  const { port } = server.address() as AddressInfo
  api.url = `http://127.0.0.1:${port}`
  return api
}

/** Copies a CGI response (Status + headers, blank line, body) from `stdout` to `res`. */
async function relayCgi(stdout: NodeJS.ReadableStream, res: http.ServerResponse): Promise<void> {
  let head = Buffer.alloc(0)
  let headersDone = false
  for await (const chunk of stdout as AsyncIterable<Buffer>) {
    if (headersDone) {
      res.write(chunk)
      continue
    }
    head = Buffer.concat([head, chunk])
    let end = head.indexOf('\r\n\r\n')
    let sepLength = 4
    if (end < 0) {
      end = head.indexOf('\n\n')
      sepLength = 2
    }
    if (end < 0) continue
    headersDone = true
    let status = 200
    let statusText = 'OK'
    const headers: Record<string, string> = {}
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const key = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (key.toLowerCase() === 'status') {
        status = Number.parseInt(value, 10)
        statusText = value.slice(String(status).length).trim() || statusText
      } else {
        headers[key] = value
      }
    }
    res.writeHead(status, statusText, headers)
    const rest = head.subarray(end + sepLength)
    if (rest.length > 0) res.write(rest)
  }
  if (!headersDone) res.writeHead(502, { 'content-type': 'text/plain' })
  res.end()
}

async function gitExecPath(command: string): Promise<string> {
  const { stdout } = await execFileAsync('git', ['--exec-path'])
  return path.join(stdout.trim(), command)
}

function git(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string,
  cwd = dir,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd,
        env: { ...process.env, GIT_DIR: dir, GIT_CONFIG_NOSYSTEM: '1', ...env },
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr || error.message}`))
        else resolve(stdout)
      },
    )
    child.stdin?.on('error', () => undefined)
    if (input !== undefined) child.stdin?.end(input)
  })
}
