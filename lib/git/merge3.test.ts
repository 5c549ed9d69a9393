import { describe, expect, it } from 'vitest'
import { matchLines, merge3 } from './merge3.js'

describe('merge3', () => {
  const base = 'a\nb\nc\nd\ne\n'
  it.each([
    { name: 'only ours changed', ours: 'a\nB\nc\nd\ne\n', theirs: base, merged: 'a\nB\nc\nd\ne\n' },
    { name: 'only theirs changed', ours: base, theirs: 'a\nb\nc\nD\ne\n', merged: 'a\nb\nc\nD\ne\n' },
    {
      name: 'different lines',
      ours: 'a\nB\nc\nd\ne\n',
      theirs: 'a\nb\nc\nD\ne\n',
      merged: 'a\nB\nc\nD\ne\n',
    },
    {
      name: 'the same change on both sides',
      ours: 'a\nX\nc\nd\ne\n',
      theirs: 'a\nX\nc\nd\ne\n',
      merged: 'a\nX\nc\nd\ne\n',
    },
    {
      name: 'an insertion and a deletion apart',
      ours: 'new\na\nb\nc\nd\ne\n',
      theirs: 'a\nb\nc\nd\n',
      merged: 'new\na\nb\nc\nd\n',
    },
    {
      name: 'appends at both ends',
      ours: 'a\nb\nc\nd\ne\nz\n',
      theirs: '0\na\nb\nc\nd\ne\n',
      merged: '0\na\nb\nc\nd\ne\nz\n',
    },
    {
      name: 'the same line changed differently',
      ours: 'a\nB1\nc\nd\ne\n',
      theirs: 'a\nB2\nc\nd\ne\n',
      merged: undefined,
    },
    { name: 'adjacent edits', ours: 'a\nB\nc\nd\ne\n', theirs: 'a\nb\nC\nd\ne\n', merged: undefined },
    { name: 'binary content', ours: 'a\0b', theirs: 'a\0c', merged: undefined },
  ])('$name', ({ ours, theirs, merged }) => {
    expect(merge3(base, ours, theirs)).toBe(merged)
  })

  it('matchLines finds a longest common subsequence', () => {
    const a = ['x', 'a', 'b', 'c', 'y']
    const b = ['a', 'q', 'b', 'c']
    const m = matchLines(a, b)
    expect(m).toEqual([-1, 0, 2, 3, -1])
  })
})
