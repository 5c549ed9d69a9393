/**
 * A promotions worker in its own process, for tests that kill it mid-promotion: the `promote` Lambda handler
 * consuming the queue named by TUGBOAT_PROMOTIONS_QUEUE_URL, exactly as `npm start` runs it.
 * Started with `tsx test/support/worker-process.ts`; the environment carries the table, queue and endpoints.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { main as promote } from '../../functions/promote.js'
import { consumeQueue } from '../../lib/local/queue-consumer.js'

const queueUrl = process.env.TUGBOAT_PROMOTIONS_QUEUE_URL!
const sqs = new SQSClient({ region: 'us-east-1' })
const { Attributes } = await sqs.send(
  new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
)
consumeQueue({
  sqs,
  queueUrl,
  queueArn: Attributes!.QueueArn!,
  handler: promote,
  functionName: 'promote',
  onError: (e) => console.error(String(e)),
})
console.log('worker ready')
