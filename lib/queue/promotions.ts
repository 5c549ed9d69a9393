import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { z } from 'zod'

/** The body of a promotions-queue message: which Promotion to run. The store holds the rest. */
export const PromotionMessageSchema = z.object({
  project: z.string().min(1),
  stage: z.string().min(1),
  promotion: z.string().min(1),
})
export type PromotionMessage = z.infer<typeof PromotionMessageSchema>

/** FIFO group per Stage: one Promotion per Stage at a time, in order; Stages in parallel. */
export function promotionGroupId(message: Pick<PromotionMessage, 'project' | 'stage'>): string {
  return `${message.project}/${message.stage}`
}

/**
 * Sends a Promotion to the FIFO queue. The dedup id is the Promotion name plus a nonce the caller may fix,
 * so a re-drive after a lost message is not swallowed by FIFO's 5-minute deduplication window.
 */
export async function sendPromotionMessage(
  sqs: SQSClient,
  queueUrl: string,
  message: PromotionMessage,
  nonce = '',
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(PromotionMessageSchema.parse(message)),
      MessageGroupId: promotionGroupId(message),
      MessageDeduplicationId: `${message.promotion}${nonce ? `.${nonce}` : ''}`.slice(0, 128),
    }),
  )
}
