import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDynamoDbLocal, type DynamoDbLocal } from '../lib/local/dynamodb-local.js'
import { startSqsLocal, type SqsLocal } from '../lib/local/sqs-local.js'
import { ensureQueues, PROMOTIONS_MAX_RECEIVE_COUNT, queueNames } from '../lib/queue/queues.js'
import { ensureTable } from '../lib/store/client.js'
import { tableDefinition, TTL_ATTRIBUTE } from '../lib/store/table.js'
import { LOCAL_PREFIX, localResourceFiles, resourcesDir } from '../localstack/resources.js'
import { repoRoot } from './build.js'

// Runs localstack/init/ready.d/01-create-resources.sh for real, with the AWS CLI, against DynamoDB Local and the
// SQS emulator standing in for LocalStack (an `awslocal` shim routes each service; SSM is a small fake that
// records parameters). This test starts its own emulators: the script's names must not meet other tests' tables.

const run = promisify(execFile)
const script = path.join(repoRoot, 'localstack', 'init', 'ready.d', '01-create-resources.sh')

function hasCommand(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const missing = ['aws', 'python3', 'java'].filter((c) => !hasCommand(c === 'java' ? 'java' : c))

const AWSLOCAL = `#!/bin/bash
set -euo pipefail
case "$1" in
  dynamodb) exec aws --endpoint-url "$FAKE_DYNAMODB_ENDPOINT" "$@" ;;
  sqs) exec aws --endpoint-url "$FAKE_SQS_ENDPOINT" "$@" ;;
  ssm) exec python3 "$FAKE_SSM" "$@" ;;
  *) echo "awslocal shim: unexpected service $1" >&2; exit 2 ;;
esac
`

// Just the two SSM calls the hook makes, with their real exit codes (255 = ParameterNotFound from the CLI).
const FAKE_SSM = `
import json, os, sys
store = os.environ['FAKE_SSM_STORE']
command, args = sys.argv[2], sys.argv[3:]
params = json.load(open(store)) if os.path.exists(store) else {}
if command == 'get-parameter':
    sys.exit(0 if args[args.index('--name') + 1] in params else 255)
if command == 'put-parameter':
    request = json.loads(args[args.index('--cli-input-json') + 1])
    params[request['Name']] = {'Type': request['Type'], 'Value': request['Value']}
    json.dump(params, open(store, 'w'))
    sys.exit(0)
print('fake ssm: unexpected ' + command, file=sys.stderr)
sys.exit(2)
`

describe.skipIf(missing.length > 0)(
  `LocalStack init hook${missing.length ? ` (skipped: ${missing.join(', ')} not on PATH)` : ''}`,
  () => {
    let dynamo: DynamoDbLocal
    let sqsLocal: SqsLocal
    let dir: string
    let env: NodeJS.ProcessEnv
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
    let ddb: DynamoDBClient
    let sqs: SQSClient
    const outputs: string[] = []

    beforeAll(async () => {
      ;[dynamo, sqsLocal] = await Promise.all([startDynamoDbLocal(), startSqsLocal()])
      ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials })
      sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsLocal.endpoint, credentials })
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-init-'))
      fs.writeFileSync(path.join(dir, 'awslocal'), AWSLOCAL, { mode: 0o755 })
      fs.writeFileSync(path.join(dir, 'ssm.py'), FAKE_SSM)
      const inherited = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('ARGOCD_')),
      )
      env = {
        ...inherited,
        PATH: `${dir}:${process.env.PATH}`,
        HOME: dir,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_DEFAULT_REGION: 'us-east-1',
        FAKE_DYNAMODB_ENDPOINT: dynamo.endpoint,
        FAKE_SQS_ENDPOINT: sqsLocal.endpoint,
        FAKE_SSM: path.join(dir, 'ssm.py'),
        FAKE_SSM_STORE: path.join(dir, 'ssm.json'),
        TUGBOAT_RESOURCES_DIR: resourcesDir,
        ARGOCD_SERVER: 'https://argocd.example.com',
        ARGOCD_AUTH_TOKEN: 'argocd-token',
      }
      // Twice: LocalStack re-runs ready.d hooks on restart with persistence, so the hook must be idempotent.
      for (let i = 0; i < 2; i++) outputs.push((await run(script, { env, encoding: 'utf8' })).stdout)
    }, 180_000)

    afterAll(async () => {
      await Promise.all([sqsLocal?.stop(), dynamo?.stop()])
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })

    it('reads JSON generated from lib/ that is up to date (regenerate: npx tsx localstack/resources.ts)', () => {
      for (const [name, content] of Object.entries(localResourceFiles())) {
        expect(JSON.parse(fs.readFileSync(path.join(resourcesDir, name), 'utf8')), name).toEqual(content)
      }
    })

    it('creates the table with the schema of tableDefinition() and TTL on expiresAt', async () => {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: LOCAL_PREFIX }))
      const expected = tableDefinition(LOCAL_PREFIX)
      expect(Table?.KeySchema).toEqual(expected.KeySchema)
      const sortBy = <T>(items: T[] | undefined, key: keyof T) =>
        [...(items ?? [])].sort((a, b) => String(a[key]).localeCompare(String(b[key])))
      expect(sortBy(Table?.AttributeDefinitions, 'AttributeName')).toEqual(
        sortBy(expected.AttributeDefinitions, 'AttributeName'),
      )
      const indexes = Table?.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema, Projection }) => ({
        IndexName,
        KeySchema,
        Projection,
      }))
      expect(sortBy(indexes, 'IndexName')).toEqual(sortBy(expected.GlobalSecondaryIndexes, 'IndexName'))
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST')
      const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: LOCAL_PREFIX }))
      expect(ttl.TimeToLiveDescription).toMatchObject({
        AttributeName: TTL_ATTRIBUTE,
        TimeToLiveStatus: 'ENABLED',
      })
    })

    it('creates the promotions FIFO queue with redrive to its FIFO dead-letter queue', async () => {
      const names = queueNames(LOCAL_PREFIX)
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: names.promotions }))
      const { QueueUrl: dlqUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: names.promotionsDlq }))
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
      )
      const { Attributes: dlq } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['All'] }),
      )
      expect(Attributes).toMatchObject({ FifoQueue: 'true', VisibilityTimeout: '900' })
      expect(dlq).toMatchObject({ FifoQueue: 'true' })
      expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual({
        deadLetterTargetArn: dlq!.QueueArn,
        maxReceiveCount: PROMOTIONS_MAX_RECEIVE_COUNT,
      })
    })

    it('leaves resources the local runtime and tests can adopt (ensureTable / ensureQueues succeed on them)', async () => {
      await ensureTable(ddb, LOCAL_PREFIX)
      const urls = await ensureQueues(sqs, LOCAL_PREFIX)
      expect(urls.promotions).toMatch(/tugboat-promotions\.fifo$/)
    })

    it('creates every SSM parameter serverless.yml resolves, for the local stage, once', () => {
      const yml = fs.readFileSync(path.join(repoRoot, 'serverless.yml'), 'utf8')
      const wanted = [...yml.matchAll(/\{\{resolve:ssm:\$\{self:custom\.ssm\}\/([a-z0-9-]+)\}\}/g)].map(
        (m) => `/tugboat/local/${m[1]}`,
      )
      expect(wanted.length).toBeGreaterThanOrEqual(5)
      const params = JSON.parse(fs.readFileSync(path.join(dir, 'ssm.json'), 'utf8')) as Record<
        string,
        { Type: string; Value: string }
      >
      expect(Object.keys(params).sort()).toEqual([...new Set(wanted)].sort())
      for (const param of Object.values(params)) expect(param.Type).toBe('String')
      expect(Buffer.from(params['/tugboat/local/encryption-key']!.Value, 'base64')).toHaveLength(32)
      expect(params['/tugboat/local/argocd-server']!.Value).toBe('https://argocd.example.com')
      expect(params['/tugboat/local/argocd-insecure']!.Value).toBe('false')
      expect(outputs[1]).toContain('SSM /tugboat/local/encryption-key exists')
      expect(outputs[1]).toContain('table tugboat exists')
    })
  },
)
