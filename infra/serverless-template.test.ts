import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROMOTIONS_MAX_RECEIVE_COUNT } from '../lib/queue/queues.js'
import { tableDefinition, TTL_ATTRIBUTE } from '../lib/store/table.js'
import { buildFunctions, repoRoot, requiredFunctions } from './build.js'

// Bundles the handlers once, then runs the real `serverless package` (offline, no AWS credentials) for three
// deployments and checks the CloudFormation it would deploy. Each package runs in a temp copy of the service so
// the repo's .build/ and .serverless/ are left alone.

const run = promisify(execFile)

type Json = any
interface Packaged {
  dir: string
  template: Json
  output: string
}

const NO_VALUE = Symbol('AWS::NoValue')
const KUSTOMIZE_LAYER = 'arn:aws:lambda:us-east-1:123456789012:layer:kustomize:7'
const ALARM_TOPIC = 'arn:aws:sns:us-east-1:123456789012:tugboat-alarms'

let root: string
let buildDir: string
const packaged: Record<'dev' | 'local' | 'prod', Packaged> = {} as never

/** A copy of the service (serverless.yml, its fragments, the bundles) packaged into `<copy>/.serverless`. */
async function packageService(name: string, args: string[]): Promise<Packaged> {
  const dir = path.join(root, name)
  fs.mkdirSync(path.join(dir, 'infra'), { recursive: true })
  fs.copyFileSync(path.join(repoRoot, 'serverless.yml'), path.join(dir, 'serverless.yml'))
  fs.cpSync(path.join(repoRoot, 'infra', 'resources'), path.join(dir, 'infra', 'resources'), {
    recursive: true,
  })
  fs.cpSync(buildDir, path.join(dir, '.build'), { recursive: true })
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
  const home = path.join(dir, 'home')
  fs.mkdirSync(home)
  // No AWS credentials, profile or metadata service: packaging must not need any.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
  )
  Object.assign(env, {
    HOME: home,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
  })
  const bin = path.join(repoRoot, 'node_modules', '.bin', 'serverless')
  const { stdout, stderr } = await run(bin, ['package', ...args], { cwd: dir, env, maxBuffer: 16 << 20 })
  const template = JSON.parse(
    fs.readFileSync(path.join(dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
  )
  return { dir, template, output: stdout + stderr }
}

/** Evaluates Conditions / Fn::If / AWS::NoValue the way CloudFormation will, leaving other intrinsics as they are. */
function resolve(template: Json, value: Json): Json {
  const condition = (name: string): boolean => evaluate(template.Conditions[name])
  const evaluate = (expr: Json): boolean => {
    if ('Fn::Equals' in expr) {
      const [a, b] = expr['Fn::Equals'].map((v: Json) => resolve(template, v))
      return JSON.stringify(a) === JSON.stringify(b)
    }
    if ('Fn::Not' in expr) return !evaluate(expr['Fn::Not'][0])
    if ('Fn::Or' in expr) return expr['Fn::Or'].some(evaluate)
    if ('Fn::And' in expr) return expr['Fn::And'].every(evaluate)
    if ('Condition' in expr) return condition(expr.Condition)
    throw new Error(`unsupported condition ${JSON.stringify(expr)}`)
  }
  if (Array.isArray(value)) return value.map((v) => resolve(template, v)).filter((v) => v !== NO_VALUE)
  if (value === null || typeof value !== 'object') return value
  if (value.Ref === 'AWS::NoValue') return NO_VALUE
  if ('Fn::If' in value) {
    const [name, whenTrue, whenFalse] = value['Fn::If']
    return resolve(template, condition(name) ? whenTrue : whenFalse)
  }
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => [k, resolve(template, v)])
      .filter(([, v]) => v !== NO_VALUE),
  )
}

function resourcesOfType(template: Json, type: string): Array<[string, Json]> {
  return Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === type)
}

function functionResource(template: Json, name: string): Json {
  const found = resourcesOfType(template, 'AWS::Lambda::Function').find(([, r]) =>
    r.Properties.FunctionName.endsWith(`-${name}`),
  )
  if (!found) throw new Error(`no function ${name}`)
  return found[1]
}

function environment(p: Packaged, name: string): Record<string, Json> {
  return resolve(p.template, functionResource(p.template, name).Properties.Environment?.Variables ?? {})
}

const byName = <T extends { AttributeName?: string; IndexName?: string }>(items: T[] = []) =>
  [...items].sort((a, b) =>
    String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)),
  )

/** Names of the entries of a zip file, from its central directory. */
function zipEntries(file: string): string[] {
  const data = fs.readFileSync(file)
  const end = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  const count = data.readUInt16LE(end + 10)
  let offset = data.readUInt32LE(end + 16)
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    const nameLength = data.readUInt16LE(offset + 28)
    const extra = data.readUInt16LE(offset + 30)
    const comment = data.readUInt16LE(offset + 32)
    names.push(data.toString('utf8', offset + 46, offset + 46 + nameLength))
    offset += 46 + nameLength + extra + comment
  }
  return names
}

interface Statement {
  Effect: string
  Action: string | string[]
  Resource: Json
}

function statementsOfRole(template: Json, role: string): Statement[] {
  const inline = (template.Resources[role].Properties.Policies ?? []).flatMap(
    (p: Json) => p.PolicyDocument.Statement,
  )
  const attached = resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === role))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
  return [...inline, ...attached]
}

const actionsOf = (statements: Statement[]) => new Set(statements.flatMap((s) => [s.Action].flat()))

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-sls-'))
  buildDir = path.join(root, 'build')
  await buildFunctions({
    outDir: buildDir,
    log: false,
    ...(process.env.TUGBOAT_FUNCTIONS_DIR ? { functionsDir: process.env.TUGBOAT_FUNCTIONS_DIR } : {}),
  })
  const [dev, local, prod] = await Promise.all([
    packageService('dev', ['--stage', 'dev']),
    packageService('local', ['--stage', 'local']),
    packageService('prod', [
      '--stage',
      'prod',
      '--region',
      'eu-west-1',
      `--param=kustomizeLayerArn=${KUSTOMIZE_LAYER}`,
      '--param=argocd=none',
      '--param=publicUrl=https://tugboat.example.com',
      `--param=alarmTopicArn=${ALARM_TOPIC}`,
    ]),
  ])
  Object.assign(packaged, { dev, local, prod })
}, 180_000)

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('serverless package (stage dev, defaults)', () => {
  it('declares the table exactly as lib/store/table.ts does, with TTL, PITR and on-demand billing', () => {
    const { template } = packaged.dev
    const tables = resourcesOfType(template, 'AWS::DynamoDB::Table')
    expect(tables).toHaveLength(1)
    const [, table] = tables[0]!
    const expected = tableDefinition('tugboat-dev')
    const p = table.Properties
    expect(p.TableName).toBe(expected.TableName)
    expect(p.BillingMode).toBe('PAY_PER_REQUEST')
    expect(p.KeySchema).toEqual(expected.KeySchema)
    expect(byName(p.AttributeDefinitions)).toEqual(byName(expected.AttributeDefinitions))
    expect(byName(p.GlobalSecondaryIndexes)).toEqual(byName(expected.GlobalSecondaryIndexes))
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true })
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true })
    expect(table.DeletionPolicy).toBe('Retain')
  })

  it('has the promotions FIFO queue dead-lettering only after the patient-wait threshold', () => {
    const { template } = packaged.dev
    const queue = template.Resources.PromotionsQueue.Properties
    const dlq = template.Resources.PromotionsDeadLetterQueue.Properties
    expect(queue).toMatchObject({ QueueName: 'tugboat-dev-promotions.fifo', FifoQueue: true })
    expect(dlq).toMatchObject({ QueueName: 'tugboat-dev-promotions-dlq.fifo', FifoQueue: true })
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['PromotionsDeadLetterQueue', 'Arn'] },
      maxReceiveCount: PROMOTIONS_MAX_RECEIVE_COUNT,
    })
    expect(PROMOTIONS_MAX_RECEIVE_COUNT).toBeGreaterThanOrEqual(1000)
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(
      functionResource(template, 'promote').Properties.Timeout,
    )
  })

  it('deploys the four functions from their bundles on nodejs20.x', () => {
    const { template } = packaged.dev
    for (const name of requiredFunctions) {
      const fn = functionResource(template, name).Properties
      expect(fn).toMatchObject({
        FunctionName: `tugboat-dev-${name}`,
        Handler: `.build/${name}/index.main`,
        Runtime: 'nodejs20.x',
      })
    }
    expect(functionResource(template, 'promote').Properties).toMatchObject({ Timeout: 900, MemorySize: 1769 })
    expect(functionResource(template, 'api').Properties).toMatchObject({ MemorySize: 512 })
    expect(functionResource(template, 'promote').Properties.Layers).toBeDefined() // conditional…
    expect(resolve(template, functionResource(template, 'promote').Properties).Layers).toBeUndefined() // …and absent
  })

  it('packages each function individually with only its own bundle', () => {
    for (const name of requiredFunctions) {
      const zip = path.join(packaged.dev.dir, '.serverless', `${name}.zip`)
      const entries = zipEntries(zip)
      expect(entries).toContain(`.build/${name}/index.mjs`)
      expect(
        entries.every((e) => e.startsWith(`.build/${name}/`)),
        entries.join(', '),
      ).toBe(true)
      expect(
        entries.some((e) => e.endsWith('.map')),
        'source maps stay out of the zip',
      ).toBe(false)
    }
  })

  it('routes every API path (and the root) to the api function through the HTTP API', () => {
    const { template } = packaged.dev
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties)
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(['ANY /', 'ANY /{proxy+}'])
    for (const route of routes) {
      const integration = route.Target['Fn::Join'][1][1].Ref
      expect(template.Resources[integration].Properties.IntegrationUri).toEqual({
        'Fn::GetAtt': ['ApiLambdaFunction', 'Arn'],
      })
    }
  })

  it('runs discover and reconcile every minute, without piling up retries', () => {
    const { template } = packaged.dev
    const rules = resourcesOfType(template, 'AWS::Events::Rule').map(([, r]) => r.Properties)
    for (const name of ['Discover', 'Reconcile']) {
      const rule = rules.find((r) => r.Targets[0].Arn['Fn::GetAtt'][0] === `${name}LambdaFunction`)
      expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' })
      expect(template.Resources[`${name}LambdaEvConf`].Properties).toMatchObject({ MaximumRetryAttempts: 0 })
    }
    expect(rules).toHaveLength(2)
  })

  it('feeds promote one message at a time from the FIFO queue, reporting partial batch failures', () => {
    const { template } = packaged.dev
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties)
    expect(mappings).toHaveLength(2)
    expect(mappings).toContainEqual(
      expect.objectContaining({
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        EventSourceArn: { 'Fn::GetAtt': ['PromotionsQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['PromoteLambdaFunction', 'Arn'] },
      }),
    )
    // Outbound events: deliver consumes the (standard) events queue.
    expect(mappings).toContainEqual(
      expect.objectContaining({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        EventSourceArn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['DeliverLambdaFunction', 'Arn'] },
      }),
    )
  })

  it('configures the functions from resources and deploy-time SSM references (no secret in the template)', () => {
    const p = packaged.dev
    for (const name of requiredFunctions) {
      const env = environment(p, name)
      expect(env).toMatchObject({
        TUGBOAT_TABLE: { Ref: 'Table' },
        TUGBOAT_PROMOTIONS_QUEUE_URL: { Ref: 'PromotionsQueue' },
        TUGBOAT_PUBLIC_URL: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
        TUGBOAT_ENCRYPTION_KEY: '{{resolve:ssm:/tugboat/dev/encryption-key}}',
      })
      // Lambda environment variables do not accept ssm-secure references; CloudFormation would reject the stack.
      expect(JSON.stringify(env)).not.toContain('ssm-secure')
      expect('AWS_ENDPOINT_URL' in env).toBe(false)
      expect('TUGBOAT_ADMIN_TOKEN' in env).toBe(name === 'api')
      expect('ARGOCD_AUTH_TOKEN' in env).toBe(name === 'promote' || name === 'reconcile')
    }
    expect(environment(p, 'api').TUGBOAT_ADMIN_TOKEN).toBe('{{resolve:ssm:/tugboat/dev/admin-token}}')
    expect(environment(p, 'promote')).toMatchObject({
      ARGOCD_SERVER: '{{resolve:ssm:/tugboat/dev/argocd-server}}',
      ARGOCD_AUTH_TOKEN: '{{resolve:ssm:/tugboat/dev/argocd-auth-token}}',
      ARGOCD_INSECURE: '{{resolve:ssm:/tugboat/dev/argocd-insecure}}',
    })
  })

  it('gives each function its own least-privilege role', () => {
    const { template } = packaged.dev
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined()
    const expected: Record<string, { role: string; sqs: string[] }> = {
      api: { role: 'ApiRole', sqs: ['sqs:SendMessage'] },
      discover: { role: 'DiscoverRole', sqs: ['sqs:SendMessage'] },
      promote: {
        role: 'PromoteRole',
        sqs: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:SendMessage',
        ],
      },
      reconcile: { role: 'ReconcileRole', sqs: ['sqs:SendMessage'] },
    }
    const table = [
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]
    for (const [name, { role, sqs }] of Object.entries(expected)) {
      const fn = functionResource(template, name)
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] })
      const statements = statementsOfRole(template, role)
      const actions = [...actionsOf(statements)]
      expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(table)
      expect(actions.filter((a) => a.startsWith('sqs:')).sort()).toEqual(sqs)
      expect(actions.filter((a) => a.startsWith('logs:')).sort()).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ])
      expect(actions.filter((a) => !/^(dynamodb|sqs|logs):/.test(a))).toEqual([])
      for (const s of statements) {
        expect(s.Effect).toBe('Allow')
        const text = JSON.stringify(s.Resource)
        if ([s.Action].flat().some((a) => a.startsWith('dynamodb:'))) expect(text).toContain('"Table"')
        if ([s.Action].flat().some((a) => a.startsWith('sqs:')))
          expect([
            { 'Fn::GetAtt': ['PromotionsQueue', 'Arn'] },
            { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
          ]).toContainEqual(s.Resource)
        if ([s.Action].flat().some((a) => a.startsWith('logs:'))) {
          expect(s.Resource).toEqual({ 'Fn::GetAtt': [`${role.replace(/Role$/, '')}LogGroup`, 'Arn'] })
        }
      }
    }
    // Nothing anywhere grants a wildcard action or a data action on every resource.
    for (const [, role] of [
      ...resourcesOfType(template, 'AWS::IAM::Role'),
      ...resourcesOfType(template, 'AWS::IAM::Policy'),
    ]) {
      const documents = role.Properties.Policies?.map((p: Json) => p.PolicyDocument) ?? [
        role.Properties.PolicyDocument,
      ]
      for (const statement of documents.flatMap((d: Json) => d.Statement) as Statement[]) {
        for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*/)
        expect([statement.Resource].flat()).not.toContain('*')
      }
    }
  })

  it('alarms when the dead-letter queue holds a message', () => {
    const { template } = packaged.dev
    const alarm = resolve(template, template.Resources.PromotionsDeadLetterAlarm.Properties)
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['PromotionsDeadLetterQueue', 'QueueName'] } },
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    })
    expect(alarm.AlarmActions).toEqual([])
  })

  it('leaves the serverless-localstack plugin inactive', () => {
    expect(packaged.dev.output).toContain('Skipping serverless-localstack')
  })
})

describe('serverless package (params for a production deployment)', () => {
  it('adds the kustomize layer to promote only, and leaves the empty helm layer out', () => {
    const { template } = packaged.prod
    expect(resolve(template, functionResource(template, 'promote').Properties).Layers).toEqual([
      KUSTOMIZE_LAYER,
    ])
    for (const name of ['api', 'discover', 'reconcile'])
      expect(functionResource(template, name).Properties.Layers).toBeUndefined()
  })

  it('drops Argo CD settings with argocd=none, and uses the public URL and alarm topic given', () => {
    const p = packaged.prod
    expect(Object.keys(environment(p, 'promote')).filter((k) => k.startsWith('ARGOCD_'))).toEqual([])
    expect(environment(p, 'api')).toMatchObject({
      TUGBOAT_PUBLIC_URL: 'https://tugboat.example.com',
      TUGBOAT_ENCRYPTION_KEY: '{{resolve:ssm:/tugboat/prod/encryption-key}}',
    })
    expect(resolve(p.template, p.template.Outputs.TugboatApiUrl.Value)).toBe('https://tugboat.example.com')
    expect(
      resolve(p.template, p.template.Resources.PromotionsDeadLetterAlarm.Properties).AlarmActions,
    ).toEqual([ALARM_TOPIC])
  })
})

describe('serverless package --stage local (LocalStack)', () => {
  it('activates the serverless-localstack plugin', () => {
    expect(packaged.local.output).toContain('Using serverless-localstack')
  })

  it('uses a REST API (LocalStack free plan) instead of the HTTP API', () => {
    const { template } = packaged.local
    expect(resourcesOfType(template, 'AWS::ApiGatewayV2::Api')).toEqual([])
    const methods = resourcesOfType(template, 'AWS::ApiGateway::Method').map(([, r]) => r.Properties)
    expect(methods.map((m) => m.HttpMethod)).toEqual(['ANY', 'ANY'])
    const proxy = resourcesOfType(template, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties.PathPart)
    expect(proxy).toEqual(['{proxy+}'])
    const url = JSON.stringify(environment(packaged.local, 'api').TUGBOAT_PUBLIC_URL)
    expect(url).toContain('ApiGatewayRestApi')
    expect(url).toContain('.execute-api.localhost.localstack.cloud:4566/local')
  })

  it("points the functions' AWS SDK at LocalStack", () => {
    for (const name of requiredFunctions) {
      expect(environment(packaged.local, name).AWS_ENDPOINT_URL).toBe(
        'http://localhost.localstack.cloud:4566',
      )
    }
  })

  it('names everything for the local stage and lets `serverless remove` drop the table', () => {
    const { template } = packaged.local
    expect(template.Resources.Table.Properties.TableName).toBe('tugboat-local')
    expect(template.Resources.Table.DeletionPolicy).toBe('Delete')
    expect(template.Resources.PromotionsQueue.Properties.QueueName).toBe('tugboat-local-promotions.fifo')
  })

  it('resolves only the SSM parameters localstack/init creates for the local stage', () => {
    const references = [
      ...JSON.stringify(packaged.local.template).matchAll(/\{\{resolve:ssm:([^}]+)\}\}/g),
    ].map((m) => m[1])
    expect([...new Set(references)].sort()).toEqual([
      '/tugboat/local/admin-token',
      '/tugboat/local/encryption-key',
    ])
    const script = fs.readFileSync(
      path.join(repoRoot, 'localstack', 'init', 'ready.d', '01-create-resources.sh'),
      'utf8',
    )
    for (const name of references)
      expect(script).toContain(`"${name!.replace('/tugboat/local/', '/tugboat/$STAGE/')}"`)
  })
})
