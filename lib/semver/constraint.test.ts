import { describe, expect, it } from 'vitest'
import { ValidationError } from '../errors.js'
import { isValidConstraint, parseConstraint, parseLooseVersion } from './index.js'

function check(constraint: string, version: string): boolean {
  const v = parseLooseVersion(version)
  if (v === null) throw new Error(`bad test version ${version}`)
  return parseConstraint(constraint).matches(v)
}

describe('parseConstraint: syntax node-semver rejects', () => {
  it.each([
    // comma AND
    ['>=1.2.3, <2.0.0', '1.5.0', true],
    ['>=1.2.3, <2.0.0', '2.0.0', false],
    ['>=1.2.3, <2.0.0', '1.2.2', false],
    ['>=1.2.3,<1.3.0 || >=2', '1.2.9', true],
    ['>=1.2.3,<1.3.0 || >=2', '1.3.0', false],
    ['>=1.2.3,<1.3.0 || >=2', '2.0.0', true],
    ['>=1.2.3,<1.3.0 || >=2', '5.1.0', true],
    // !=
    ['!=1.2.4', '1.2.4', false],
    ['!=1.2.4', '1.2.5', true],
    ['!=1.2.4', '1.2.5-rc.1', false],
    ['>=1.1, <2, !=1.2.3', '1.2.3', false],
    ['>=1.1, <2, !=1.2.3', '1.2.4', true],
    ['!=4.x', '4.1.0', false],
    ['!=4.x', '5.1.0', true],
    ['!=4.1.x', '4.2.0', true],
    ['!=4.2.x', '4.2.3', false],
    ['!=4.1-alpha', '4.1.0-alpha', false],
    ['!=4.1-alpha', '4.1.0', true],
  ])('%j matches %s: %s', (c, v, expected) => {
    expect(check(c, v)).toBe(expected)
  })
})

describe('parseConstraint: syntax shared with node-semver', () => {
  it.each([
    // spaces AND
    ['>1.1 <2', '1.2.1', true],
    ['>1.1 <2', '1.1.1', false],
    ['>=1.1    <2    !=1.2.3', '1.2.3', false],
    ['> 1.1 < 2', '1.2.1', true],
    // ||
    ['>=1.1 <2 !=1.2.3 || > 3', '4.1.2', true],
    ['>=1.1 <2 !=1.2.3 || > 3', '3.1.2', false],
    ['>=1.1 <2 !=1.2.3 || >= 3', '3.0.0', true],
    ['1.0.0||2.0.0', '2.0.0', true],
    // hyphen ranges
    ['1.1 - 2', '1.1.1', true],
    ['1.1 - 2', '2.0.0', true],
    ['1.1 - 2', '2.5.0', true], // `<= 2` means <= 2.x (Masterminds, like node-semver)
    ['1.1 - 2', '3.0.0', false],
    ['1.5.0 - 4.5', '3.7.0', true],
    ['1.0.0 - 2.0.0, <=2.0.0', '1.5.0', true],
    ['1.0.0 - 2.0.0 <=2.0.0', '1.5.0', true],
    ['1.1-3', '4.3.2', false], // not a range: `1.1-3` is a prerelease version
    // wildcards
    ['*', '1.2.3', true],
    ['x', '0.0.1', true],
    ['1.x', '1.4.0', true],
    ['1.X', '2.0.0', false],
    ['1.2.*', '1.2.9', true],
    ['1.2.x', '1.3.0', false],
    ['0.x.x', '1.2.3', false],
    ['4.1', '4.1.0', true],
    ['4.1', '4.1.7', true], // a short form without an operator is a tilde range
    ['= 2.0', '2.0.0', true],
    ['= 2.0', '1.2.3', false],
    ['=1.2.3', '1.2.3', true],
    ['1.2.3', '1.2.4', false],
    ['<1.x', '0.1.1', true],
    ['<1.x', '1.1.1', false],
    ['<=1.x', '1.9.0', true],
    ['<=2.x', '3.0.0', false],
    ['>1.1', '1.1.9', false],
    ['>1.1', '1.2.0', true],
    ['>1', '1.9.9', false],
    ['>1', '2.0.0', true],
    ['=>1.2', '1.2.0', true],
    ['=<1.2', '1.2.9', true],
    ['=<1.2', '1.3.0', false],
    // tilde
    ['~1.2.3', '1.2.5', true],
    ['~1.2.3', '1.2.2', false],
    ['~1.2.3', '1.3.0', false],
    ['~1', '1.3.5', true],
    ['~1', '2.1.1', false],
    ['~1.x', '1.4.0', true],
    ['~*', '2.1.1', true],
    ['~0.0.0', '1.2.3', true],
    ['~>1.2', '1.2.9', true],
    ['~>1.2', '1.3.0', false],
    ['~>1.2.3', '1.2.4', true],
    // caret
    ['^1.2.3', '1.9.0', true],
    ['^1.2.3', '2.0.0', false],
    ['^1.2.3', '1.2.2', false],
    ['^0.2.3', '0.2.9', true],
    ['^0.2.3', '0.3.0', false],
    ['^0.0.3', '0.0.3', true],
    ['^0.0.3', '0.0.4', false],
    ['^0.0', '0.0.9', true],
    ['^0.0', '0.1.0', false],
    ['^0', '0.9.0', true],
    ['^0', '1.0.0', false],
    ['^0.0.0', '1.2.3', false],
    ['^1.x', '1.1.1', true],
    ['^1.x', '2.1.1', false],
    // leading v and short forms
    ['^v1.0.0', '1.4.0', true],
    ['^v1.0.0', '2.0.0', false],
    ['>=v1.2', '1.2.0', true],
    ['v1.2.3', '1.2.3', true],
    ['^12.0', '12.5.1', true],
    ['^12.0', '13.0.0', false],
    ['^12', '12.0.0', true],
    // loose constraint versions
    ['>=01.2.3', '1.2.3', true],
  ])('%j matches %s: %s', (c, v, expected) => {
    expect(check(c, v)).toBe(expected)
  })
})

describe('parseConstraint: prereleases (Masterminds rule)', () => {
  it.each([
    // no prerelease anywhere in the constraint: prereleases never match
    ['*', '1.2.3-beta.1', false],
    ['>=1.0.0', '1.2.3-beta.1', false],
    ['>=1.1', '4.1.0-beta', false],
    ['<=1.1', '0.1.0-alpha', false],
    ['^1.x', '1.1.1-beta1', false],
    ['~1.1', '1.1.1-alpha', false],
    ['1.x', '1.2.0-rc.1', false],
    // a prerelease in the AND group admits prereleases of any version in range
    ['1.2.x-0', '1.2.3-alpha.1', true],
    ['1.2.x-0', '1.2.3', true],
    ['1.2.x-0', '1.3.0-alpha.1', false],
    ['^1.2.3-0', '1.3.0-rc.1', true],
    ['^1.2.3-0', '1.2.3-alpha', true],
    ['^1.2.3-0', '2.0.0-rc.1', false],
    ['^1.1.2-alpha', '1.2.1-beta1', true],
    ['>= 1.0.0-0  <= 2.0.0', '1.0.1-beta', true],
    ['>= 1.0.0  <= 2.0.0-beta', '1.0.1-beta', true],
    ['>= 1.0.0  <= 2.0.0-beta', '3.0.0', false],
    ['~1.1-alpha', '1.1.1-beta', true],
    ['~1.1.1-beta', '1.1.1-alpha', false],
    ['<=1.1-a', '0.1.0-alpha', true],
    // ... only for the AND group that carries it
    ['>= 1.0.0  <= 2.0.0-beta || > 3', '1.0.1-beta', true],
    ['>= 1.0.0  <= 2.0.0-beta || > 3', '3.0.1-beta', false],
    ['>=1.0.0-0 <1.1.0 || >=2.0.0', '2.1.0-rc.1', false],
    ['>= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3', '1.0.1-beta', false],
  ])('%j matches %s: %s', (c, v, expected) => {
    expect(check(c, v)).toBe(expected)
  })
})

describe('parseConstraint: empty and invalid', () => {
  it('treats "" as no constraint (prereleases included)', () => {
    expect(check('', '1.2.3')).toBe(true)
    expect(check('', '0.0.1-rc.1')).toBe(true)
    expect(isValidConstraint('')).toBe(true)
  })

  it.each([
    'bogus',
    '>= bar',
    'BAR >= 1.2.3',
    '12.3.4.1234',
    '12.3.34~ 1.2.3',
    'v1.2.3-beta.01',
    '>1.0<2.0',
    '1.0 ||',
    '   ',
    '>= 1.0.0 &&  < 2.0.0',
    '1.xx',
    '1|2',
    '99999999999999999999',
  ])('rejects %j with a ValidationError naming it', (c) => {
    expect(isValidConstraint(c)).toBe(false)
    let error: unknown
    try {
      parseConstraint(c, 'spec.subscriptions[0].image.constraint')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    const v = error as ValidationError
    expect(v.message).toContain(JSON.stringify(c))
    expect(v.data).toMatchObject({ constraint: c, path: 'spec.subscriptions[0].image.constraint' })
  })

  it.each([
    '>= 1.1',
    '>40.50.60, < 50.70',
    'v2.3.5-20161202202307-sha.e8fc5e5',
    'v1.2.3-0abc',
    '>= 1.2.3 < 2.0 || => 3.0 < 4',
    '3 - 4 || => 3.0, < 4',
    '12.3.34 ~1.2.3',
    '\t>=1.0.0\n',
  ])('accepts %j', (c) => {
    expect(isValidConstraint(c)).toBe(true)
  })

  it('keeps its text', () => {
    expect(parseConstraint('^1.2').text).toBe('^1.2')
  })
})
