import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs'

/**
 * The promotions queue is FIFO (MessageGroupId = project/stage keeps one Promotion per Stage in order).
 * A waiting Promotion re-hides its message, which raises the receive count, so the DLQ threshold is
 * high enough never to dead-letter a patient wait (see docs/architecture.md).
 */
export const PROMOTIONS_MAX_RECEIVE_COUNT = 1000

export function queueNames(prefix = 'tugboat') {
  return {
    promotions: `${prefix}-promotions.fifo`,
    promotionsDlq: `${prefix}-promotions-dlq.fifo`,
  }
}

/** Creates the queues (local runtime and tests; in AWS, serverless.yml does). Returns their URLs. */
export async function ensureQueues(
  sqs: SQSClient,
  prefix = 'tugboat',
  options: { visibilityTimeoutSeconds?: number } = {},
): Promise<{ promotions: string; promotionsDlq: string }> {
  const names = queueNames(prefix)
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.promotionsDlq,
      Attributes: { FifoQueue: 'true', MessageRetentionPeriod: '1209600' },
    }),
  )
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }),
  )
  const promotions = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.promotions,
      Attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 900),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes!.QueueArn,
          maxReceiveCount: PROMOTIONS_MAX_RECEIVE_COUNT,
        }),
      },
    }),
  )
  return { promotions: promotions.QueueUrl!, promotionsDlq: dlq.QueueUrl! }
}
