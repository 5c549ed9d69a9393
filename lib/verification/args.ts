/**
 * AnalysisTemplate arguments, as Kargo and Argo Rollouts resolve them:
 *
 * 1. The templates' `spec.args` are flattened (Kargo's `flattenArgs`): the same name in two templates must not carry
 *    two different values; a value fills a valueless declaration.
 * 2. The Stage's `spec.verification.args` are overlaid (Kargo's `mergeArgs`): a non-empty value replaces the
 *    template's; an arg the templates do not declare is ignored; an empty value counts as "not given" (Kargo turns
 *    `""` into "no value"). Kargo evaluates `${{ }}` in those values first — the caller does that.
 * 3. Every declared arg must end with a value. `valueFrom` (a Secret or a field of a Rollout) needs a cluster and
 *    is refused.
 * 4. `{{args.<name>}}` placeholders (spaces inside the braces are allowed) are replaced in every string of a
 *    metric — url, headers, body, jsonBody, query, address, jsonPath, conditions, count, limits, interval … — in a
 *    single pass (a value containing `{{` is not expanded again). Like Argo's fasttemplate, any other `{{…}}` is an
 *    error ("failed to resolve"), and so is a `{{` without `}}`.
 */
import { ValidationError } from '../errors.js'
import type { AnalysisTemplateManifest } from '../model/resources.js'

/** One entry of a Stage's `spec.verification.args`, after its `${{ }}` expressions were evaluated. */
export interface VerificationArgument {
  name: string
  value?: string
}

/** Resolved args: name → value. A Map, so that a name such as `__proto__` is just a name. */
export type ResolvedArguments = ReadonlyMap<string, string>

function templateName(template: AnalysisTemplateManifest): string {
  return template.metadata.name ?? '(unnamed)'
}

/**
 * Flattens the templates' args, overlays the Stage's, and checks every declared arg has a value. Throws a
 * `ValidationError` naming the arg for `valueFrom`, for conflicting template values and for a missing value.
 */
export function resolveArguments(
  templates: readonly AnalysisTemplateManifest[],
  stageArgs: readonly VerificationArgument[] = [],
): ResolvedArguments {
  const declared = new Map<string, string | undefined>()
  for (const template of templates) {
    for (const [index, arg] of (template.spec.args ?? []).entries()) {
      const where = `AnalysisTemplate ${JSON.stringify(templateName(template))} spec.args[${index}] (${JSON.stringify(arg.name)})`
      if (arg.valueFrom !== undefined) {
        throw new ValidationError(
          `${where}: valueFrom is not supported by Tugboat (it reads a Secret or a Rollout from a cluster); ` +
            `declare the arg without valueFrom and pass its value in the Stage's spec.verification.args ` +
            '(which may use ${{ }} expressions)',
          {
            path: `spec.args[${index}].valueFrom`,
            data: { template: templateName(template), arg: arg.name },
          },
        )
      }
      const previous = declared.get(arg.name)
      if (previous !== undefined && arg.value !== undefined && previous !== arg.value) {
        throw new ValidationError(
          `${where}: conflicting values for argument ${JSON.stringify(arg.name)}: ${JSON.stringify(previous)} and ${JSON.stringify(arg.value)}`,
          { data: { arg: arg.name } },
        )
      }
      if (previous === undefined) declared.set(arg.name, arg.value)
    }
  }
  for (const arg of stageArgs) {
    if (declared.has(arg.name) && arg.value !== undefined && arg.value !== '')
      declared.set(arg.name, arg.value)
  }
  const resolved = new Map<string, string>()
  for (const [name, value] of declared) {
    if (value === undefined) {
      throw new ValidationError(
        `argument ${JSON.stringify(name)} has no value: give it a value in the AnalysisTemplate or in the Stage's spec.verification.args`,
        { path: 'spec.verification.args', data: { arg: name } },
      )
    }
    resolved.set(name, value)
  }
  return resolved
}

const OPEN = '{{'
const CLOSE = '}}'

/**
 * Replaces `{{args.<name>}}` (Argo's fasttemplate: the tag between the braces is trimmed) in one string. Throws a
 * `ValidationError` naming `path` for an unknown tag or a `{{` without `}}`.
 */
export function substituteArgs(text: string, args: ResolvedArguments, path = 'value'): string {
  if (!text.includes(OPEN)) return text
  let out = ''
  let rest = text
  for (let at = rest.indexOf(OPEN); at >= 0; at = rest.indexOf(OPEN)) {
    const close = rest.indexOf(CLOSE, at + OPEN.length)
    if (close < 0) {
      throw new ValidationError(`${path}: "{{" without a closing "}}"`, { path })
    }
    const tag = rest.slice(at + OPEN.length, close)
    const key = tag.trim()
    const value = key.startsWith('args.') ? args.get(key.slice('args.'.length)) : undefined
    if (value === undefined) {
      const hint = key.startsWith('args.')
        ? ' (the AnalysisTemplate does not declare that arg)'
        : ' (only {{args.<name>}} placeholders are supported)'
      throw new ValidationError(`${path}: failed to resolve {{${tag}}}${hint}`, {
        path,
        data: { placeholder: key },
      })
    }
    out += rest.slice(0, at) + value
    rest = rest.slice(close + CLOSE.length)
  }
  return out + rest
}

/**
 * Returns a copy of `value` in which every string (and every object key, as Argo substitutes in the metric's JSON)
 * had its placeholders replaced. `path` names the place in error messages (`metrics[0]`).
 */
export function substituteArgsDeep(value: unknown, args: ResolvedArguments, path: string): unknown {
  const walk = (v: unknown, at: string, depth: number): unknown => {
    if (depth > 100) throw new ValidationError(`${at}: nested too deeply`, { path: at })
    if (typeof v === 'string') return substituteArgs(v, args, at)
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`, depth + 1))
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(v)) {
        const desc = Object.getOwnPropertyDescriptor(v, key)
        const newKey = substituteArgs(key, args, `${at}.${key}`)
        Object.defineProperty(out, newKey, {
          value: walk(desc && 'value' in desc ? desc.value : undefined, `${at}.${newKey}`, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return out
    }
    return v
  }
  return walk(value, path, 0)
}
