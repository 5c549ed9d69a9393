import { ValidationError } from '../errors.js'

/** Kargo's `argoCDAppSelector` (a Kubernetes LabelSelector). */
export interface AppSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{
    key: string
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
    values?: string[]
  }>
}

/**
 * Renders a label selector in the Kubernetes string syntax Argo CD's `selector` query takes:
 * `a=b,c in (d,e),f notin (g),h,!i`. Requirements are ANDed.
 */
export function labelSelectorString(selector: AppSelector): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    parts.push(`${key}=${value}`)
  }
  for (const [i, expr] of (selector.matchExpressions ?? []).entries()) {
    const values = expr.values ?? []
    const path = `selector.matchExpressions[${i}]`
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          throw new ValidationError(`${path}: operator ${expr.operator} needs values`, { path })
        }
        parts.push(`${expr.key} ${expr.operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`)
        break
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          throw new ValidationError(`${path}: operator ${expr.operator} takes no values`, { path })
        }
        parts.push(expr.operator === 'Exists' ? expr.key : `!${expr.key}`)
        break
    }
  }
  if (parts.length === 0)
    throw new ValidationError('selector: at least one requirement is needed', { path: 'selector' })
  return parts.join(',')
}
