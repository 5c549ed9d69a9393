import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import {
  parseLooseVersion,
  selectSemver,
  sortByVersionDesc,
  sortLexicalDesc,
  sortNewestBuildDesc,
} from './index.js'

describe('selectSemver', () => {
  it('returns original texts, newest first, ties by original text descending', () => {
    const tags = ['1.0.0', 'v1.0.0', '1.0.0+a', '1.0.0+b', '0.9.0', '1.0.0-rc.1', 'latest']
    expect(selectSemver(tags, { strict: true, constraint: '>=0.1.0-0' })).toEqual([
      'v1.0.0',
      '1.0.0+b',
      '1.0.0+a',
      '1.0.0',
      '1.0.0-rc.1',
      '0.9.0',
    ])
  })

  it('skips prereleases without a prerelease constraint, and non-versions', () => {
    const tags = ['1.0.0', 'v1.1.0', '1.2.0-rc.1', 'latest', 'sha-abc123', '2.0']
    expect(selectSemver(tags, { strict: true })).toEqual(['1.2.0-rc.1', 'v1.1.0', '1.0.0'])
    expect(selectSemver(tags, { strict: true, constraint: '*' })).toEqual(['v1.1.0', '1.0.0'])
    expect(selectSemver(tags, { strict: false, constraint: '*' })).toEqual(['2.0', 'v1.1.0', '1.0.0'])
  })

  it('applies strict vs loose parsing', () => {
    const tags = ['1', '1.2', 'v1', '01.2.3', '2023.10.01', '20231001', '1.2-beta', '1-rc.1', '1.2.3']
    expect(selectSemver(tags, { strict: true })).toEqual(['1.2.3'])
    expect(selectSemver(tags, { strict: false })).toEqual([
      '20231001',
      '2023.10.01',
      '1.2.3',
      '01.2.3',
      '1.2',
      '1.2-beta',
      'v1',
      '1',
      '1-rc.1',
    ])
  })

  it('orders tied loose versions by original text (`1.0.0` > `1.0` > `1`)', () => {
    expect(selectSemver(['1', '1.0', '1.0.0', 'v1'], { strict: false })).toEqual(['v1', '1.0.0', '1.0', '1'])
  })

  it('applies the constraint and the limit after sorting', () => {
    const tags = ['1.0.0', '1.1.0', '1.2.0', '2.0.0', '1.3.0']
    expect(selectSemver(tags, { strict: true, constraint: '^1.0.0', limit: 2 })).toEqual(['1.3.0', '1.2.0'])
    expect(selectSemver(tags, { strict: true, limit: 0 })).toHaveLength(5)
  })

  it('throws a ValidationError for a bad constraint', () => {
    expect(() => selectSemver(['1.0.0'], { strict: true, constraint: 'bogus' })).toThrow(ValidationError)
  })

  it('treats an empty constraint as none', () => {
    expect(selectSemver(['1.0.0-rc.1', '0.1.0'], { strict: true, constraint: '' })).toEqual([
      '1.0.0-rc.1',
      '0.1.0',
    ])
  })

  it('sorts 10,000 tags correctly', () => {
    // every 13th tag is a prerelease, every 7th (other) one has a `v`
    const tagFor = (major: number, minor: number, patch: number): string => {
      const n = major * 1000 + minor * 10 + patch
      const base = `${major}.${minor}.${patch}`
      return n % 13 === 0 ? `${base}-rc.${n % 5}` : n % 7 === 0 ? `v${base}` : base
    }
    const ascending: string[] = []
    for (let major = 0; major < 10; major++) {
      for (let minor = 0; minor < 100; minor++) {
        for (let patch = 0; patch < 10; patch++) ascending.push(tagFor(major, minor, patch))
      }
    }
    // a deterministic shuffle
    const tags = [...ascending]
    for (let i = 0; i < tags.length; i++) {
      const j = (i * 7919 + 17) % tags.length
      const a = tags[i] ?? ''
      tags[i] = tags[j] ?? ''
      tags[j] = a
    }
    expect(tags).toHaveLength(10_000)
    expect(tags).not.toEqual(ascending)

    expect(selectSemver(tags, { strict: true, constraint: '>=0.0.0-0' })).toEqual([...ascending].reverse())
    expect(selectSemver(tags, { strict: false })).toEqual([...ascending].reverse())

    const releases = ascending.filter((t) => !t.includes('-'))
    expect(selectSemver(tags, { strict: true, constraint: '*' })).toEqual([...releases].reverse())
    expect(selectSemver(tags, { strict: true, constraint: '~5.4', limit: 3 })).toEqual(
      releases
        .filter((t) => /^v?5\.4\./.test(t))
        .reverse()
        .slice(0, 3),
    )
  })
})

describe('sortByVersionDesc', () => {
  it('sorts arbitrary items by their version', () => {
    const items = ['1.0.0', '3.0.0', '2.0.0'].map((tag) => ({ tag, version: parseLooseVersion(tag) }))
    const sorted = sortByVersionDesc(
      items.filter((i): i is { tag: string; version: NonNullable<typeof i.version> } => i.version !== null),
      (i) => i.version,
    )
    expect(sorted.map((i) => i.tag)).toEqual(['3.0.0', '2.0.0', '1.0.0'])
  })
})

describe('sortLexicalDesc', () => {
  it('sorts byte-wise descending, not by locale', () => {
    expect(sortLexicalDesc(['a', 'B', 'b', 'A', '10', '9', '_', 'é'])).toEqual([
      'é',
      'b',
      'a',
      '_',
      'B',
      'A',
      '9',
      '10',
    ])
  })
  it('orders astral characters after U+E000–U+FFFF, as UTF-8 bytes do', () => {
    expect(sortLexicalDesc(['\uffff', '\u{1f600}', 'z'])).toEqual(['\u{1f600}', '\uffff', 'z'])
  })
  it('does not mutate its input', () => {
    const tags = ['a', 'b']
    sortLexicalDesc(tags)
    expect(tags).toEqual(['a', 'b'])
  })
})

describe('sortNewestBuildDesc', () => {
  it('orders by created time descending, ties by tag descending', () => {
    const images = [
      { tag: 'a', createdAt: Date.parse('2024-01-01T00:00:00Z') },
      { tag: 'c', createdAt: Date.parse('2024-03-01T00:00:00Z') },
      { tag: 'b', createdAt: Date.parse('2024-03-01T00:00:00Z') },
      { tag: 'z', createdAt: Date.parse('2023-01-01T00:00:00Z') },
    ]
    const sorted = sortNewestBuildDesc(images, { createdAt: (i) => i.createdAt, tag: (i) => i.tag })
    expect(sorted.map((i) => i.tag)).toEqual(['c', 'b', 'a', 'z'])
  })
  it('keeps nanosecond precision with bigint times', () => {
    const images = [
      { tag: 'z', ns: 1_700_000_000_000_000_001n },
      { tag: 'a', ns: 1_700_000_000_000_000_002n },
    ]
    expect(
      sortNewestBuildDesc(images, { createdAt: (i) => i.ns, tag: (i) => i.tag }).map((i) => i.tag),
    ).toEqual(['a', 'z'])
  })
})
