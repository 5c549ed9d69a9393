import { ValidationError } from '../errors.js'

/** A Kubernetes equality-based label selector: `a=b,c!=d,e,!f`. */
export function parseLabelSelector(text: string): (labels: Record<string, string> | undefined) => boolean {
  const clauses = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((clause) => {
      const match = /^(!?)([A-Za-z0-9._/-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(clause)
      if (!match)
        throw new ValidationError(
          `labelSelector: cannot parse "${clause}" (use key=value, key!=value, key or !key)`,
        )
      const [, not, key, op, value] = match
      return (labels: Record<string, string>) => {
        const has = Object.hasOwn(labels, key!)
        if (!op) return not ? !has : has
        if (op === '!=') return !has || labels[key!] !== value
        return has && labels[key!] === value
      }
    })
  return (labels) => clauses.every((test) => test(labels ?? {}))
}
