import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

/** A git object type. */
export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag'

export interface GitObject {
  type: ObjectType
  data: Buffer
}

/** One entry of a tree, flattened to its full path. `mode` is git's octal text: 100644, 100755, 120000, 160000. */
export interface FileEntry {
  oid: string
  mode: string
}

/** Every file (blob, symlink or gitlink) of a tree, by full path. */
export type FlatTree = Map<string, FileEntry>

export interface TreeEntry {
  mode: string
  name: string
  oid: string
}

export interface CommitInfo {
  tree: string
  parents: string[]
  author: string
  committer: string
  message: string
}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' }
const OFS_DELTA = 6
const REF_DELTA = 7

interface Pack {
  data: Buffer
  offsets: Map<string, number>
  /** Delta bases already resolved, by offset (bounded by BASE_CACHE_BYTES). */
  bases: Map<number, GitObject>
  baseBytes: number
}

const BASE_CACHE_BYTES = 64 * 1024 * 1024
const PRIME_BYTES = 128 * 1024 * 1024

/**
 * Reads and writes the objects of one repository directly (packfiles and loose objects) with Node's native zlib.
 * isomorphic-git's object reads go through pako and several fs calls per object, which costs about a second of CPU to
 * check out a 2,000-file tree; this store does the same in a few tens of milliseconds. It is stateful (it caches the
 * packs it has loaded), so use one per step run; call `refresh()` after a fetch added a pack.
 */
export class ObjectStore {
  readonly gitdir: string
  private packs: Pack[] | undefined
  private readonly resolved = new Map<string, GitObject>()
  /** Blobs handed over by a fetch that just inflated them, read at most once (a checkout follows every fetch). */
  private readonly primed = new Map<string, GitObject>()
  private primedBytes = 0

  constructor(gitdir: string) {
    this.gitdir = gitdir
  }

  /** Forgets the loaded packs (after a fetch wrote a new one). */
  refresh(): void {
    this.packs = undefined
  }

  /** True when the object exists, loose or packed. */
  has(oid: string): boolean {
    if (this.loadPacks().some((p) => p.offsets.has(oid))) return true
    return fs.existsSync(this.loosePath(oid))
  }

  /** Keeps objects a fetch has just inflated, so the checkout that follows need not inflate them again. */
  prime(oid: string, object: GitObject): void {
    if (object.type !== 'blob') {
      this.resolved.set(oid, object)
    } else if (this.primedBytes + object.data.length <= PRIME_BYTES) {
      this.primed.set(oid, object)
      this.primedBytes += object.data.length
    }
  }

  /** Reads an object; throws when it is missing. */
  read(oid: string): GitObject {
    const cached = this.resolved.get(oid)
    if (cached) return cached
    const primed = this.primed.get(oid)
    if (primed) {
      this.primed.delete(oid)
      this.primedBytes -= primed.data.length
      return primed
    }
    for (const pack of this.loadPacks()) {
      const offset = pack.offsets.get(oid)
      if (offset !== undefined) {
        const object = this.readPacked(pack, offset)
        if (object.type !== 'blob') this.resolved.set(oid, object)
        return object
      }
    }
    let raw: Buffer
    try {
      raw = zlib.inflateSync(fs.readFileSync(this.loosePath(oid)))
    } catch (error) {
      throw new Error(`git object ${oid} not found`, { cause: error })
    }
    const space = raw.indexOf(0x20)
    const nul = raw.indexOf(0, space)
    const type = raw.subarray(0, space).toString('latin1')
    if (!isObjectType(type)) throw new Error(`git object ${oid} has unknown type ${type}`)
    const object = { type, data: raw.subarray(nul + 1) }
    if (type !== 'blob') this.resolved.set(oid, object)
    return object
  }

  /** Reads an object and checks its type. */
  readAs(oid: string, type: ObjectType): Buffer {
    const object = this.read(oid)
    if (object.type !== type) throw new Error(`git object ${oid} is a ${object.type}, not a ${type}`)
    return object.data
  }

  /** Writes a loose object (unless it exists) and returns its id. */
  write(type: ObjectType, data: Buffer): string {
    const oid = hashObject(type, data)
    if (this.resolved.has(oid) || this.has(oid)) return oid
    const file = this.loosePath(oid)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const header = Buffer.from(`${type} ${data.length}\0`, 'latin1')
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, zlib.deflateSync(Buffer.concat([header, data]), { level: 1 }))
    fs.renameSync(tmp, file)
    return oid
  }

  readTree(oid: string): TreeEntry[] {
    return parseTree(this.readAs(oid, 'tree'))
  }

  readCommit(oid: string): CommitInfo {
    return parseCommit(this.readAs(oid, 'commit'))
  }

  /** The commit a tag or commit id points at (annotated tags are peeled). */
  peelToCommit(oid: string): string {
    let current = oid
    for (let i = 0; i < 10; i++) {
      const object = this.read(current)
      if (object.type === 'commit') return current
      if (object.type !== 'tag') throw new Error(`${oid} does not point at a commit`)
      const match = /^object ([0-9a-f]{40})$/m.exec(object.data.toString('utf8'))
      if (!match?.[1]) throw new Error(`tag ${current} has no object`)
      current = match[1]
    }
    throw new Error(`tag chain from ${oid} is too long`)
  }

  /** Every file of a tree by full path (trees are descended into, not listed). */
  flatten(treeOid: string): FlatTree {
    const out: FlatTree = new Map()
    const walk = (oid: string, prefix: string): void => {
      for (const entry of this.readTree(oid)) {
        const full = prefix + entry.name
        if (entry.mode === '40000' || entry.mode === '040000') walk(entry.oid, `${full}/`)
        else out.set(full, { oid: entry.oid, mode: entry.mode })
      }
    }
    walk(treeOid, '')
    return out
  }

  /** Writes the trees for a flat file list and returns the root tree id. */
  writeFlat(files: FlatTree): string {
    interface Dir {
      files: TreeEntry[]
      dirs: Map<string, Dir>
    }
    const root: Dir = { files: [], dirs: new Map() }
    for (const [file, entry] of files) {
      const parts = file.split('/')
      let dir = root
      for (const part of parts.slice(0, -1)) {
        let next = dir.dirs.get(part)
        if (!next) {
          next = { files: [], dirs: new Map() }
          dir.dirs.set(part, next)
        }
        dir = next
      }
      dir.files.push({ mode: entry.mode, name: parts[parts.length - 1] ?? file, oid: entry.oid })
    }
    const writeDir = (dir: Dir): string => {
      const entries = [...dir.files]
      for (const [name, sub] of dir.dirs) entries.push({ mode: '40000', name, oid: writeDir(sub) })
      return this.write('tree', serializeTree(entries))
    }
    return writeDir(root)
  }

  private loosePath(oid: string): string {
    return path.join(this.gitdir, 'objects', oid.slice(0, 2), oid.slice(2))
  }

  private loadPacks(): Pack[] {
    if (this.packs) return this.packs
    const dir = path.join(this.gitdir, 'objects', 'pack')
    let names: string[] = []
    try {
      names = fs.readdirSync(dir)
    } catch {
      names = []
    }
    this.packs = names
      .filter((n) => n.endsWith('.idx') && names.includes(n.replace(/\.idx$/, '.pack')))
      .map((n) => ({
        offsets: parseIndex(fs.readFileSync(path.join(dir, n))),
        data: fs.readFileSync(path.join(dir, n.replace(/\.idx$/, '.pack'))),
        bases: new Map<number, GitObject>(),
        baseBytes: 0,
      }))
    return this.packs
  }

  private deltaBase(pack: Pack, offset: number): GitObject {
    const cached = pack.bases.get(offset)
    if (cached) return cached
    const object = this.readPacked(pack, offset)
    if (pack.baseBytes + object.data.length > BASE_CACHE_BYTES) {
      pack.bases.clear()
      pack.baseBytes = 0
    }
    pack.bases.set(offset, object)
    pack.baseBytes += object.data.length
    return object
  }

  private readPacked(pack: Pack, offset: number): GitObject {
    const { data } = pack
    let pos = offset
    let byte = data[pos++] ?? 0
    const typeNum = (byte >> 4) & 7
    while (byte & 0x80) byte = data[pos++] ?? 0
    if (typeNum === OFS_DELTA) {
      byte = data[pos++] ?? 0
      let back = byte & 0x7f
      while (byte & 0x80) {
        byte = data[pos++] ?? 0
        back = ((back + 1) << 7) | (byte & 0x7f)
      }
      const base = this.deltaBase(pack, offset - back)
      return { type: base.type, data: applyDelta(base.data, zlib.inflateSync(data.subarray(pos))) }
    }
    if (typeNum === REF_DELTA) {
      const baseOid = data.subarray(pos, pos + 20).toString('hex')
      const base = this.read(baseOid)
      return { type: base.type, data: applyDelta(base.data, zlib.inflateSync(data.subarray(pos + 20))) }
    }
    const type = TYPES[typeNum]
    if (!type) throw new Error(`unknown packed object type ${typeNum} at offset ${offset}`)
    return { type, data: zlib.inflateSync(data.subarray(pos)) }
  }
}

/** The id git gives an object. */
export function hashObject(type: ObjectType, data: Buffer): string {
  return createHash('sha1').update(`${type} ${data.length}\0`, 'latin1').update(data).digest('hex')
}

function isObjectType(type: string): type is ObjectType {
  return type === 'commit' || type === 'tree' || type === 'blob' || type === 'tag'
}

/** Parses a version-2 pack index into object id → pack offset. */
function parseIndex(idx: Buffer): Map<string, number> {
  if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2)
    throw new Error('unsupported pack index')
  const count = idx.readUInt32BE(8 + 255 * 4)
  const namesAt = 8 + 256 * 4
  const offsetsAt = namesAt + count * 20 + count * 4
  const largeAt = offsetsAt + count * 4
  const out = new Map<string, number>()
  for (let i = 0; i < count; i++) {
    const oid = idx.subarray(namesAt + i * 20, namesAt + i * 20 + 20).toString('hex')
    let offset = idx.readUInt32BE(offsetsAt + i * 4)
    if (offset & 0x80000000) {
      const large = (offset & 0x7fffffff) * 8 + largeAt
      offset = Number(idx.readBigUInt64BE(large))
    }
    out.set(oid, offset)
  }
  return out
}

/** Applies a git delta to its base. */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0
  const varint = (): number => {
    let result = 0
    let shift = 0
    let byte: number
    do {
      byte = delta[pos++] ?? 0
      result += (byte & 0x7f) * 2 ** shift
      shift += 7
    } while (byte & 0x80)
    return result
  }
  const baseSize = varint()
  if (baseSize !== base.length) throw new Error('delta base size mismatch')
  const out = Buffer.allocUnsafe(varint())
  let outPos = 0
  while (pos < delta.length) {
    const op = delta[pos++] ?? 0
    if (op & 0x80) {
      let copyOffset = 0
      let copySize = 0
      for (let bit = 0; bit < 4; bit++)
        if (op & (1 << bit)) copyOffset += (delta[pos++] ?? 0) * 2 ** (8 * bit)
      for (let bit = 0; bit < 3; bit++)
        if (op & (0x10 << bit)) copySize += (delta[pos++] ?? 0) * 2 ** (8 * bit)
      if (copySize === 0) copySize = 0x10000
      base.copy(out, outPos, copyOffset, copyOffset + copySize)
      outPos += copySize
    } else if (op > 0) {
      delta.copy(out, outPos, pos, pos + op)
      outPos += op
      pos += op
    } else {
      throw new Error('invalid delta opcode 0')
    }
  }
  if (outPos !== out.length) throw new Error('delta result size mismatch')
  return out
}

/** Parses a raw tree object. */
export function parseTree(data: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = []
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    const nul = data.indexOf(0, space)
    entries.push({
      mode: data.subarray(pos, space).toString('latin1'),
      name: data.subarray(space + 1, nul).toString('utf8'),
      oid: data.subarray(nul + 1, nul + 21).toString('hex'),
    })
    pos = nul + 21
  }
  return entries
}

/** Serialises tree entries in git's order (directories sort as if their name ended with `/`). */
export function serializeTree(entries: TreeEntry[]): Buffer {
  const key = (e: TreeEntry): Buffer => Buffer.from(isTreeMode(e.mode) ? `${e.name}/` : e.name, 'utf8')
  const sorted = [...entries].sort((a, b) => Buffer.compare(key(a), key(b)))
  const parts: Buffer[] = []
  for (const e of sorted) {
    parts.push(
      Buffer.from(`${isTreeMode(e.mode) ? '40000' : e.mode} ${e.name}\0`, 'utf8'),
      Buffer.from(e.oid, 'hex'),
    )
  }
  return Buffer.concat(parts)
}

function isTreeMode(mode: string): boolean {
  return mode === '40000' || mode === '040000'
}

/** Parses a raw commit object. */
export function parseCommit(data: Buffer): CommitInfo {
  const text = data.toString('utf8')
  const split = text.indexOf('\n\n')
  const headers = split < 0 ? text : text.slice(0, split)
  const message = split < 0 ? '' : text.slice(split + 2)
  const info: CommitInfo = { tree: '', parents: [], author: '', committer: '', message }
  for (const line of headers.split('\n')) {
    if (line.startsWith('tree ')) info.tree = line.slice(5)
    else if (line.startsWith('parent ')) info.parents.push(line.slice(7))
    else if (line.startsWith('author ')) info.author = line.slice(7)
    else if (line.startsWith('committer ')) info.committer = line.slice(10)
  }
  return info
}
