import { isIPv6 } from 'node:net'

/**
 * The part of Go's `net/url` (Go 1.26, which Kargo builds with) that Kargo's URL normalisation relies on: `Parse`,
 * `URL.String` and whether `Query()` is empty. Work happens on Go-style byte strings (one char per UTF-8 byte) so
 * escaping and comparisons behave as in Go; `parseGoURL` and `formatGoURL` convert at the edges.
 */

export interface GoURL {
  scheme: string
  opaque: string
  user: { username: string; password?: string } | null
  host: string
  path: string
  rawPath: string
  omitHost: boolean
  forceQuery: boolean
  rawQuery: string
  fragment: string
  rawFragment: string
}

type Mode = 'path' | 'host' | 'zone' | 'userinfo' | 'query' | 'fragment'

/** A JS string as Go sees it: one char per UTF-8 byte. */
export function toBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1')
}

/** Back from Go bytes to a JS string. */
export function fromBytes(b: string): string {
  return Buffer.from(b, 'latin1').toString('utf8')
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c)
}

function shouldEscape(c: number, mode: Mode): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return false
  const ch = String.fromCharCode(c)
  if ((mode === 'host' || mode === 'zone') && `!$&'()*+,;=:[]<>"`.includes(ch)) return false
  if ('-_.~'.includes(ch)) return false
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case 'path':
        return ch === '?'
      case 'userinfo':
        return ch === '@' || ch === '/' || ch === '?' || ch === ':'
      case 'query':
        return true
      case 'fragment':
        return false
      default:
        break
    }
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false
  return true
}

function escape(s: string, mode: Mode): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x20 && mode === 'query') out += '+'
    else if (shouldEscape(c, mode)) out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`
    else out += s[i]
  }
  return out
}

/** Go's `unescape`; null where Go returns an error. */
function unescape(s: string, mode: Mode): string | null {
  let out = ''
  for (let i = 0; i < s.length;) {
    const c = s[i] ?? ''
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) return null
      const v = parseInt(s.slice(i + 1, i + 3), 16)
      if (mode === 'host' && v < 0x80 && s.slice(i, i + 3) !== '%25') return null
      if (mode === 'zone' && s.slice(i, i + 3) !== '%25' && v !== 0x20 && shouldEscape(v, 'host')) return null
      out += String.fromCharCode(v)
      i += 3
    } else if (c === '+') {
      out += mode === 'query' ? ' ' : '+'
      i++
    } else {
      const code = c.charCodeAt(0)
      if ((mode === 'host' || mode === 'zone') && code < 0x80 && shouldEscape(code, mode)) return null
      out += c
      i++
    }
  }
  return out
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port)
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s)
}

function parseHost(scheme: string, host: string): string | null {
  const open = host.lastIndexOf('[')
  if (open > 0) return null
  if (open === 0) {
    const close = host.lastIndexOf(']')
    if (close < 0) return null
    const colonPort = host.slice(close + 1)
    if (!validOptionalPort(colonPort)) return null
    const hostname = host.slice(1, close)
    const zoneAt = hostname.indexOf('%25')
    let unescaped: string | null
    if (zoneAt >= 0) {
      const a = unescape(hostname.slice(0, zoneAt), 'host')
      const z = unescape(hostname.slice(zoneAt), 'zone')
      unescaped = a === null || z === null ? null : a + z
    } else {
      unescaped = unescape(hostname, 'host')
    }
    // Go checks the literal with netip.ParseAddr and refuses IPv4 in brackets.
    if (unescaped === null || !isIPv6(unescaped.replace(/%.*$/, ''))) return null
    return `[${unescaped}]${colonPort}`
  }
  let colon = host.indexOf(':')
  if (colon >= 0) {
    const last = host.lastIndexOf(':')
    // Go 1.26 (urlstrictcolons) refuses a second colon in http(s) hosts; elsewhere the last one starts the port.
    if (last !== colon && scheme !== 'http' && scheme !== 'https') colon = last
    if (!validOptionalPort(host.slice(colon))) return null
  }
  return unescape(host, 'host')
}

function getScheme(raw: string): { scheme: string; rest: string } | null {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? ''
    if (/[A-Za-z]/.test(c)) continue
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return { scheme: '', rest: raw }
      continue
    }
    if (c === ':') return i === 0 ? null : { scheme: raw.slice(0, i), rest: raw.slice(i + 1) }
    return { scheme: '', rest: raw }
  }
  return { scheme: '', rest: raw }
}

function setPath(u: GoURL, p: string): boolean {
  const path = unescape(p, 'path')
  if (path === null) return false
  u.path = path
  u.rawPath = escape(path, 'path') === p ? '' : p
  return true
}

/** Go's `url.Parse` on a byte string; null where Go returns an error. */
export function parseGoURLBytes(raw: string): GoURL | null {
  const hash = raw.indexOf('#')
  const main = hash < 0 ? raw : raw.slice(0, hash)
  const frag = hash < 0 ? '' : raw.slice(hash + 1)
  if (/[\x00-\x1f\x7f]/.test(main)) return null
  const u: GoURL = {
    scheme: '',
    opaque: '',
    user: null,
    host: '',
    path: '',
    rawPath: '',
    omitHost: false,
    forceQuery: false,
    rawQuery: '',
    fragment: '',
    rawFragment: '',
  }
  if (main === '*') {
    u.path = '*'
  } else {
    const s = getScheme(main)
    if (s === null) return null
    u.scheme = s.scheme.toLowerCase()
    let rest = s.rest
    if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
      u.forceQuery = true
      rest = rest.slice(0, -1)
    } else {
      const q = rest.indexOf('?')
      if (q >= 0) {
        u.rawQuery = rest.slice(q + 1)
        rest = rest.slice(0, q)
      }
    }
    if (!rest.startsWith('/')) {
      if (u.scheme !== '') {
        u.opaque = rest
        return withFragment(u, frag)
      }
      const slash = rest.indexOf('/')
      if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) return null
    }
    if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
      let authority = rest.slice(2)
      rest = ''
      const slash = authority.indexOf('/')
      if (slash >= 0) {
        rest = authority.slice(slash)
        authority = authority.slice(0, slash)
      }
      const at = authority.lastIndexOf('@')
      const host = parseHost(u.scheme, at < 0 ? authority : authority.slice(at + 1))
      if (host === null) return null
      u.host = host
      if (at >= 0) {
        const userinfo = authority.slice(0, at)
        if (!validUserinfo(userinfo)) return null
        const colon = userinfo.indexOf(':')
        const username = unescape(colon < 0 ? userinfo : userinfo.slice(0, colon), 'userinfo')
        if (username === null) return null
        if (colon < 0) {
          u.user = { username }
        } else {
          const password = unescape(userinfo.slice(colon + 1), 'userinfo')
          if (password === null) return null
          u.user = { username, password }
        }
      }
    } else if (u.scheme !== '' && rest.startsWith('/')) {
      u.omitHost = true
    }
    if (!setPath(u, rest)) return null
  }
  return withFragment(u, frag)
}

function withFragment(u: GoURL, frag: string): GoURL | null {
  if (frag === '') return u
  const f = unescape(frag, 'fragment')
  if (f === null) return null
  u.fragment = f
  u.rawFragment = escape(f, 'fragment') === frag ? '' : frag
  return u
}

function validEncoded(s: string, mode: Mode): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? ''
    if ("!$&'()*+,;=:@[]%".includes(c)) continue
    if (shouldEscape(c.charCodeAt(0), mode)) return false
  }
  return true
}

function escapedPath(u: GoURL): string {
  if (u.rawPath !== '' && validEncoded(u.rawPath, 'path') && unescape(u.rawPath, 'path') === u.path)
    return u.rawPath
  if (u.path === '*') return '*'
  return escape(u.path, 'path')
}

function escapedFragment(u: GoURL): string {
  if (u.rawFragment !== '' && validEncoded(u.rawFragment, 'fragment')) {
    if (unescape(u.rawFragment, 'fragment') === u.fragment) return u.rawFragment
  }
  return escape(u.fragment, 'fragment')
}

/** Go's `URL.String`, as a byte string. */
export function formatGoURLBytes(u: GoURL): string {
  let out = ''
  if (u.scheme !== '') out += `${u.scheme}:`
  if (u.opaque !== '') {
    out += u.opaque
  } else {
    const noAuthority = u.omitHost && u.host === '' && u.user === null
    if ((u.scheme !== '' || u.host !== '' || u.user !== null) && !noAuthority) {
      if (u.host !== '' || u.path !== '' || u.user !== null) out += '//'
      if (u.user !== null) {
        out += escape(u.user.username, 'userinfo')
        if (u.user.password !== undefined) out += `:${escape(u.user.password, 'userinfo')}`
        out += '@'
      }
      if (u.host !== '') out += escape(u.host, 'host')
    }
    let path = escapedPath(u)
    if (noAuthority && path.startsWith('//')) {
      out += '%2F'
      path = path.slice(1)
    }
    if (path !== '' && !path.startsWith('/') && u.host !== '') out += '/'
    if (out === '') {
      const slash = path.indexOf('/')
      if ((slash < 0 ? path : path.slice(0, slash)).includes(':')) out += './'
    }
    out += path
  }
  if (u.forceQuery || u.rawQuery !== '') out += `?${u.rawQuery}`
  if (u.fragment !== '') out += `#${escapedFragment(u)}`
  return out
}

/** Whether Go's `URL.Query()` would be non-empty (it silently drops malformed pairs). */
export function hasQueryParams(rawQuery: string): boolean {
  // Go 1.26 refuses (and so returns no values for) more than 10,000 parameters.
  if (rawQuery.split('&').length > 10_000) return false
  return rawQuery.split('&').some((pair) => {
    if (pair === '' || pair.includes(';')) return false
    const eq = pair.indexOf('=')
    const key = eq < 0 ? pair : pair.slice(0, eq)
    const value = eq < 0 ? '' : pair.slice(eq + 1)
    return unescape(key, 'query') !== null && unescape(value, 'query') !== null
  })
}

/** `url.Parse` on a JS string (the fields of the result are byte strings). */
export function parseGoURL(raw: string): GoURL | null {
  return parseGoURLBytes(toBytes(raw))
}

/** `URL.String` as a JS string. */
export function formatGoURL(u: GoURL): string {
  return fromBytes(formatGoURLBytes(u))
}
