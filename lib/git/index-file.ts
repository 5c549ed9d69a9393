import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** The stat data the index keeps per file (32-bit fields, as on disk). */
export interface IndexStat {
  ctimeS: number
  ctimeN: number
  mtimeS: number
  mtimeN: number
  dev: number
  ino: number
  uid: number
  gid: number
  size: number
}

/** One file of the index: its path, blob id, git mode (`100644`…) and the lstat of the file on disk, if any. */
export interface IndexEntry {
  path: string
  oid: string
  mode: string
  /** `undefined` marks the entry skip-worktree (outside a sparse checkout). */
  stat?: fs.BigIntStats | IndexStat
}

const u32 = (value: bigint | number): number => Number(BigInt(value) & 0xffffffffn)

/** The index's view of an lstat. */
export function toIndexStat(st: fs.BigIntStats | IndexStat): IndexStat {
  if (!('mtimeNs' in st)) return st
  return {
    ctimeS: u32(st.ctimeNs / 1_000_000_000n),
    ctimeN: u32(st.ctimeNs % 1_000_000_000n),
    mtimeS: u32(st.mtimeNs / 1_000_000_000n),
    mtimeN: u32(st.mtimeNs % 1_000_000_000n),
    dev: u32(st.dev),
    ino: u32(st.ino),
    uid: u32(st.uid),
    gid: u32(st.gid),
    size: u32(st.size),
  }
}

/**
 * Writes `.git/index` (version 2) for the given entries. Stat data lets the git CLI and isomorphic-git see unchanged
 * files without re-hashing them; entries without a stat (e.g. outside a sparse checkout) get the skip-worktree flag.
 */
export function writeIndex(gitdir: string, entries: IndexEntry[]): void {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
  const extended = sorted.some((e) => e.stat === undefined)
  const version = extended ? 3 : 2
  const parts: Buffer[] = []
  const header = Buffer.alloc(12)
  header.write('DIRC', 0, 'latin1')
  header.writeUInt32BE(version, 4)
  header.writeUInt32BE(sorted.length, 8)
  parts.push(header)
  for (const entry of sorted) {
    const name = Buffer.from(entry.path, 'utf8')
    const skip = entry.stat === undefined
    const fixed = extended && skip ? 64 : 62
    const length = Math.ceil((fixed + name.length + 1) / 8) * 8
    const buf = Buffer.alloc(length)
    if (entry.stat) {
      const st = toIndexStat(entry.stat)
      buf.writeUInt32BE(st.ctimeS, 0)
      buf.writeUInt32BE(st.ctimeN, 4)
      buf.writeUInt32BE(st.mtimeS, 8)
      buf.writeUInt32BE(st.mtimeN, 12)
      buf.writeUInt32BE(st.dev, 16)
      buf.writeUInt32BE(st.ino, 20)
      buf.writeUInt32BE(st.uid, 28)
      buf.writeUInt32BE(st.gid, 32)
      buf.writeUInt32BE(st.size, 36)
    }
    buf.writeUInt32BE(Number.parseInt(entry.mode, 8), 24)
    Buffer.from(entry.oid, 'hex').copy(buf, 40)
    let flags = Math.min(name.length, 0xfff)
    if (extended && skip) flags |= 0x4000
    buf.writeUInt16BE(flags, 60)
    if (extended && skip) buf.writeUInt16BE(0x4000, 62)
    name.copy(buf, fixed)
    parts.push(buf)
  }
  const body = Buffer.concat(parts)
  const checksum = createHash('sha1').update(body).digest()
  const file = path.join(gitdir, 'index')
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, Buffer.concat([body, checksum]))
  fs.renameSync(tmp, file)
}

/** What the index remembers about a file: its blob and the stat it had when that blob was recorded. */
export interface IndexedFile extends IndexStat {
  oid: string
  mode: string
  /** Outside a sparse checkout. */
  skipWorktree: boolean
}

export interface IndexSnapshot {
  files: Map<string, IndexedFile>
  /** mtime of the index file itself, in ns: an entry not older than this may be "racily clean" and must be hashed. */
  writtenNs: bigint
}

/** Reads `.git/index` (versions 2 and 3); `undefined` when it is missing or in a format we do not read. */
export function readIndex(gitdir: string): IndexSnapshot | undefined {
  const file = path.join(gitdir, 'index')
  let buf: Buffer
  let writtenNs: bigint
  try {
    buf = fs.readFileSync(file)
    writtenNs = fs.statSync(file, { bigint: true }).mtimeNs
  } catch {
    return undefined
  }
  if (buf.toString('latin1', 0, 4) !== 'DIRC') return undefined
  const version = buf.readUInt32BE(4)
  if (version !== 2 && version !== 3) return undefined
  const count = buf.readUInt32BE(8)
  const files = new Map<string, IndexedFile>()
  let pos = 12
  for (let i = 0; i < count; i++) {
    const flags = buf.readUInt16BE(pos + 60)
    const extended = version === 3 && (flags & 0x4000) !== 0
    const skipWorktree = extended && (buf.readUInt16BE(pos + 62) & 0x4000) !== 0
    const nameAt = pos + (extended ? 64 : 62)
    const end = buf.indexOf(0, nameAt)
    if (end < 0) return undefined
    const name = buf.toString('utf8', nameAt, end)
    files.set(name, {
      ctimeS: buf.readUInt32BE(pos),
      ctimeN: buf.readUInt32BE(pos + 4),
      mtimeS: buf.readUInt32BE(pos + 8),
      mtimeN: buf.readUInt32BE(pos + 12),
      dev: buf.readUInt32BE(pos + 16),
      ino: buf.readUInt32BE(pos + 20),
      mode: buf.readUInt32BE(pos + 24).toString(8),
      uid: buf.readUInt32BE(pos + 28),
      gid: buf.readUInt32BE(pos + 32),
      size: buf.readUInt32BE(pos + 36),
      oid: buf.toString('hex', pos + 40, pos + 60),
      skipWorktree,
    })
    // Entries are padded with 1–8 NULs so that their length is a multiple of 8.
    pos += Math.ceil((end - pos + 1) / 8) * 8
  }
  return { files, writtenNs }
}

/** True when `stat` matches what the index recorded, and the entry is not racily clean. */
export function statMatches(entry: IndexedFile, stat: fs.BigIntStats, writtenNs: bigint): boolean {
  const now = toIndexStat(stat)
  return (
    stat.mtimeNs < writtenNs &&
    entry.mtimeS === now.mtimeS &&
    entry.mtimeN === now.mtimeN &&
    entry.ctimeS === now.ctimeS &&
    entry.ctimeN === now.ctimeN &&
    entry.ino === now.ino &&
    entry.size === now.size
  )
}
