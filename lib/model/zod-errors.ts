import type { z } from 'zod'

/** Renders a path the way users write it: `spec.subscriptions[0].image.repoURL`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else out += out === '' ? String(segment) : `.${String(segment)}`
  }
  return out
}

/** One line per issue, each naming the field path and the reason. */
export function describeIssues(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  prefix: ReadonlyArray<PropertyKey> = [],
): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...path, key])}: unknown field "${key}"`)
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest, instead of "invalid input".
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0]!
      return describeIssues(best, path)
    }
    const where = formatPath(path) || '(document)'
    return [`${where}: ${issue.message}`]
  })
}
