import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** One file of the index: its path, blob id, git mode (`100644`…) and the lstat of the file on disk, if any. */
export interface IndexEntry {
  path: string
  oid: string
  mode: string
  stat?: fs.BigIntStats
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
    const st = entry.stat
    const u32 = (value: bigint | number): number => Number(BigInt(value) & 0xffffffffn)
    if (st) {
      buf.writeUInt32BE(u32(st.ctimeNs / 1_000_000_000n), 0)
      buf.writeUInt32BE(u32(st.ctimeNs % 1_000_000_000n), 4)
      buf.writeUInt32BE(u32(st.mtimeNs / 1_000_000_000n), 8)
      buf.writeUInt32BE(u32(st.mtimeNs % 1_000_000_000n), 12)
      buf.writeUInt32BE(u32(st.dev), 16)
      buf.writeUInt32BE(u32(st.ino), 20)
      buf.writeUInt32BE(u32(st.uid), 28)
      buf.writeUInt32BE(u32(st.gid), 32)
      buf.writeUInt32BE(u32(st.size), 36)
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
