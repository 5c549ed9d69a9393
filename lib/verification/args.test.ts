import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { AnalysisTemplateManifestSchema, type AnalysisTemplateManifest } from '../model/resources.js'
import { resolveArguments, substituteArgs, substituteArgsDeep } from './args.js'

function template(name: string, args: unknown[]): AnalysisTemplateManifest {
  return AnalysisTemplateManifestSchema.parse({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name, namespace: 'demo' },
    spec: { args, metrics: [{ name: 'm', provider: { web: { url: 'http://x' } } }] },
  })
}

describe('resolveArguments', () => {
  it('overlays the Stage args on the template defaults and ignores undeclared ones', () => {
    const resolved = resolveArguments(
      [
        template('t', [
          { name: 'service' },
          { name: 'url', value: 'http://default' },
          { name: 'keep', value: 'k' },
        ]),
      ],
      [
        { name: 'service', value: 'checkout' },
        { name: 'url', value: 'http://override' },
        { name: 'keep', value: '' },
        { name: 'undeclared', value: 'x' },
      ],
    )
    expect([...resolved]).toEqual([
      ['service', 'checkout'],
      ['url', 'http://override'],
      ['keep', 'k'],
    ])
  })

  it('names an arg that ends without a value', () => {
    expect(() => resolveArguments([template('t', [{ name: 'service-name' }])], [])).toThrow(
      /argument "service-name" has no value/,
    )
  })

  it('refuses valueFrom, naming the template and the arg', () => {
    const t = template('t', [{ name: 'api-token', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }])
    expect(() => resolveArguments([t], [{ name: 'api-token', value: 'x' }])).toThrow(ValidationError)
    expect(() => resolveArguments([t], [])).toThrow(
      /AnalysisTemplate "t" spec\.args\[0\] \("api-token"\): valueFrom is not supported/,
    )
  })

  it('flattens several templates like Kargo: a value fills a declaration, two different values conflict', () => {
    const resolved = resolveArguments([
      template('a', [{ name: 'x' }]),
      template('b', [{ name: 'x', value: '1' }]),
    ])
    expect(resolved.get('x')).toBe('1')
    expect(() =>
      resolveArguments([
        template('a', [{ name: 'x', value: '1' }]),
        template('b', [{ name: 'x', value: '2' }]),
      ]),
    ).toThrow(/conflicting values for argument "x": "1" and "2"/)
  })
})

describe('substituteArgs', () => {
  const args = new Map([
    ['service-name', 'checkout'],
    ['quote', 'say "hi"\n'],
    ['braces', '{{args.service-name}}'],
  ])

  it.each([
    ['http://x/?svc={{args.service-name}}', 'http://x/?svc=checkout'],
    ['{{ args.service-name }}-{{args.service-name}}', 'checkout-checkout'],
    ['{{args.quote}}', 'say "hi"\n'],
    ['{{args.braces}}', '{{args.service-name}}'],
    ['no placeholders', 'no placeholders'],
    ['single { brace }', 'single { brace }'],
  ])('%j → %j', (text, expected) => {
    expect(substituteArgs(text, args)).toBe(expected)
  })

  it.each([
    ['{{args.unknown}}', /failed to resolve \{\{args\.unknown\}\}/],
    ['{{ vars.x }}', /only \{\{args\.<name>\}\} placeholders are supported/],
    ['${{ ctx.stage }}', /failed to resolve/],
    ['open {{args.service-name', /without a closing/],
  ])('refuses %j', (text, message) => {
    expect(() => substituteArgs(text, args, 'provider.web.url')).toThrow(message)
    expect(() => substituteArgs(text, args, 'provider.web.url')).toThrow(/^provider\.web\.url: /)
  })

  it('walks every string and key of a metric and leaves numbers and booleans alone', () => {
    const out = substituteArgsDeep(
      {
        count: '{{args.n}}',
        failureLimit: 2,
        provider: { web: { jsonBody: { '{{args.k}}': ['{{args.v}}', true, 1] } } },
      },
      new Map([
        ['n', '3'],
        ['k', 'key'],
        ['v', 'value'],
      ]),
      'metrics[0]',
    )
    expect(out).toEqual({
      count: '3',
      failureLimit: 2,
      provider: { web: { jsonBody: { key: ['value', true, 1] } } },
    })
  })
})
