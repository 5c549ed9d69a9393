import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareVersions,
  formatVersion,
  parseLooseVersion,
  parseStrictVersion,
  parseVersion,
  type Version,
} from './index.js'

function parts(v: Version | null): string | null {
  return v === null ? null : formatVersion(v)
}

describe('parseVersion strict (strictSemvers: true)', () => {
  it.each([
    ['1.2.3', '1.2.3'],
    ['v1.2.3', '1.2.3'],
    ['1.2.3-rc.1+meta', '1.2.3-rc.1+meta'],
    ['v1.2.3-rc.1+meta', '1.2.3-rc.1+meta'],
    ['0.0.0', '0.0.0'],
    ['1.2.3-0abc123', '1.2.3-0abc123'],
    ['1.2.3-alpha.-1', '1.2.3-alpha.-1'],
    ['1.2.3+test.01', '1.2.3+test.01'],
    ['1.2.3-rc1-with-hyphen', '1.2.3-rc1-with-hyphen'],
    ['18446744073709551615.0.0', '18446744073709551615.0.0'],
  ])('accepts %j as %s', (tag, expected) => {
    expect(parts(parseVersion(tag, { strict: true }))).toBe(expected)
  })

  it.each([
    '1.2',
    '1',
    'v1',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '=1.2.3',
    'V1.2.3',
    ' 1.2.3',
    '1.2.3 ',
    '1.2.3.4',
    'vv1.2.3',
    '1.2-beta',
    '1.2.3-beta.01',
    '1.2.3-alpha..1',
    '1.2.3-alpha_beta',
    '1.2.3+meta+meta',
    '1.1.2+.123',
    '2023.10.01',
    '20231001',
    'latest',
    '',
    '18446744073709551616.0.0',
  ])('skips %j', (tag) => {
    expect(parseVersion(tag, { strict: true })).toBeNull()
  })
})

describe('parseVersion loose (strictSemvers: false)', () => {
  it.each([
    ['1', '1.0.0'],
    ['v1', '1.0.0'],
    ['1.2', '1.2.0'],
    ['v1.2', '1.2.0'],
    ['01.2.3', '1.2.3'],
    ['1.01.1', '1.1.1'],
    ['2023.10.01', '2023.10.1'],
    ['20231001', '20231001.0.0'],
    ['1.2-beta', '1.2.0-beta'],
    ['1-rc.1', '1.0.0-rc.1'],
    ['1.2-5', '1.2.0-5'],
    ['20221209-update-renovatejson-v4', '20221209.0.0-update-renovatejson-v4'],
    ['v1.2.0-x.Y.0+metadata', '1.2.0-x.Y.0+metadata'],
    ['1.2.3', '1.2.3'],
    ['1--x', '1.0.0--x'],
  ])('parses %j as %s', (tag, expected) => {
    expect(parts(parseVersion(tag, { strict: false }))).toBe(expected)
  })

  it.each([
    'V1.2.3',
    '=1.2.3',
    ' 1.2.3',
    '\n1.2',
    '1.2.3.4',
    '12.3.4.1234',
    '1.2.beta',
    'foo',
    '1.2.3-beta.01',
    '1.0.0-alpha..1',
    '1.0.0-alpha_beta',
    '9.8.7+meta+meta',
    '1.2.31----RC-SNAPSHOT.12.09.1--.12+788',
    '',
    'v',
    '99999999999999999999',
  ])('rejects %j', (tag) => {
    expect(parseVersion(tag, { strict: false })).toBeNull()
  })

  it('keeps the original text', () => {
    expect(parseVersion('v1.2', { strict: false })?.original).toBe('v1.2')
    expect(parseVersion('v1.2.3', { strict: true })?.original).toBe('v1.2.3')
    expect(parseVersion('1.0.0+b', { strict: true })?.original).toBe('1.0.0+b')
  })

  it('keeps big numbers exact', () => {
    const v = parseVersion('18446744073709551615.9007199254740993.20231001', { strict: true })
    expect(v?.major).toBe(18446744073709551615n)
    expect(v?.minor).toBe(9007199254740993n)
    expect(v?.patch).toBe(20231001n)
  })
})

describe('parseStrictVersion (Masterminds StrictNewVersion, used for Helm OCI tags)', () => {
  it('rejects a leading v', () => {
    expect(parseStrictVersion('v1.2.3')).toBeNull()
    expect(parseStrictVersion('1.2.3')).not.toBeNull()
  })
  it('parses an OCI chart tag once `_` became `+`', () => {
    expect(parts(parseStrictVersion('1.2.3_build.5'.replaceAll('_', '+')))).toBe('1.2.3+build.5')
  })
})

describe('parseLooseVersion', () => {
  it('matches parseVersion with strict: false', () => {
    for (const t of ['1', '1.2-beta', 'v3.4.5', 'nope']) {
      expect(parseLooseVersion(t)).toEqual(parseVersion(t, { strict: false }))
    }
  })
})

describe('compareVersions', () => {
  const v = (s: string): Version => {
    const parsed = parseLooseVersion(s)
    if (parsed === null) throw new Error(`bad test version ${s}`)
    return parsed
  }

  // SemVer 2.0 §11 example chain, strictly increasing.
  const chain = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '2.0.0',
    '10.0.0',
    '20231001.0.0',
  ]
  it('orders the SemVer 2.0 precedence chain', () => {
    for (let i = 0; i + 1 < chain.length; i++) {
      expect(compareVersions(v(chain[i] ?? ''), v(chain[i + 1] ?? ''))).toBe(-1)
      expect(compareVersions(v(chain[i + 1] ?? ''), v(chain[i] ?? ''))).toBe(1)
    }
  })

  it.each([
    ['1.0.0+a', '1.0.0+b', 0],
    ['v1.0.0', '1.0.0', 0],
    ['1.0', '1.0.0', 0],
    ['1.0.0-rc.1+x', '1.0.0-rc.1', 0],
    ['1.0.0-1', '1.0.0-a', -1],
    ['1.0.0-2', '1.0.0-10', -1],
    ['1.0.0-a', '1.0.0-B', 1],
    ['1.0.0-alpha', '1.0.0-alpha.0', -1],
    ['9007199254740993.0.0', '9007199254740992.0.0', 1],
  ])('compare(%s, %s) = %d', (a, b, expected) => {
    expect(compareVersions(v(a), v(b))).toBe(expected)
  })
})

describe('parsers agree with transcriptions of the Go code (property)', () => {
  // Masterminds coerceNewVersion: looseSemVerRegex, ParseUint, validatePrerelease.
  const LOOSE =
    /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/
  const u64 = (s: string): bigint | null => (BigInt(s) > 18446744073709551615n ? null : BigInt(s))
  const preOk = (p: string): boolean =>
    p.split('.').every((x) => x !== '' && (!/^[0-9]+$/.test(x) || x.length === 1 || !x.startsWith('0')))
  function looseOracle(text: string): string | null {
    const m = LOOSE.exec(text)
    if (!m) return null
    const nums = [m[1] ?? '', (m[2] ?? '.0').slice(1), (m[3] ?? '.0').slice(1)].map(u64)
    if (nums.some((x) => x === null)) return null
    if (m[5] && !preOk(m[5])) return null
    return `${nums.join('.')}${m[5] ? `-${m[5]}` : ''}${m[8] ? `+${m[8]}` : ''}`
  }
  // Masterminds StrictNewVersion: SplitN(".", 3), metadata, prerelease, digit checks.
  function strictOracle(text: string): string | null {
    if (text === '') return null
    const dot1 = text.indexOf('.')
    const dot2 = dot1 < 0 ? -1 : text.indexOf('.', dot1 + 1)
    if (dot2 < 0) return null
    const p = [text.slice(0, dot1), text.slice(dot1 + 1, dot2), text.slice(dot2 + 1)]
    let rest = p[2] ?? ''
    let meta = ''
    let pre = ''
    if (rest.includes('+')) {
      meta = rest.slice(rest.indexOf('+') + 1)
      rest = rest.slice(0, rest.indexOf('+'))
      if (!meta.split('.').every((x) => /^[0-9A-Za-z-]+$/.test(x))) return null
    }
    if (rest.includes('-')) {
      pre = rest.slice(rest.indexOf('-') + 1)
      rest = rest.slice(0, rest.indexOf('-'))
      if (!pre.split('.').every((x) => /^[0-9A-Za-z-]+$/.test(x)) || !preOk(pre)) return null
    }
    p[2] = rest
    if (!p.every((x) => /^[0-9]+$/.test(x) && (x.length === 1 || !x.startsWith('0')))) return null
    const nums = p.map(u64)
    if (nums.some((x) => x === null)) return null
    return `${nums.join('.')}${pre ? `-${pre}` : ''}${meta ? `+${meta}` : ''}`
  }

  const versionish = fc
    .array(
      fc.constantFrom(
        '0',
        '1',
        '2',
        '9',
        '.',
        '-',
        '+',
        'v',
        'a',
        'Z',
        '_',
        ' ',
        '00',
        '18446744073709551616',
      ),
      {
        maxLength: 12,
      },
    )
    .map((xs) => xs.join(''))

  it('loose', () => {
    fc.assert(
      fc.property(versionish, (t) => {
        expect(parts(parseLooseVersion(t))).toBe(looseOracle(t))
      }),
      { numRuns: 5000 },
    )
  })
  it('strict (StrictNewVersion)', () => {
    fc.assert(
      fc.property(versionish, (t) => {
        expect(parts(parseStrictVersion(t))).toBe(strictOracle(t))
      }),
      { numRuns: 5000 },
    )
  })
  it("strict tags (Kargo's Parse: loose AND strict after one v)", () => {
    fc.assert(
      fc.property(versionish, (t) => {
        const expected = looseOracle(t) !== null ? strictOracle(t.startsWith('v') ? t.slice(1) : t) : null
        expect(parts(parseVersion(t, { strict: true }))).toBe(expected)
      }),
      { numRuns: 5000 },
    )
  })
})
