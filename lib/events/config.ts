import { z } from 'zod'

/** Settings of outbound events, parsed from the environment (inside handlers, never at import). */
export const EventsConfigSchema = z.object({
  /** The events queue (standard); unset = events stay in the outbox until it is configured. */
  TUGBOAT_EVENTS_QUEUE_URL: z.string().optional(),
  /** First retry delay of a failed delivery, in seconds; then ×3 per attempt. */
  TUGBOAT_EVENTS_BACKOFF_BASE_SECONDS: z.coerce.number().int().min(0).default(10),
  TUGBOAT_EVENTS_BACKOFF_MAX_SECONDS: z.coerce.number().int().min(0).max(43_200).default(900),
  /** Per-request timeout of a delivery POST, in seconds. */
  TUGBOAT_EVENTS_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
})
export type EventsConfig = z.infer<typeof EventsConfigSchema>

export function loadEventsConfig(env: NodeJS.ProcessEnv = process.env): EventsConfig {
  return EventsConfigSchema.parse(env)
}
