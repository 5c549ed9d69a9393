import { randomBytes } from 'node:crypto'
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { promotionFinishedEvents } from '../../lib/events/builders.js'
import { relayOutbox, publishEvents } from '../../lib/events/outbox.js'
import { localContext } from '../../lib/local/queue-consumer.js'
import { sealer } from '../../lib/store/sealing.js'
import { startHttpSink } from '../support/http-sink.js'
import { createProject, createSecret, createSubscription, eventsStack } from './fixtures.js'

describe('functions/deliver.ts (the Lambda handler, configured from the environment)', () => {
  const sinks: Array<{ close(): Promise<void> }> = []
  afterAll(async () => {
    for (const s of sinks) await s.close()
  })

  it('delivers the records of an SQS event and reports failures for retry', async () => {
    const stack = await eventsStack()
    const key = randomBytes(32).toString('base64')
    const seal = sealer(key)
    Object.assign(process.env, {
      TUGBOAT_TABLE: stack.db.table,
      TUGBOAT_ENCRYPTION_KEY: key,
      TUGBOAT_EVENTS_QUEUE_URL: stack.queues.events,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ENDPOINT_URL_SQS: inject('sqsEndpoint'),
    })
    const ok = await startHttpSink({ secret: 'fn-s3cret' })
    const down = await startHttpSink()
    sinks.push(ok, down)
    down.failAlways(502)
    await createProject(stack.db, 'guestbook')
    await createSecret(stack.db, seal, 'guestbook', 'hook', { secret: 'fn-s3cret' })
    await createSubscription(stack.db, 'guestbook', 'ok', { url: ok.url, secretRef: { name: 'hook' } })
    await createSubscription(stack.db, 'guestbook', 'down', { url: down.url, types: ['dev.cdevents.*'] })

    const events = promotionFinishedEvents({
      project: 'guestbook',
      stage: 'prod',
      freight: {
        name: 'f'.repeat(40),
        alias: 'brave-fox',
        images: [{ repoURL: 'ghcr.io/acme/guestbook', tag: 'v1' }],
      },
      promotion: { name: 'prod.x', phase: 'Succeeded' },
    })
    await publishEvents({ db: stack.db }, events)
    await relayOutbox({ db: stack.db, sqs: stack.sqs, queueUrl: stack.queues.events })
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.events,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        MessageSystemAttributeNames: ['All'],
      }),
    )
    expect(Messages).toHaveLength(2)
    const records = Messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: { ApproximateReceiveCount: '1' } as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: stack.queues.eventsArn,
      awsRegion: 'us-east-1',
    }))

    const { main } = await import('../../functions/deliver.js')
    const response = await main({ Records: records }, localContext('deliver'))

    // promotion.succeeded goes to `ok` only; service.deployed goes to both, and `down` fails it.
    const serviceRecord = records.find(
      (r) => JSON.parse(r.body).type === 'dev.cdevents.service.deployed.0.3.0',
    )!
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: serviceRecord.messageId }] })
    expect(ok.requests.map((r) => [JSON.parse(r.body).type, r.signatureValid])).toEqual(
      expect.arrayContaining([
        ['dev.cdeventsx.tugboat-promotion.succeeded.0.1.0', true],
        ['dev.cdevents.service.deployed.0.3.0', true],
      ]),
    )
    expect(down.requests).toHaveLength(1)
  })
})
