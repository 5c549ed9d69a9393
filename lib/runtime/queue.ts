import { sendPromotionMessage } from '../queue/promotions.js'
import type { RuntimeContext } from './context.js'

/** Sends a Promotion to the queue. */
export function enqueuer(ctx: RuntimeContext) {
  return async (message: { project: string; stage: string; promotion: string }, nonce = '') => {
    const url = ctx.config.TUGBOAT_PROMOTIONS_QUEUE_URL
    if (!url) throw new Error('TUGBOAT_PROMOTIONS_QUEUE_URL is not set')
    await sendPromotionMessage(ctx.sqs, url, message, nonce)
  }
}
