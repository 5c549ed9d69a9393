import { describe, expect, it } from 'vitest'
import { evaluateTemplate } from '../expressions/index.js'
import { stepEnvironment, type ExpressionScope } from './expression-env.js'

const scope: ExpressionScope = {
  project: 'p',
  stage: 'test',
  promotion: 'test.1',
  targetFreight: { name: 'f1', origin: { kind: 'Warehouse', name: 'app' } },
  outputs: {},
  stepStatuses: {},
  freight: {
    items: {
      'Warehouse/app': {
        name: 'f1',
        origin: { kind: 'Warehouse', name: 'app' },
        images: [{ repoURL: 'ghcr.io/acme/app', tag: '1.2.3' }],
        commits: [{ repoURL: 'https://github.com/acme/app.git', id: 'abc123', branch: 'main' }],
        charts: [{ repoURL: 'oci://ghcr.io/acme/charts/app', version: '0.4.0' }],
      },
    },
  },
}
const evaluate = (template: string) => evaluateTemplate(template, stepEnvironment(scope, {}, 'step-0'))

describe('Freight functions in expressions', () => {
  it.each([
    // Kargo's documented forms: its functions return Go structs, read by Go field name.
    ['${{ imageFrom("ghcr.io/acme/app").Tag }}', '1.2.3'],
    ['${{ imageFrom("ghcr.io/acme/app").RepoURL }}', 'ghcr.io/acme/app'],
    ['${{ imageFrom("ghcr.io/acme/app").Digest }}', ''],
    ['${{ commitFrom("https://github.com/acme/app").ID }}', 'abc123'],
    ['${{ chartFrom("oci://ghcr.io/acme/charts/app").Version }}', '0.4.0'],
    // The JSON field names keep working.
    ['${{ imageFrom("ghcr.io/acme/app").tag }}', '1.2.3'],
    ['${{ commitFrom("https://github.com/acme/app").id }}', 'abc123'],
    ['${{ imageFrom("ghcr.io/acme/other") }}', null],
  ])('%s → %j', (template, expected) => {
    expect(evaluate(template)).toEqual(expected)
  })

  it('serialises an artifact with its JSON field names only', () => {
    expect(evaluate('${{ imageFrom("ghcr.io/acme/app") }}')).toEqual({
      repoURL: 'ghcr.io/acme/app',
      tag: '1.2.3',
    })
  })
})
