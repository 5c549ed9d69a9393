import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header that carries a delivery's signature, like GitHub's `X-Hub-Signature-256`. */
export const SIGNATURE_HEADER = 'X-Tugboat-Signature-256'

/** `sha256=<hex HMAC-SHA256 of the raw body>` with `secret` as the key. */
export function sign(secret: string | Buffer, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** Constant-time check of a `sha256=<hex>` signature over the raw body. False for a missing or malformed header. */
export function verifySignature(
  secret: string | Buffer,
  body: string | Buffer,
  header: string | null | undefined,
): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header.trim())) return false
  const expected = Buffer.from(sign(secret, body), 'utf8')
  const given = Buffer.from(header.trim().toLowerCase(), 'utf8')
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/** Constant-time equality of two shared tokens (GitLab's X-Gitlab-Token, Harbor's Authorization). */
export function sameToken(expected: string, given: string | null | undefined): boolean {
  if (given === null || given === undefined) return false
  const a = createHmac('sha256', 'tugboat').update(expected).digest()
  const b = createHmac('sha256', 'tugboat').update(given).digest()
  return timingSafeEqual(a, b)
}
