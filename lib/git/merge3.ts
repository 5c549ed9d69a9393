/*
 * A line-based three-way merge (diff3), for replaying a commit on top of a remote branch when both sides edited the
 * same file. Like git, it succeeds when the edits touch different regions and reports a conflict otherwise.
 */

/** The merged text, or `undefined` when the two sides changed the same region differently (or a side is binary). */
export function merge3(base: string, ours: string, theirs: string): string | undefined {
  if ([base, ours, theirs].some(isBinary)) return undefined
  if (ours === theirs) return ours
  if (ours === base) return theirs
  if (theirs === base) return ours
  const b = base.split('\n')
  const o = ours.split('\n')
  const t = theirs.split('\n')
  const mo = matchLines(b, o)
  const mt = matchLines(b, t)
  const out: string[] = []
  let i = 0
  let j = 0
  let k = 0
  while (i < b.length || j < o.length || k < t.length) {
    if (i < b.length && mo[i] === j && mt[i] === k) {
      out.push(b[i] ?? '')
      i++
      j++
      k++
      continue
    }
    // Find the next line of base that both sides still keep, at or after the current positions.
    let ni = i
    while (ni < b.length && !((mo[ni] ?? -1) >= j && (mt[ni] ?? -1) >= k)) ni++
    const nj = ni < b.length ? (mo[ni] ?? o.length) : o.length
    const nk = ni < b.length ? (mt[ni] ?? t.length) : t.length
    const bc = b.slice(i, ni)
    const oc = o.slice(j, nj)
    const tc = t.slice(k, nk)
    if (same(oc, bc)) out.push(...tc)
    else if (same(tc, bc) || same(oc, tc)) out.push(...oc)
    else return undefined
    i = ni
    j = nj
    k = nk
  }
  return out.join('\n')
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((line, n) => line === b[n])
}

function isBinary(text: string): boolean {
  return text.slice(0, 8000).includes('\0')
}

/**
 * For each line of `a`, the index of the line of `b` it is matched with in a shortest edit script (Myers), or -1.
 */
export function matchLines(a: string[], b: string[]): number[] {
  const n = a.length
  const m = b.length
  const max = n + m
  const offset = max + 1
  const v = new Int32Array(2 * max + 3)
  const trace: Int32Array[] = []
  let found = false
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice())
    for (let k = -d; k <= d; k += 2) {
      let x: number
      if (k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0)))
        x = v[offset + k + 1] ?? 0
      else x = (v[offset + k - 1] ?? 0) + 1
      let y = x - k
      while (x < n && y < m && a[x] === b[y]) {
        x++
        y++
      }
      v[offset + k] = x
      if (x >= n && y >= m) {
        found = true
        break
      }
    }
  }
  trace.push(v.slice())
  const match = new Array<number>(n).fill(-1)
  let x = n
  let y = m
  for (let d = trace.length - 2; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d] ?? v
    const k = x - y
    let prevK: number
    if (k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0))) prevK = k + 1
    else prevK = k - 1
    const prevX = d === 0 ? 0 : (vd[offset + prevK] ?? 0)
    const prevY = prevX - prevK
    while (x > prevX && y > prevY) {
      x--
      y--
      match[x] = y
    }
    if (d === 0) break
    x = prevX
    y = prevY
  }
  return match
}
