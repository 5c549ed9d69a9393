/** Replaces the user info of a URL (`https://user:token@host/…`) with `***`, so the URL is safe to show. */
export function redactURL(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@')
}

/**
 * Removes every known secret, and the user info of any URL, from a message. Use it on every error message that may
 * contain text from a remote or from a library that saw the credentials.
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = text
  for (const secret of secrets) {
    if (secret && secret.length >= 3) out = out.split(secret).join('***')
  }
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]*@/gi, '$1***@')
}
