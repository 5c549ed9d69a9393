import type { CliConfig } from './config.js'

/** An API error as the CLI shows it: the server's message, and the HTTP status for the exit code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

/** A small fetch wrapper for the Tugboat API. */
export function apiClient(config: CliConfig, fetchImpl: typeof fetch = fetch) {
  async function request<T = unknown>(
    method: string,
    path: string,
    body?: { text: string } | { json: unknown },
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${config.token}`,
      accept: 'application/json',
    }
    let payload: string | undefined
    if (body && 'text' in body) {
      headers['content-type'] = 'application/yaml'
      payload = body.text
    } else if (body) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body.json)
    }
    let response: Response
    try {
      response = await fetchImpl(`${config.server}${path}`, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
      })
    } catch (error) {
      throw new ApiError(
        `cannot reach Tugboat at ${config.server}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
        0,
      )
    }
    const text = await response.text()
    let parsed: unknown = undefined
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = text
    }
    if (!response.ok) {
      const message =
        parsed && typeof parsed === 'object' && 'message' in parsed
          ? String((parsed as { message: unknown }).message)
          : `${response.status} ${response.statusText}`
      throw new ApiError(message, response.status, parsed)
    }
    return parsed as T
  }
  return {
    request,
    get: <T = unknown>(path: string) => request<T>('GET', path),
    post: <T = unknown>(path: string, json?: unknown) =>
      request<T>('POST', path, json === undefined ? undefined : { json }),
  }
}
export type ApiClient = ReturnType<typeof apiClient>
