/** What a provider hands the runner: the value conditions see as `result` and its text, or why it could not measure. */
export type ProviderOutcome =
  | { ok: true; value: unknown; display: string; metadata?: Record<string, string> }
  | { ok: false; message: string }
