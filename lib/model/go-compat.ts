/**
 * Small pieces of Go's standard library whose exact behaviour Kargo's output depends on
 * (`strings.Compare`, `path.Clean`, `path.Join`, `strings.ToLower`).
 */

/**
 * Go's `strings.Compare`: byte-wise order of the UTF-8 encodings, which is code point order.
 * JS `<` compares UTF-16 code units, which puts U+E000–U+FFFF after astral characters; this does not.
 */
export function compareBytewise(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // Surrogates (astral code points) sort after every BMP code unit.
      const xs = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x
      const ys = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y
      return xs < ys ? -1 : 1
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0
}

/** Go's `path.Clean`: collapse `//`, `.` and `..` lexically; `""` becomes `"."`. */
export function cleanPath(path: string): string {
  if (path === '') return '.'
  const rooted = path.startsWith('/')
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const joined = (rooted ? '/' : '') + out.join('/')
  return joined === '' ? '.' : joined
}

/** Go's `path.Join`: the non-empty elements joined by `/` and cleaned; `""` when all are empty. */
export function joinPath(...elements: string[]): string {
  const nonEmpty = elements.filter((e) => e !== '')
  return nonEmpty.length === 0 ? '' : cleanPath(nonEmpty.join('/'))
}

/**
 * Go's `strings.ToLower`: simple per-code-point lowercasing. Unlike JS `toLowerCase` it has no
 * context rules (final sigma) and maps U+0130 to a plain `i`.
 */
export function goToLower(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase()
  let out = ''
  for (const ch of s) {
    if (ch === '\u0130') {
      out += 'i'
      continue
    }
    const lower = ch.toLowerCase()
    out += [...lower].length === 1 ? lower : ch
  }
  return out
}
