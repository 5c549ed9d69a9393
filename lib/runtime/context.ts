import { SQSClient } from '@aws-sdk/client-sqs'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { loadConfig, type Config } from '../config.js'
import type { AppDeps } from '../http/deps.js'
import { createDb, type Db } from '../store/client.js'
import { sealer, type Sealer } from '../store/sealing.js'
import { hashToken } from '../store/tokens.js'
import { enqueuer } from './queue.js'
import { relayPending } from '../events/outbox.js'

/** Everything a handler needs, built once per Lambda container (or once per local runtime). */
export interface RuntimeContext {
  config: Config
  db: Db
  sqs: SQSClient
  sealer: Sealer
}

let cached: RuntimeContext | undefined

/** Builds (once) the clients for this process from the environment. Endpoints honour AWS_ENDPOINT_URL_*. */
export function runtimeContext(): RuntimeContext {
  if (cached) return cached
  const config = loadConfig()
  cached = {
    config,
    db: createDb({ table: config.TUGBOAT_TABLE, client: new DynamoDBClient({ region: config.AWS_REGION }) }),
    sqs: new SQSClient({ region: config.AWS_REGION }),
    sealer: sealer(config.TUGBOAT_ENCRYPTION_KEY),
  }
  return cached
}

/** Forgets the cached context (the local runtime sets the environment after import). */
export function resetRuntimeContext(): void {
  cached = undefined
}

/** The HTTP app's dependencies for this process. */
export function appDeps(ctx: RuntimeContext = runtimeContext()): AppDeps {
  const adminToken = process.env.TUGBOAT_ADMIN_TOKEN
  return {
    db: ctx.db,
    sealer: ctx.sealer,
    ...(adminToken ? { adminTokenHash: hashToken(adminToken) } : {}),
    enqueuePromotion: enqueuer(ctx),
    ...(ctx.config.TUGBOAT_PUBLIC_URL ? { publicUrl: ctx.config.TUGBOAT_PUBLIC_URL } : {}),
    // Discovery (isomorphic-git, registry clients) loads on the first refresh, not at every cold start.
    refreshWarehouse: async (project, warehouse) =>
      (await import('./discovery.js')).pollOne(ctx, project, warehouse),
    relayEvents: () => relayPending({ db: ctx.db, sqs: ctx.sqs, log: (line) => console.log(line) }),
  }
}
