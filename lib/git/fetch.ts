import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { TerminalError, UpstreamError } from '../errors.js'
import { toGitError } from './errors.js'
import { applyDelta, hashObject, type ObjectStore, type ObjectType } from './objects.js'
import { redactURL } from './redact.js'
import type { Remote } from './repo.js'

/*
 * The fetch half of git's smart HTTP protocol (v1, stateless), written here rather than taken from isomorphic-git:
 * isomorphic-git indexes a received pack in JavaScript (pako, plus an O(256·n) fan-out loop), which costs about
 * 700 ms of CPU for a 2,000-file clone. Indexing with Node's zlib and crypto takes a tenth of that. The HTTP client
 * is still isomorphic-git's (see http.ts); pushing stays with isomorphic-git.
 */

/** What a remote advertises. */
export interface Advertisement {
  /** Full ref name → SHA (peeled `^{}` entries of annotated tags included as `refs/tags/x^{}`). */
  refs: Map<string, string>
  /** The remote HEAD's target, e.g. `refs/heads/main`, when advertised. */
  head: string | undefined
  capabilities: Set<string>
}

const AGENT = 'git/tugboat'

/** Lists the refs and capabilities of `remote` (one GET of `info/refs?service=git-upload-pack`). */
export async function discover(remote: Remote): Promise<Advertisement> {
  const { url, headers } = splitAuth(remote)
  const res = await request(remote, {
    url: `${url}/info/refs?service=git-upload-pack`,
    method: 'GET',
    headers: { ...headers, 'User-Agent': AGENT, Accept: '*/*' },
  })
  if (!String(res.headers['content-type'] ?? '').startsWith('application/x-git-upload-pack-advertisement')) {
    throw new UpstreamError(`${redactURL(remote.url)} is not a smart HTTP git server`)
  }
  const refs = new Map<string, string>()
  let capabilities = new Set<string>()
  let head: string | undefined
  let first = true
  for (const line of pktLines(res.body)) {
    if (line === null) continue
    const text = line.toString('utf8').replace(/\n$/, '')
    if (text.startsWith('# service=')) continue
    let refPart = text
    if (first) {
      first = false
      const nul = text.indexOf('\0')
      if (nul >= 0) {
        refPart = text.slice(0, nul)
        capabilities = new Set(
          text
            .slice(nul + 1)
            .split(' ')
            .filter((c) => c !== ''),
        )
        for (const cap of capabilities)
          if (cap.startsWith('symref=HEAD:')) head = cap.slice('symref=HEAD:'.length)
      }
    }
    const [oid, name] = refPart.split(' ')
    if (oid && name && name !== 'capabilities^{}') refs.set(name, oid)
  }
  return { refs, head, capabilities }
}

export interface PackRequest {
  wants: string[]
  /** Cut history at this many commits (a shallow fetch). */
  depth?: number
  /** With `depth`: deepen the current shallow boundary by `depth` instead. */
  relative?: boolean
  /** Commits we have, so the server leaves out what they reach. */
  haves?: string[]
  /** Our current shallow boundary. */
  shallow?: string[]
}

export interface PackResult {
  /** Commits that are now shallow boundaries, and those that no longer are. */
  shallow: string[]
  unshallow: string[]
  objects: number
}

/** Fetches a pack for `wants` into `store` (writes `objects/pack/pack-*.{pack,idx}`). */
export async function fetchPack(
  remote: Remote,
  advertised: Advertisement,
  store: ObjectStore,
  req: PackRequest,
): Promise<PackResult> {
  const wants = [...new Set(req.wants)]
  if (wants.length === 0) return { shallow: [], unshallow: [], objects: 0 }
  const caps = ['side-band-64k', 'ofs-delta', 'no-progress', `agent=${AGENT}`].filter(
    (c) => c.startsWith('agent=') || advertised.capabilities.has(c),
  )
  if (req.depth !== undefined) {
    if (!advertised.capabilities.has('shallow'))
      throw new TerminalError(`${redactURL(remote.url)} does not support shallow fetches`)
    if (req.relative && advertised.capabilities.has('deepen-relative')) caps.push('deepen-relative')
  }
  const lines: Buffer[] = []
  wants.forEach((oid, i) => lines.push(pkt(`want ${oid}${i === 0 ? ` ${caps.join(' ')}` : ''}\n`)))
  for (const oid of req.shallow ?? []) lines.push(pkt(`shallow ${oid}\n`))
  if (req.depth !== undefined) lines.push(pkt(`deepen ${req.depth}\n`))
  lines.push(Buffer.from('0000'))
  for (const oid of new Set(req.haves ?? [])) lines.push(pkt(`have ${oid}\n`))
  lines.push(pkt('done\n'))

  const { url, headers } = splitAuth(remote)
  const res = await request(remote, {
    url: `${url}/git-upload-pack`,
    method: 'POST',
    headers: {
      ...headers,
      'User-Agent': AGENT,
      'Content-Type': 'application/x-git-upload-pack-request',
      Accept: 'application/x-git-upload-pack-result',
    },
    body: Buffer.concat(lines),
  })
  const shallow: string[] = []
  const unshallow: string[] = []
  const pack: Buffer[] = []
  let sideband = false
  for (const line of pktLines(res.body)) {
    if (line === null) {
      if (sideband) break
      continue
    }
    const channel = line[0]
    if (!sideband && (channel === 1 || channel === 2 || channel === 3)) sideband = true
    if (sideband) {
      if (channel === 1) pack.push(line.subarray(1))
      else if (channel === 3)
        throw new UpstreamError(
          `fetching from ${redactURL(remote.url)}: ${line.subarray(1).toString('utf8').trim()}`,
        )
      continue
    }
    const text = line.toString('utf8').trim()
    if (text.startsWith('shallow ')) shallow.push(text.slice(8))
    else if (text.startsWith('unshallow ')) unshallow.push(text.slice(10))
    else if (text.startsWith('ERR '))
      throw new FetchRefusedError(`fetching from ${redactURL(remote.url)}: ${text.slice(4)}`)
  }
  const data = Buffer.concat(pack)
  const objects = data.length >= 12 ? data.readUInt32BE(8) : 0
  if (objects > 0) storePack(store, data)
  return { shallow, unshallow, objects }
}

/** The server refused the request (e.g. `not our ref` for an unadvertised commit). */
export class FetchRefusedError extends UpstreamError {}

/** Indexes `pack` and writes it with its `.idx` into the object store. */
export function storePack(store: ObjectStore, pack: Buffer): void {
  const body = pack.subarray(0, pack.length - 20)
  const checksum = pack.subarray(pack.length - 20)
  if (!createHash('sha1').update(body).digest().equals(checksum))
    throw new UpstreamError('received a corrupt pack (checksum mismatch)')
  const idx = indexPack(pack, store)
  const name = `pack-${checksum.toString('hex')}`
  const dir = path.join(store.gitdir, 'objects', 'pack')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, `${name}.pack`), pack)
  fs.writeFileSync(path.join(dir, `${name}.idx`), idx)
  store.refresh()
}

interface Entry {
  offset: number
  end: number
  type: number
  /** Inflated data (the delta itself for delta entries). */
  data: Buffer
  baseOffset?: number
  baseOid?: string
  oid?: string
  resolved?: { type: ObjectType; data: Buffer }
}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' }

/** Builds a version-2 `.idx` for a pack (deltas resolved, REF_DELTA bases looked up in the pack or the store). */
export function indexPack(pack: Buffer, store: ObjectStore): Buffer {
  if (pack.toString('latin1', 0, 4) !== 'PACK') throw new UpstreamError('received data is not a git pack')
  const count = pack.readUInt32BE(8)
  const entries: Entry[] = []
  const byOffset = new Map<number, Entry>()
  let pos = 12
  for (let i = 0; i < count; i++) {
    const offset = pos
    let byte = pack[pos++] ?? 0
    const type = (byte >> 4) & 7
    while (byte & 0x80) byte = pack[pos++] ?? 0
    const entry: Entry = { offset, end: 0, type, data: Buffer.alloc(0) }
    if (type === 6) {
      byte = pack[pos++] ?? 0
      let back = byte & 0x7f
      while (byte & 0x80) {
        byte = pack[pos++] ?? 0
        back = ((back + 1) << 7) | (byte & 0x7f)
      }
      entry.baseOffset = offset - back
    } else if (type === 7) {
      entry.baseOid = pack.subarray(pos, pos + 20).toString('hex')
      pos += 20
    }
    const inflated = inflateCounting(pack.subarray(pos))
    entry.data = inflated.data
    pos += inflated.consumed
    entry.end = pos
    entries.push(entry)
    byOffset.set(offset, entry)
  }
  const byOid = new Map<string, Entry>()
  for (const e of entries) {
    const type = TYPES[e.type]
    if (!type) continue
    e.resolved = { type, data: e.data }
    e.oid = hashObject(type, e.data)
    byOid.set(e.oid, e)
  }
  const resolve = (e: Entry, depth = 0): { type: ObjectType; data: Buffer } | undefined => {
    if (e.resolved) return e.resolved
    if (depth > 10_000) throw new UpstreamError('pack delta chain too deep')
    let base: { type: ObjectType; data: Buffer } | undefined
    if (e.baseOffset !== undefined) {
      const b = byOffset.get(e.baseOffset)
      if (!b) throw new UpstreamError('pack has a delta with a missing base')
      base = resolve(b, depth + 1)
    } else if (e.baseOid) {
      const b = byOid.get(e.baseOid)
      if (b) base = resolve(b, depth + 1)
      else if (store.has(e.baseOid)) base = store.read(e.baseOid)
    }
    if (!base) return undefined
    e.resolved = { type: base.type, data: applyDelta(base.data, e.data) }
    e.oid = hashObject(e.resolved.type, e.resolved.data)
    byOid.set(e.oid, e)
    return e.resolved
  }
  let pending = entries.filter((e) => !e.resolved)
  while (pending.length > 0) {
    const before = pending.length
    for (const e of pending) resolve(e)
    pending = pending.filter((e) => !e.resolved)
    if (pending.length === before) throw new UpstreamError('pack has deltas whose bases are missing')
  }

  for (const e of entries) if (e.oid && e.resolved) store.prime(e.oid, e.resolved)
  const sorted = [...entries].sort((a, b) => ((a.oid ?? '') < (b.oid ?? '') ? -1 : 1))
  const n = sorted.length
  const fanout = Buffer.alloc(256 * 4)
  const names = Buffer.alloc(n * 20)
  const crcs = Buffer.alloc(n * 4)
  const offsets = Buffer.alloc(n * 4)
  const large: Buffer[] = []
  const counts = new Array<number>(256).fill(0)
  sorted.forEach((e, i) => {
    const oid = Buffer.from(e.oid ?? '', 'hex')
    oid.copy(names, i * 20)
    const first = oid[0] ?? 0
    counts[first] = (counts[first] ?? 0) + 1
    crcs.writeUInt32BE(zlib.crc32(pack.subarray(e.offset, e.end)) >>> 0, i * 4)
    if (e.offset < 0x80000000) {
      offsets.writeUInt32BE(e.offset, i * 4)
    } else {
      offsets.writeUInt32BE((0x80000000 | large.length) >>> 0, i * 4)
      const big = Buffer.alloc(8)
      big.writeBigUInt64BE(BigInt(e.offset))
      large.push(big)
    }
  })
  let running = 0
  for (let i = 0; i < 256; i++) {
    running += counts[i] ?? 0
    fanout.writeUInt32BE(running, i * 4)
  }
  const header = Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2])
  const packChecksum = pack.subarray(pack.length - 20)
  const body = Buffer.concat([header, fanout, names, crcs, offsets, ...large, packChecksum])
  return Buffer.concat([body, createHash('sha1').update(body).digest()])
}

/** Inflates one zlib stream at the start of `input` and reports how many input bytes it used. */
function inflateCounting(input: Buffer): { data: Buffer; consumed: number } {
  // With `info: true` zlib also returns the engine, whose bytesWritten is the input consumed (the typings omit it).
  const result: unknown = zlib.inflateSync(input, { info: true })
  const data: unknown =
    typeof result === 'object' && result !== null ? Reflect.get(result, 'buffer') : undefined
  const engine: unknown =
    typeof result === 'object' && result !== null ? Reflect.get(result, 'engine') : undefined
  const consumed: unknown =
    typeof engine === 'object' && engine !== null ? Reflect.get(engine, 'bytesWritten') : undefined
  if (!Buffer.isBuffer(data) || typeof consumed !== 'number')
    throw new UpstreamError('could not inflate a pack entry')
  return { data, consumed }
}

function pkt(text: string): Buffer {
  const body = Buffer.from(text, 'utf8')
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'), body])
}

/** Splits a buffer into pkt-line payloads; `null` for flush/delim packets. */
function* pktLines(buf: Buffer): Generator<Buffer | null> {
  let pos = 0
  while (pos + 4 <= buf.length) {
    const length = Number.parseInt(buf.toString('latin1', pos, pos + 4), 16)
    if (Number.isNaN(length)) throw new UpstreamError('malformed response from the git server')
    if (length < 4) {
      pos += 4
      yield null
      continue
    }
    yield buf.subarray(pos + 4, pos + length)
    pos += length
  }
}

/** The URL without user info, and headers carrying it (or the remote's credentials) as basic auth. */
function splitAuth(remote: Remote): { url: string; headers: Record<string, string> } {
  const headers = { ...remote.auth.headers }
  const parsed = new URL(remote.url)
  if (parsed.username || parsed.password) {
    if (!headers.Authorization) {
      const user = decodeURIComponent(parsed.username)
      const pass = decodeURIComponent(parsed.password)
      headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
    }
    parsed.username = ''
    parsed.password = ''
  }
  return { url: parsed.toString().replace(/\/+$/, ''), headers }
}

interface Response {
  statusCode: number
  headers: Record<string, string>
  body: Buffer
}

async function request(
  remote: Remote,
  req: { url: string; method: string; headers: Record<string, string>; body?: Buffer },
): Promise<Response> {
  const where = 'fetching from'
  const payload = req.body
  let res
  try {
    res = await remote.http.request({
      url: req.url,
      method: req.method,
      headers: req.body ? { ...req.headers, 'Content-Length': String(req.body.length) } : req.headers,
      body: payload ? single(new Uint8Array(payload)) : undefined,
    })
  } catch (error) {
    throw toGitError(error, { action: where, url: remote.url, secrets: remote.auth.secrets })
  }
  const chunks: Buffer[] = []
  if (res.body) for await (const chunk of res.body) chunks.push(Buffer.from(chunk))
  const body = Buffer.concat(chunks)
  if (res.statusCode !== 200) {
    const error = Object.assign(new Error(`HTTP Error: ${res.statusCode} ${res.statusMessage}`), {
      code: 'HttpError',
      data: { statusCode: res.statusCode },
    })
    throw toGitError(error, { action: where, url: remote.url, secrets: remote.auth.secrets })
  }
  return { statusCode: res.statusCode, headers: res.headers ?? {}, body }
}

async function* single(chunk: Uint8Array): AsyncGenerator<Uint8Array> {
  yield chunk
}
