import { describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { splitKey } from './key-path.js'
import { setYamlValues, yamlUpdateCommitMessage } from './yaml-lines.js'

describe('splitKey (Kargo sjson.SplitKey)', () => {
  it.each([
    { key: 'foo.bar.bat.baz', parts: ['foo', 'bar', 'bat', 'baz'] },
    { key: 'foo\\.bar.bat\\.baz', parts: ['foo.bar', 'bat.baz'] },
    { key: 'foo.bar\\:bat.baz', parts: ['foo', 'bar:bat', 'baz'] },
    { key: 'foo.bar.:2.baz', parts: ['foo', 'bar', '2', 'baz'] },
    { key: '  image.tag  ', parts: ['image', 'tag'] },
  ])('$key', ({ key, parts }) => {
    expect(splitKey(key)).toEqual(parts)
  })

  it.each([
    { key: '', error: 'empty key' },
    { key: '.foo', error: 'empty key part in key' },
    { key: 'foo.', error: 'empty key part in key' },
    { key: 'foo..bar', error: 'empty key part in key' },
    { key: 'foo\\nbar', error: 'invalid escape sequence' },
    { key: 'foo:bar', error: 'unexpected colon in key' },
  ])('rejects $key', ({ key, error }) => {
    expect(() => splitKey(key)).toThrow(error)
  })
})

const characters = `
characters:
- name: Arthur Dent
  answer: idk
`

describe('setYamlValues', () => {
  it.each([
    { name: 'a true number stays bare', value: 42, line: '  answer: 42' },
    { name: 'a string holding a number is quoted', value: '42', line: '  answer: "42"' },
    { name: 'a string holding a bool is quoted', value: 'true', line: '  answer: "true"' },
    { name: 'Go bool forms count (T)', value: 'T', line: '  answer: "T"' },
    { name: 'a string holding JSON is quoted', value: '{"a":1}', line: '  answer: "{\\"a\\":1}"' },
    { name: 'null as a string is quoted', value: 'null', line: '  answer: "null"' },
    { name: 'Go floats: 1e3, .5, 1_000', value: '1_000', line: '  answer: "1_000"' },
    { name: 'an ordinary string is bare', value: 'Dark side', line: '  answer: Dark side' },
    { name: 'a version is bare', value: '1.2.3', line: '  answer: 1.2.3' },
    { name: 'a real bool', value: true, line: '  answer: true' },
    { name: 'a float64 prints like %v', value: 1000000, line: '  answer: 1e+06' },
    { name: 'null prints like %v', value: null, line: '  answer: <nil>' },
  ])('$name', ({ value, line }) => {
    const out = setYamlValues(characters, [{ key: 'characters.0.answer', value }])
    expect(out).toBe(`\ncharacters:\n- name: Arthur Dent\n${line}\n`)
  })

  it('keeps comments, order and blank lines; loses only the rest of an edited line', () => {
    const text = '# top\na: 1 # one\n\nb:\n  c: old # gone\n  d: keep # kept\n'
    expect(setYamlValues(text, [{ key: 'b.c', value: 'new' }])).toBe(
      '# top\na: 1 # one\n\nb:\n  c: new\n  d: keep # kept\n',
    )
  })

  it('edits quoted values, empty values, anchors and tags from their first character', () => {
    const text = 'a: "x"\nb:\nc: &anchor !!str 5\nd: \'y\' # c\n'
    const out = setYamlValues(text, [
      { key: 'a', value: 'one' },
      { key: 'b', value: 'two' },
      { key: 'c', value: 'three' },
      { key: 'd', value: 'four' },
    ])
    expect(out).toBe('a: one\nb: two\nc: three\nd: four\n')
  })

  it('escaped dots and colons address keys containing them', () => {
    const text = 'annotations:\n  example.com/version: v1\n  "a:b": x\n'
    expect(
      setYamlValues(text, [
        { key: 'annotations.example\\.com/version', value: 'v2' },
        { key: 'annotations.a\\:b', value: 'y' },
      ]),
    ).toBe('annotations:\n  example.com/version: v2\n  "a:b": y\n')
  })

  it('normalises CRLF to LF and adds a final newline, like Go line scanning', () => {
    expect(setYamlValues('a: 1\r\nb: 2', [{ key: 'b', value: 3 }])).toBe('a: 1\nb: 3\n')
  })

  it('the last update of one line wins', () => {
    expect(
      setYamlValues('a: 1\n', [
        { key: 'a', value: 2 },
        { key: 'a', value: 3 },
      ]),
    ).toBe('a: 3\n')
  })

  it.each([
    {
      name: 'missing key',
      key: 'characters.0.missing',
      error: 'error finding key characters.0.missing: key path not found',
    },
    { name: 'missing top-level key', key: 'nope', error: 'key path not found' },
    { name: 'index out of range', key: 'characters.5.name', error: 'key path not found' },
    {
      name: 'non-numeric index',
      key: 'characters.first.name',
      error: 'strconv.Atoi: parsing "first": invalid syntax',
    },
    { name: 'a map', key: 'characters.0', error: 'key path does not address a scalar node' },
    { name: 'a list', key: 'characters', error: 'key path does not address a scalar node' },
    { name: 'through a scalar', key: 'characters.0.name.first', error: 'key path not found' },
    { name: 'a bad key', key: 'a..b', error: 'error splitting key a..b: empty key part' },
  ])('error: $name', ({ key, error }) => {
    const attempt = () => setYamlValues(characters, [{ key, value: 'x' }])
    expect(attempt).toThrow(TerminalError)
    expect(attempt).toThrow(error)
  })

  it('rejects invalid YAML', () => {
    expect(() => setYamlValues('a:\n\tb: 1\n', [{ key: 'a', value: 1 }])).toThrow('error unmarshaling input')
  })

  it('an alias is not a scalar', () => {
    expect(() => setYamlValues('a: &x 1\nb: *x\n', [{ key: 'b', value: 2 }])).toThrow(
      'does not address a scalar node',
    )
  })
})

describe('yamlUpdateCommitMessage', () => {
  it('lists the updates with the file quoting', () => {
    expect(
      yamlUpdateCommitMessage('charts/app/values.yaml', [
        { key: 'image.tag', value: '1.2.3' },
        { key: 'replicas', value: '3' },
        { key: 'enabled', value: true },
      ]),
    ).toBe('Updated charts/app/values.yaml\n\n- image.tag: 1.2.3\n- replicas: "3"\n- enabled: true')
  })
})
