import { describe, expect, it } from 'vitest'
import { ALIAS_ADJECTIVES, ALIAS_ANIMALS, generateAlias } from './alias.js'

describe('generateAlias', () => {
  it('has about 100 × 100 distinct lowercase words', () => {
    for (const words of [ALIAS_ADJECTIVES, ALIAS_ANIMALS]) {
      expect(words.length).toBeGreaterThanOrEqual(100)
      expect(new Set(words).size).toBe(words.length)
      for (const w of words) expect(w).toMatch(/^[a-z]+$/)
    }
  })

  it('is adjective-animal in [a-z-]', () => {
    for (let i = 0; i < 200; i++) {
      const alias = generateAlias()
      expect(alias).toMatch(/^[a-z]+-[a-z]+$/)
      const [adjective, animal] = alias.split('-')
      expect(ALIAS_ADJECTIVES).toContain(adjective)
      expect(ALIAS_ANIMALS).toContain(animal)
    }
  })

  it.each([
    [[0, 0], `${ALIAS_ADJECTIVES[0]}-${ALIAS_ANIMALS[0]}`],
    [[0.999999, 0.999999], `${ALIAS_ADJECTIVES.at(-1)}-${ALIAS_ANIMALS.at(-1)}`],
    [[1, 1], `${ALIAS_ADJECTIVES.at(-1)}-${ALIAS_ANIMALS.at(-1)}`], // out-of-range input is clamped
  ])('is deterministic with an injected random source %j', (values, expected) => {
    const queue = [...values]
    expect(generateAlias(() => queue.shift() ?? 0)).toBe(expected)
  })

  it('can produce the classic example', () => {
    const a = ALIAS_ADJECTIVES.indexOf('oldfashioned')
    const b = ALIAS_ANIMALS.indexOf('penguin')
    const queue = [(a + 0.5) / ALIAS_ADJECTIVES.length, (b + 0.5) / ALIAS_ANIMALS.length]
    expect(generateAlias(() => queue.shift() ?? 0)).toBe('oldfashioned-penguin')
  })

  it('varies', () => {
    expect(new Set(Array.from({ length: 50 }, () => generateAlias())).size).toBeGreaterThan(40)
  })
})
