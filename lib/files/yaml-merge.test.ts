import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { mergeYamlFiles } from './yaml-merge.js'

const base = `character:
  name: Vader
  ability: Force
  affiliation: Empire
  saberColor: red
vehicles:
- Star Destroyer`

const overlay = `character:
  name: Luke # Alters character.name from the base
  # ability: Force  # Should be inherited from the base without alteration
  affiliation: Rebel Alliance # Alters character.affiliation from the base
  saberColor: blue # Alters character.saberColor from the base
  siblings: # A completely new field that the base does not have
  - Leia
vehicles: # Completely replaces vehicles list from the base
- Millennium Falcon`

describe('mergeYamlFiles (kyaml merge2, file by file)', () => {
  it("Kargo's example: maps merge, lists are replaced, empty files are skipped", () => {
    const out = mergeYamlFiles([
      { name: 'empty.yaml', text: '' },
      { name: 'base.yaml', text: base },
      { name: 'overlay.yaml', text: overlay },
    ])
    expect(parse(out)).toEqual({
      character: {
        name: 'Luke',
        ability: 'Force',
        affiliation: 'Rebel Alliance',
        saberColor: 'blue',
        siblings: ['Leia'],
      },
      vehicles: ['Millennium Falcon'],
    })
    // The first file's key order is kept; comments of the later file come along.
    expect(out.indexOf('ability')).toBeLessThan(out.indexOf('affiliation'))
    expect(out).toContain('name: Luke # Alters character.name from the base')
  })

  it.each([
    {
      name: 'new keys are appended in sorted order',
      files: ['b: 1\n', 'z: 2\na: 3\n'],
      out: 'b: 1\na: 3\nz: 2\n',
    },
    { name: 'null removes a key', files: ['a: 1\nb: 2\n', 'a: null\n'], out: 'b: 2\n' },
    { name: 'nulls of the first file are dropped', files: ['a: ~\nb: 2\n'], out: 'b: 2\n' },
    {
      name: '$patch: delete removes a map',
      files: ['a:\n  x: 1\nb: 2\n', 'a:\n  $patch: delete\n'],
      out: 'b: 2\n',
    },
    {
      name: '$patch: replace replaces a map',
      files: ['a:\n  x: 1\n  y: 2\n', 'a:\n  $patch: replace\n  z: 3\n'],
      out: 'a:\n  z: 3\n',
    },
    {
      name: 'YAML 1.1 booleans held as strings are quoted',
      files: ['a: yes\n', 'b: on\n'],
      out: 'a: "yes"\nb: "on"\n',
    },
    {
      name: "comments of untouched keys stay; a replaced scalar comes with the later file's comment",
      files: ['# head\na: 1 # one\nb: 1 # kept\n', 'a: 2\n'],
      out: '# head\na: 2\nb: 1 # kept\n',
    },
    { name: 'no input: empty output', files: [], out: '' },
    { name: 'comment-only input is skipped', files: ['# nothing\n', 'a: 1\n'], out: 'a: 1\n' },
  ])('$name', ({ files, out }) => {
    expect(mergeYamlFiles(files.map((text, i) => ({ name: `f${i}.yaml`, text })))).toBe(out)
  })

  it.each([
    { name: 'a map over a scalar', files: ['a: 1\n', 'a:\n  b: 2\n'], error: 'wrong node kind' },
    { name: 'invalid YAML', files: ['a: [\n'], error: 'error reading input file f0.yaml' },
    {
      name: 'an unknown $patch',
      files: ['a:\n  x: 1\n', 'a:\n  $patch: nope\n'],
      error: "unknown patch strategy 'nope'",
    },
  ])('error: $name', ({ files, error }) => {
    expect(() => mergeYamlFiles(files.map((text, i) => ({ name: `f${i}.yaml`, text })))).toThrow(error)
  })
})
