import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { serve } from '@hono/node-server'
import { saveCliConfig } from '../cli/config.js'
import { resetConfig } from '../config.js'
import { createApp } from '../http/app.js'
import { ensureQueues } from '../queue/queues.js'
import { ensureEventQueues } from '../events/queue.js'
import { appDeps, resetRuntimeContext, runtimeContext } from '../runtime/context.js'
import { ensureTable } from '../store/client.js'
import { HelpRequested, LOCAL_USAGE, parseLocalArgs, type LocalOptions } from './args.js'
import { DEMO, startDemo, type Demo } from './demo.js'
import { LocalSetupError, startDynamoDbLocal } from './dynamodb-local.js'
import { portInUse } from './ports.js'
import { consumeEvents, consumeQueue } from './queue-consumer.js'
import { startSqsLocal } from './sqs-local.js'

const TABLE = 'tugboat'

function readOrCreate(file: string | undefined, create: () => string): string {
  if (!file) return create()
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim()
  const value = create()
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, value + '\n', { mode: 0o600 })
  return value
}

function every(seconds: number, name: string, task: () => Promise<unknown>): () => void {
  let busy = false
  const timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      await task()
    } catch (error) {
      console.error(`[${name}] ${(error as Error).message}`)
    } finally {
      busy = false
    }
  }, seconds * 1000)
  return () => clearInterval(timer)
}

/** `npm start`: DynamoDB Local + SQS emulator + the API + the same handlers Lambda runs, on timers and queue polling. */
export async function startLocal(options: LocalOptions) {
  if (await portInUse(options.port, options.host)) {
    throw new LocalSetupError(
      `port ${options.port} is already in use; stop what holds it or choose another with \`npm start -- --port 9000\``,
    )
  }
  const persistent = !options.inMemory
  const stateFile = (name: string) => (persistent ? path.join(options.dataDir, name) : undefined)
  if (persistent) fs.mkdirSync(options.dataDir, { recursive: true })

  const dynamo = await startDynamoDbLocal({
    ...(persistent ? { dataDir: path.join(options.dataDir, 'dynamodb') } : {}),
    log: (line) => console.log(line),
  })
  try {
    return await startOnDynamo(options, dynamo, persistent, stateFile)
  } catch (error) {
    await dynamo.stop()
    throw error
  }
}

async function startOnDynamo(
  options: LocalOptions,
  dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>,
  persistent: boolean,
  stateFile: (name: string) => string | undefined,
) {
  const sqsLocal = await startSqsLocal()
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }

  Object.assign(process.env, {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsLocal.endpoint,
    TUGBOAT_TABLE: TABLE,
    TUGBOAT_ENCRYPTION_KEY: readOrCreate(stateFile('encryption.key'), () =>
      randomBytes(32).toString('base64'),
    ),
    TUGBOAT_PUBLIC_URL: `http://${options.host}:${options.port}`,
    // Locally a Warehouse may ask for a short interval (the demo's is 10s); Lambda's default floor is 60s.
    TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS: process.env.TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS || '5',
  })
  const adminToken =
    process.env.TUGBOAT_ADMIN_TOKEN ||
    readOrCreate(stateFile('admin-token'), () => `tb_${randomBytes(24).toString('base64url')}`)
  process.env.TUGBOAT_ADMIN_TOKEN = adminToken

  const sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsLocal.endpoint, credentials })
  await ensureTable(
    new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials }),
    TABLE,
  )
  const queues = await ensureQueues(sqs)
  process.env.TUGBOAT_PROMOTIONS_QUEUE_URL = queues.promotions
  const eventQueues = await ensureEventQueues(sqs)
  process.env.TUGBOAT_EVENTS_QUEUE_URL = eventQueues.events
  resetConfig()
  resetRuntimeContext()
  const ctx = runtimeContext()

  // The handlers Lambda runs, imported after the environment is set (they read it lazily anyway).
  const [{ main: discover }, { main: reconcile }, { main: promote }] = await Promise.all([
    import('../../functions/discover.js'),
    import('../../functions/reconcile.js'),
    import('../../functions/promote.js'),
  ])

  const app = createApp(appDeps(ctx))
  const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host })
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queues.promotions, AttributeNames: ['QueueArn'] }),
  )
  const consumer = consumeQueue({
    sqs,
    queueUrl: queues.promotions,
    queueArn: Attributes!.QueueArn!,
    handler: promote,
    functionName: 'promote',
    onError: (error) => console.error(`[promote] ${(error as Error).message}`),
  })
  const deliverConsumer = consumeEvents({
    ctx,
    sqs,
    queues: eventQueues,
    onError: (error) => console.error(`[deliver] ${(error as Error).message}`),
  })
  const stopDiscover = every(options.discoverEverySeconds, 'discover', () => discover())
  const stopReconcile = every(options.reconcileEverySeconds, 'reconcile', () => reconcile())

  const apiUrl = `http://${options.host}:${options.port}`
  const configFile = saveCliConfig({ server: apiUrl, token: adminToken })

  const call = apiCall(app, adminToken)
  let demo: Demo | undefined
  let demoLines: string[] = []
  if (options.demo) {
    try {
      demo = await startLocalDemo(options, call, persistent)
      demoLines = ['', ...demo.banner]
    } catch (error) {
      demoLines = ['', `Demo  not started (\`npm start -- --no-demo\` skips it): ${demoFailure(error)}`]
    }
  }
  console.log(
    [
      '',
      `Tugboat is running locally`,
      `  API          ${apiUrl}  (OpenAPI: ${apiUrl}/v1beta1/openapi.json)`,
      `  admin token  ${adminToken}`,
      `  data         ${persistent ? options.dataDir : 'in memory (lost on exit)'}`,
      `  DynamoDB     ${dynamo.endpoint}   SQS ${sqsLocal.endpoint}`,
      `  CLI config   ${configFile}  → try: npx tugboat get projects`,
      ...demoLines,
      '',
      'Press Ctrl-C to stop.',
    ].join('\n'),
  )
  if (demo) {
    // Discover the demo's Freight now rather than at the next discovery run.
    void call('POST', `/v1beta1/projects/${DEMO.project}/warehouses/${DEMO.warehouse}/refresh`).catch(
      (error: unknown) => console.error(`[demo] ${(error as Error).message}`),
    )
  }

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      stopDiscover()
      stopReconcile()
      await demo?.stop()
      await consumer.stop()
      await deliverConsumer.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await sqsLocal.stop()
      await dynamo.stop()
    })())
  return { apiUrl, adminToken, stop, ctx }
}

type ApiCall = (method: string, url: string, body?: string) => Promise<void>

/** Calls the API in-process (the same routes, auth included) as the admin; throws with the answer on a non-2xx. */
function apiCall(app: ReturnType<typeof createApp>, adminToken: string): ApiCall {
  return async (method, url, body) => {
    const res = await app.request(url, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/yaml' },
      ...(body === undefined ? {} : { body }),
    })
    if (!res.ok) {
      const text = (await res.text()).replace(/\s+/g, ' ').trim()
      throw new Error(`${method} ${url} answered ${res.status}: ${text}`)
    }
  }
}

/** The demo pipeline (lib/local/demo.ts), applied through the API's own routes with the admin token. */
async function startLocalDemo(options: LocalOptions, call: ApiCall, persistent: boolean): Promise<Demo> {
  return startDemo({
    ...(persistent
      ? { gitRoot: path.join(options.dataDir, 'git'), portFile: path.join(options.dataDir, 'git-port') }
      : {}),
    ...(options.port < 65535 ? { preferredPort: options.port + 1 } : {}),
    apply: (yaml) => call('PUT', '/v1beta1/resources?upsert=true', yaml),
  })
}

/** Why the demo did not start, in one line. */
function demoFailure(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e.code === 'ENOENT' && /\bgit\b/.test(String(e.path ?? e.message)))
    return 'git is not installed; the demo serves its repository with `git http-backend`'
  return (e.message ?? String(error)).split('\n')[0]!
}

async function main() {
  let options: LocalOptions
  try {
    options = parseLocalArgs(process.argv.slice(2))
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(LOCAL_USAGE)
      return
    }
    console.error(`tugboat: ${(error as Error).message}\n${LOCAL_USAGE}`)
    process.exitCode = 2
    return
  }
  try {
    const running = await startLocal(options)
    const shutdown = async (signal: string) => {
      console.log(`\n${signal}: stopping Tugboat…`)
      await running.stop()
      process.exit(0)
    }
    process.once('SIGINT', () => void shutdown('SIGINT'))
    process.once('SIGTERM', () => void shutdown('SIGTERM'))
  } catch (error) {
    console.error(`tugboat: ${error instanceof LocalSetupError ? error.message : (error as Error).message}`)
    process.exit(1)
  }
}

if (process.argv[1] && /lib[\\/]local[\\/]main\.ts$/.test(process.argv[1])) void main()
