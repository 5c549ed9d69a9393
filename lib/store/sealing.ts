import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { ValidationError } from '../errors.js'

/** AES-256-GCM sealing of credential material at rest. The key is 32 bytes, base64-encoded. */
export function sealer(keyBase64: string | undefined) {
  const key = keyBase64 ? Buffer.from(keyBase64, 'base64') : undefined
  const requireKey = (): Buffer => {
    if (!key || key.length !== 32) {
      throw new ValidationError(
        'credentials cannot be stored: TUGBOAT_ENCRYPTION_KEY must be 32 bytes, base64-encoded',
      )
    }
    return key
  }
  return {
    seal(plaintext: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', requireKey(), iv)
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [
        'v1',
        iv.toString('base64'),
        cipher.getAuthTag().toString('base64'),
        body.toString('base64'),
      ].join('.')
    },
    open(sealed: string): string {
      const [version, iv, tag, body] = sealed.split('.')
      if (version !== 'v1' || !iv || !tag || !body) throw new Error('unrecognised sealed credential format')
      const decipher = createDecipheriv('aes-256-gcm', requireKey(), Buffer.from(iv, 'base64'))
      decipher.setAuthTag(Buffer.from(tag, 'base64'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8')
    },
  }
}
export type Sealer = ReturnType<typeof sealer>
