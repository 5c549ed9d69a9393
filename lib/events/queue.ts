import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs'

/** Attempts before an undeliverable event moves to the dead-letter queue (infra/resources/events-queue.yml agrees). */
export const EVENTS_MAX_RECEIVE_COUNT = 5

/**
 * Creates the events queue (standard) and its dead-letter queue for the local runtime and tests; in AWS,
 * infra/resources/events-queue.yml does. Returns their URLs and the queue's ARN.
 */
export async function ensureEventQueues(
  sqs: SQSClient,
  prefix = 'tugboat',
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<{ events: string; eventsArn: string; eventsDlq: string }> {
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-events-dlq`,
      Attributes: { MessageRetentionPeriod: '1209600' },
    }),
  )
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn
  const events = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-events`,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 360),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? EVENTS_MAX_RECEIVE_COUNT,
        }),
      },
    }),
  )
  const eventsArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: events.QueueUrl!, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes?.QueueArn
  if (!events.QueueUrl || !dlq.QueueUrl || !eventsArn || !dlqArn)
    throw new Error('the events queues were not created')
  return { events: events.QueueUrl, eventsArn, eventsDlq: dlq.QueueUrl }
}
