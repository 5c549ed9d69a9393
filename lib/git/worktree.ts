import fs from 'node:fs'
import path from 'node:path'
import git from 'isomorphic-git'
import { readIndex, statMatches, writeIndex, type IndexEntry, type IndexStat } from './index-file.js'
import { hashObject, type FlatTree, type ObjectStore } from './objects.js'

/*
 * Working-tree operations done directly on disk: checking a tree out, snapshotting the working directory as a tree,
 * and writing the index to match. isomorphic-git's checkout and statusMatrix cost seconds of CPU on a 2,000-file
 * tree; these do the same work with synchronous fs calls and native hashing.
 */

/** Directories of a sparse (cone-mode) checkout; `undefined` means the whole tree. */
export type Sparse = readonly string[] | undefined

/** True when `file` is inside the cone of `sparse` (root files, files in ancestors of a cone dir, files below one). */
export function inSparseCone(file: string, sparse: Sparse): boolean {
  if (!sparse) return true
  const slash = file.lastIndexOf('/')
  if (slash < 0) return true
  const parent = file.slice(0, slash)
  return sparse.some((dir) => file.startsWith(`${dir}/`) || dir === parent || dir.startsWith(`${parent}/`))
}

/** Normalises sparse directories: no leading `./` or `/`, no trailing `/`; rejects globs and `..`. */
export function normalizeSparse(dirs: readonly string[]): string[] {
  return dirs.map((raw) => {
    const dir = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
    if (path.isAbsolute(raw) || dir === '' || dir.split('/').includes('..')) {
      throw new Error(`sparse checkout path "${raw}" must be a relative directory inside the repository`)
    }
    if (/[*?[]/.test(dir)) throw new Error(`sparse checkout path "${raw}" cannot contain glob characters`)
    return dir
  })
}

export interface CheckoutOptions {
  /** The tree the working directory holds now (clean); only differences are written. Omit for an empty directory. */
  current?: FlatTree
  sparse?: Sparse
}

/** Makes the working directory (and index) of `dir` hold `target`, writing blobs from `store`. */
export function checkoutTree(
  dir: string,
  store: ObjectStore,
  target: FlatTree,
  opts: CheckoutOptions = {},
): void {
  const { current, sparse } = opts
  if (current) {
    for (const [file] of current) {
      if (!target.has(file) && inSparseCone(file, sparse)) removeFile(dir, file)
    }
  }
  const madeDirs = new Set<string>()
  const index: IndexEntry[] = []
  for (const [file, entry] of target) {
    if (!inSparseCone(file, sparse)) {
      index.push({ path: file, oid: entry.oid, mode: entry.mode })
      continue
    }
    const full = path.join(dir, file)
    const before = current?.get(file)
    const unchanged = before !== undefined && before.oid === entry.oid && before.mode === entry.mode
    if (!unchanged) {
      const parent = path.dirname(full)
      if (!madeDirs.has(parent)) {
        fs.mkdirSync(parent, { recursive: true })
        madeDirs.add(parent)
      }
      // A fresh checkout (no `current`) writes into an empty directory: nothing to clear first.
      if (current && (before !== undefined || fs.existsSync(full)))
        fs.rmSync(full, { recursive: true, force: true })
      writeEntry(full, entry.mode, entry.mode === '160000' ? undefined : store.readAs(entry.oid, 'blob'))
    }
    index.push({ path: file, oid: entry.oid, mode: entry.mode, stat: fs.lstatSync(full, { bigint: true }) })
  }
  writeIndex(path.join(dir, '.git'), index)
}

function writeEntry(full: string, mode: string, blob: Buffer | undefined): void {
  if (mode === '160000') {
    fs.mkdirSync(full, { recursive: true })
  } else if (mode === '120000') {
    fs.symlinkSync(blob?.toString('utf8') ?? '', full)
  } else {
    fs.writeFileSync(full, blob ?? Buffer.alloc(0), { mode: mode === '100755' ? 0o755 : 0o644 })
  }
}

function removeFile(dir: string, file: string): void {
  fs.rmSync(path.join(dir, file), { recursive: true, force: true })
  let parent = path.dirname(file)
  while (parent !== '.' && parent !== '') {
    try {
      fs.rmdirSync(path.join(dir, parent))
    } catch {
      return
    }
    parent = path.dirname(parent)
  }
}

export interface Snapshot {
  /** What `git add -A` would stage: the working directory as a tree. */
  tree: FlatTree
  /** True when `tree` differs from the head tree. */
  changed: boolean
}

const ZERO_STAT: IndexStat = {
  ctimeS: 0,
  ctimeN: 0,
  mtimeS: 0,
  mtimeN: 0,
  dev: 0,
  ino: 0,
  uid: 0,
  gid: 0,
  size: 0,
}

export interface SnapshotOptions {
  sparse?: Sparse
  /** Only this directory (relative to the root, no trailing `/`) is staged, as `git add .` run inside it; '' = all. */
  scope?: string
}

/**
 * Reads the working directory as `git add -A` would (untracked files honour .gitignore; nested repositories are
 * skipped), writes new blobs to `store`, and rewrites the index to match. Files outside a sparse cone or outside
 * `scope` keep their `head` entry (and their index entry).
 */
export async function snapshotWorkTree(
  dir: string,
  store: ObjectStore,
  head: FlatTree,
  opts: SnapshotOptions = {},
): Promise<Snapshot> {
  const { sparse } = opts
  const scope = opts.scope ?? ''
  const inScope = (file: string): boolean =>
    inSparseCone(file, sparse) && (scope === '' || file.startsWith(`${scope}/`))
  const found: Array<{ file: string; stat: fs.BigIntStats }> = []
  // .gitignore files above the scope are not walked; then always ask isomorphic-git.
  let hasIgnoreFiles = scope !== '' || hasExcludes(dir)
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : path.join(dir, rel)
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const file = rel === '' ? entry.name : `${rel}/${entry.name}`
      if (entry.name === '.git') continue
      if (entry.isDirectory()) {
        if (fs.existsSync(path.join(abs, entry.name, '.git'))) continue
        walk(file)
        continue
      }
      if (entry.name === '.gitignore') hasIgnoreFiles = true
      found.push({ file, stat: fs.lstatSync(path.join(abs, entry.name), { bigint: true }) })
    }
  }
  walk(scope)

  const tree: FlatTree = new Map()
  const index: IndexEntry[] = []
  // Files whose stat matches the index keep their recorded blob without being read (as git does).
  const known = readIndex(path.join(dir, '.git'))
  for (const { file, stat } of found) {
    if (!inScope(file)) continue
    const tracked = head.get(file)
    if (!tracked && hasIgnoreFiles && (await git.isIgnored({ fs, dir, filepath: file }))) continue
    let mode: string
    if (stat.isSymbolicLink()) mode = '120000'
    else if (stat.isFile()) mode = (stat.mode & 0o100n) !== 0n ? '100755' : '100644'
    else continue
    const recorded = known?.files.get(file)
    if (
      tracked &&
      recorded &&
      recorded.oid === tracked.oid &&
      recorded.mode === mode &&
      statMatches(recorded, stat, known?.writtenNs ?? 0n)
    ) {
      tree.set(file, { oid: recorded.oid, mode })
      index.push({ path: file, oid: recorded.oid, mode, stat })
      continue
    }
    const data =
      mode === '120000'
        ? Buffer.from(fs.readlinkSync(path.join(dir, file)), 'utf8')
        : fs.readFileSync(path.join(dir, file))
    let oid = hashObject('blob', data)
    if (tracked?.oid !== oid) oid = store.write('blob', data)
    tree.set(file, { oid, mode })
    index.push({ path: file, oid, mode, stat })
  }
  for (const [file, entry] of head) {
    if (entry.mode === '160000' && inScope(file) && fs.existsSync(path.join(dir, file))) {
      tree.set(file, entry)
      index.push({
        path: file,
        oid: entry.oid,
        mode: entry.mode,
        stat: fs.lstatSync(path.join(dir, file), { bigint: true }),
      })
    } else if (!inScope(file)) {
      tree.set(file, entry)
      const recorded = known?.files.get(file)
      const keep =
        recorded && recorded.oid === entry.oid && !recorded.skipWorktree && inSparseCone(file, sparse)
      // No usable entry: a zero stat makes git re-hash the file; skip-worktree only outside the sparse cone.
      const stat = keep ? recorded : inSparseCone(file, sparse) ? ZERO_STAT : undefined
      index.push({ path: file, oid: entry.oid, mode: entry.mode, stat })
    }
  }
  writeIndex(path.join(dir, '.git'), index)
  return { tree, changed: !sameTree(tree, head) }
}

/** True when two flat trees list the same files with the same content and mode. */
export function sameTree(a: FlatTree, b: FlatTree): boolean {
  if (a.size !== b.size) return false
  for (const [file, entry] of a) {
    const other = b.get(file)
    if (!other || other.oid !== entry.oid || other.mode !== entry.mode) return false
  }
  return true
}

function hasExcludes(dir: string): boolean {
  try {
    return fs
      .readFileSync(path.join(dir, '.git', 'info', 'exclude'), 'utf8')
      .split('\n')
      .some((l) => /^[^#\s]/.test(l))
  } catch {
    return false
  }
}

/** Removes everything in `dir` except `.git` (the `git-clear` step). */
export function clearWorkTree(dir: string): number {
  let removed = 0
  for (const name of fs.readdirSync(dir)) {
    if (name === '.git') continue
    fs.rmSync(path.join(dir, name), { recursive: true, force: true })
    removed++
  }
  return removed
}
