import type { z } from 'zod'
import { ValidationError } from '../errors.js'
import { parseConstraint } from '../semver/index.js'

/** Parses a `kind` subscription with its schema; the first issue becomes a ValidationError naming its field. */
export function parseSubscriptionWith<S extends z.ZodType>(
  schema: S,
  kind: string,
  input: z.input<S>,
): z.output<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.join('.') ?? ''
    throw new ValidationError(
      `invalid ${kind} subscription${path ? ` field ${path}` : ''}: ${issue?.message ?? 'invalid'}`,
      {
        path,
        cause: parsed.error,
      },
    )
  }
  return parsed.data
}

/** Kargo fails discovery when the deprecated `allowTags` or `ignoreTags` is set; so does this. */
export function rejectDeprecatedTagFilters(sub: {
  allowTags?: string | undefined
  ignoreTags?: string[] | undefined
}): void {
  if ((sub.allowTags ?? '') !== '') {
    throw new ValidationError('allowTags is deprecated and unsupported; use allowTagsRegexes instead', {
      path: 'allowTags',
    })
  }
  if ((sub.ignoreTags ?? []).length > 0) {
    throw new ValidationError('ignoreTags is deprecated and unsupported; use ignoreTagsRegexes instead', {
      path: 'ignoreTags',
    })
  }
}

/** Throws a ValidationError at `path` when `constraint` is not a valid semver constraint. */
export function checkSemverConstraint(constraint: string, path: string): void {
  try {
    parseConstraint(constraint)
  } catch (error) {
    throw new ValidationError(`invalid semver constraint ${JSON.stringify(constraint)}`, {
      path,
      cause: error,
    })
  }
}
