/** Kubernetes label selector strings (`a=b,c!=d,e in (f,g),h notin (i),j,!k`), as Argo CD's List takes them. */

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' }

function splitTopLevel(input: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of input) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  parts.push(current)
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

/** Parses a selector; throws on syntax it does not understand. */
export function parseLabelSelector(input: string): Requirement[] {
  return splitTopLevel(input).map((part) => {
    const set = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part)
    if (set) {
      const values = set[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
      return { key: set[1]!, op: set[2] === 'in' ? 'in' : 'notin', values }
    }
    const cmp = /^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$/.exec(part)
    if (cmp) return { key: cmp[1]!, op: cmp[2] === '!=' ? 'neq' : 'eq', value: cmp[3]! }
    const not = /^!\s*([\w./-]+)$/.exec(part)
    if (not) return { key: not[1]!, op: 'notexists' }
    if (/^[\w./-]+$/.test(part)) return { key: part, op: 'exists' }
    throw new Error(`unable to parse requirement: "${part}"`)
  })
}

/** True when the labels satisfy every requirement. */
export function matchesLabelSelector(
  requirements: Requirement[],
  labels: Record<string, string> = {},
): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key)
    const value = labels[r.key]
    switch (r.op) {
      case 'eq':
        return has && value === r.value
      case 'neq':
        return !has || value !== r.value
      case 'in':
        return has && r.values.includes(value!)
      case 'notin':
        return !has || !r.values.includes(value!)
      case 'exists':
        return has
      case 'notexists':
        return !has
    }
  })
}
