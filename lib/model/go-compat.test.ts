import { describe, expect, it } from 'vitest'
import { cleanPath, compareBytewise, goToLower, joinPath } from './go-compat.js'

describe('cleanPath (Go path.Clean)', () => {
  it.each([
    ['', '.'],
    ['.', '.'],
    ['/', '/'],
    ['a/b/', 'a/b'],
    ['a//b', 'a/b'],
    ['./a/./b', 'a/b'],
    ['a/../b', 'b'],
    ['a/../..', '..'],
    ['../../a', '../../a'],
    ['/../a', '/a'],
    ['https://x/c', 'https:/x/c'],
    ['abc/def/../../..', '..'],
  ])('%j → %j', (input, expected) => {
    expect(cleanPath(input)).toBe(expected)
  })
})

describe('joinPath (Go path.Join)', () => {
  it.each([
    [['https://x', 'c'], 'https:/x/c'],
    [['repo', ''], 'repo'],
    [['', ''], ''],
    [['a', 'b/', '../c'], 'a/c'],
    [['', 'b'], 'b'],
  ])('%j → %j', (elements, expected) => {
    expect(joinPath(...elements)).toBe(expected)
  })
})

describe('compareBytewise (Go strings.Compare)', () => {
  it.each([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['a', 'ab', -1],
    ['B', 'a', -1],
    ['z', 'é', -1],
    ['\uffff', '\u{1f600}', -1], // UTF-16 order would say 1
    ['\u{1f600}', '\u{1f601}', -1],
  ])('%j vs %j → %d', (a, b, expected) => {
    expect(compareBytewise(a, b)).toBe(expected)
  })
})

describe('goToLower (Go strings.ToLower)', () => {
  it.each([
    ['HTTPS://GitHub.COM', 'https://github.com'],
    ['ΑΣ', 'ασ'], // no final-sigma rule
    ['İ', 'i'],
    ['Straße', 'straße'],
  ])('%j → %j', (input, expected) => {
    expect(goToLower(input)).toBe(expected)
  })
})
