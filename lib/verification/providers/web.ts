/**
 * Argo Rollouts' `web` metric provider: one HTTP request, the JSON body (or the plain body, when it is not JSON)
 * as the measured value.
 *
 * - `method` GET (default), POST or PUT; `body` (text) or `jsonBody` (sent as JSON with `Content-Type:
 *   application/json`, which wins over a header of that name) only with POST/PUT, never both.
 * - `headers` are set in order (a repeated key: the last wins, as with Go's `Header.Set`).
 * - `timeoutSeconds` (default 10) limits the whole exchange; `insecure: true` skips TLS verification.
 * - A status outside 2xx is an error measurement (`received non 2xx response code: 503`).
 * - A JSON body is narrowed with `jsonPath` (default `{$}`, see `../jsonpath.ts`); like Argo, the first match is
 *   the value, and no match is an error. A body that is not JSON is the value as a string, whatever `jsonPath` says.
 * - The recorded value is the Go JSON encoding of the value (`true`, `"ok"`, `{"a":1}`), or the plain body.
 */
import { ValidationError, messageOf } from '../../errors.js'
import { goJsonMarshal } from '../../expressions/index.js'
import { goJsonUnmarshal } from '../../expressions/go-json.js'
import type { WebMetric } from '../../model/resources.js'
import { sendRequest, type HttpDeps } from '../http.js'
import { JsonPathError, compileJsonPath } from '../jsonpath.js'
import type { ProviderOutcome } from './types.js'

/** Argo's default web timeout. */
export const DEFAULT_WEB_TIMEOUT_SECONDS = 10

function hasJsonBody(web: WebMetric): boolean {
  return web.jsonBody !== undefined && web.jsonBody !== null
}

/** Builds the request headers; throws a `TypeError` (from `Headers`) for an invalid name or value. */
function requestHeaders(web: WebMetric): Record<string, string> {
  const headers = new Headers()
  for (const header of web.headers ?? []) headers.set(header.key, header.value)
  if (hasJsonBody(web)) headers.set('content-type', 'application/json')
  return Object.fromEntries(headers.entries())
}

/**
 * Checks what can be checked before any request (Argo finds these at the first measurement): the URL, the
 * method/body combination, the headers and the jsonPath. Throws a `ValidationError` naming `path`.
 */
export function checkWebMetric(web: WebMetric, path = 'provider.web'): void {
  let url: URL
  try {
    url = new URL(web.url)
  } catch {
    throw new ValidationError(`${path}.url: not an absolute URL`, { path: `${path}.url` })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`${path}.url: the scheme must be http or https`, { path: `${path}.url` })
  }
  const method = web.method ?? 'GET'
  const hasBody = (web.body ?? '') !== ''
  if (hasBody && hasJsonBody(web)) {
    throw new ValidationError(
      `${path}: use either body or jsonBody; both cannot exist for a web metric payload`,
      { path },
    )
  }
  if ((hasBody || hasJsonBody(web)) && method === 'GET') {
    throw new ValidationError(`${path}: body/jsonBody can only be used with the POST or PUT method`, { path })
  }
  try {
    requestHeaders(web)
  } catch (error) {
    throw new ValidationError(`${path}.headers: ${messageOf(error)}`, { path: `${path}.headers` })
  }
  try {
    compileJsonPath(web.jsonPath ?? '')
  } catch (error) {
    throw new ValidationError(`${path}.${messageOf(error)}`, { path: `${path}.jsonPath` })
  }
}

/** Performs one web measurement. Never throws: a failure is `{ ok: false, message }`. */
export async function measureWeb(web: WebMetric, deps: HttpDeps = {}): Promise<ProviderOutcome> {
  try {
    checkWebMetric(web)
  } catch (error) {
    return { ok: false, message: messageOf(error) }
  }
  const method = web.method ?? 'GET'
  let body: string | undefined
  if ((web.body ?? '') !== '') body = web.body
  else if (hasJsonBody(web)) body = JSON.stringify(web.jsonBody)
  let response: { status: number; body: string }
  try {
    response = await sendRequest(deps, {
      method,
      url: web.url,
      headers: requestHeaders(web),
      ...(body !== undefined ? { body } : {}),
      insecure: web.insecure ?? false,
      timeoutMs: (web.timeoutSeconds ?? DEFAULT_WEB_TIMEOUT_SECONDS) * 1000,
    })
  } catch (error) {
    return { ok: false, message: messageOf(error) }
  }
  if (response.status < 200 || response.status >= 300) {
    return { ok: false, message: `received non 2xx response code: ${response.status}` }
  }
  return parseWebResponse(response.body, web.jsonPath ?? '')
}

/** Argo's `parseResponse`: the value at `jsonPath` of a JSON body, or the body itself when it is not JSON. */
export function parseWebResponse(text: string, jsonPath: string): ProviderOutcome {
  const parsed = goJsonUnmarshal(text)
  if (parsed === undefined) return { ok: true, value: text, display: text }
  let matches: unknown[]
  try {
    matches = compileJsonPath(jsonPath).find(parsed.value)
  } catch (error) {
    if (error instanceof JsonPathError)
      return { ok: false, message: `Could not find JSONPath in body: ${error.message}` }
    return { ok: false, message: messageOf(error) }
  }
  if (matches.length === 0) return { ok: false, message: 'result of web metric produced no value' }
  const value = matches[0] ?? null
  return { ok: true, value, display: goJsonMarshal(value) }
}
