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
import { createDeliverHandler } from '../events/deliver.js'
import { appDeps, resetRuntimeContext, runtimeContext } from '../runtime/context.js'
import { ensureTable } from '../store/client.js'
import { HelpRequested, LOCAL_USAGE, parseLocalArgs, type LocalOptions } from './args.js'
import { LocalSetupError, startDynamoDbLocal } from './dynamodb-local.js'
import { portInUse } from './ports.js'
import { consumeQueue } from './queue-consumer.js'
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

  const server = serve({ fetch: createApp(appDeps(ctx)).fetch, port: options.port, hostname: options.host })
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
  const deliverConsumer = consumeQueue({
    sqs,
    queueUrl: eventQueues.events,
    queueArn: eventQueues.eventsArn,
    handler: createDeliverHandler({ db: ctx.db, sealer: ctx.sealer, sqs, queueUrl: eventQueues.events }),
    functionName: 'deliver',
    // One at a time, so events reach subscribers in outbox order.
    concurrency: 1,
    onError: (error) => console.error(`[deliver] ${(error as Error).message}`),
  })
  const stopDiscover = every(options.discoverEverySeconds, 'discover', () => discover())
  const stopReconcile = every(options.reconcileEverySeconds, 'reconcile', () => reconcile())

  const apiUrl = `http://${options.host}:${options.port}`
  const configFile = saveCliConfig({ server: apiUrl, token: adminToken })
  console.log(
    [
      '',
      `Tugboat is running locally`,
      `  API          ${apiUrl}  (OpenAPI: ${apiUrl}/v1beta1/openapi.json)`,
      `  admin token  ${adminToken}`,
      `  data         ${persistent ? options.dataDir : 'in memory (lost on exit)'}`,
      `  DynamoDB     ${dynamo.endpoint}   SQS ${sqsLocal.endpoint}`,
      `  CLI config   ${configFile}  → try: npx tugboat get projects`,
      '',
      'Press Ctrl-C to stop.',
    ].join('\n'),
  )

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      stopDiscover()
      stopReconcile()
      await consumer.stop()
      await deliverConsumer.stop()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await sqsLocal.stop()
      await dynamo.stop()
    })())
  return { apiUrl, adminToken, stop, ctx }
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
