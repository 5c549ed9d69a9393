import { describe, expect, it } from 'vitest'
import { HelpRequested, LOCAL_USAGE, parseLocalArgs } from './args.js'

describe('parseLocalArgs', () => {
  it.each([
    [[], { port: 8080, inMemory: false, dataDir: '/w/.tugboat', discoverEverySeconds: 5, demo: true }],
    [['--no-demo'], { demo: false }],
    [['--in-memory', '--port', '9000', '--data-dir', 'x'], { inMemory: true, port: 9000, dataDir: '/w/x' }],
    [
      ['--discover-every', '1', '--reconcile-every', '0.5'],
      { discoverEverySeconds: 1, reconcileEverySeconds: 0.5 },
    ],
  ])('%j', (argv, expected) => {
    expect(parseLocalArgs(argv, '/w')).toMatchObject(expected)
  })

  it.each([
    [['--port', '0'], '--port must be a number from 1 to 65535'],
    [['--discover-every', '0'], '--discover-every must be a positive number'],
    [['--demo'], "Unknown option '--demo'"],
  ])('%j is refused', (argv, message) => {
    expect(() => parseLocalArgs(argv, '/w')).toThrow(message)
  })

  it('documents --no-demo in its help', () => {
    expect(() => parseLocalArgs(['--help'])).toThrow(HelpRequested)
    expect(LOCAL_USAGE).toContain('--no-demo')
  })
})
