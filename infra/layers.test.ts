import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildLayer, checkLinuxBinary } from './layers/build-layer.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-layer-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A minimal 64-bit little-endian ELF header for `machine`, padded with a recognisable body. */
function fakeElf(machine: number): Buffer {
  const header = Buffer.alloc(64)
  header.writeUInt32BE(0x7f454c46, 0)
  header[4] = 2
  header[5] = 1
  header.writeUInt16LE(machine, 18)
  return Buffer.concat([header, Buffer.from('tugboat-layer-test '.repeat(1000))])
}

const hasUnzip = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

describe('infra/layers/build-layer', () => {
  it('accepts only linux executables for the functions architecture', () => {
    expect(() => checkLinuxBinary(fakeElf(0x3e), 'x86_64')).not.toThrow()
    expect(() => checkLinuxBinary(fakeElf(0xb7), 'x86_64')).toThrow(/built for arm64.*linux_amd64/)
    expect(() => checkLinuxBinary(fakeElf(0x3e), 'arm64')).toThrow(/built for x86_64/)
    expect(() => checkLinuxBinary(Buffer.from('#!/bin/sh\necho kustomize\n'.padEnd(80)), 'x86_64')).toThrow(
      /not a Linux executable/,
    )
  })

  it('is reproducible: the same binary gives the same zip', () => {
    const binary = path.join(tmp, 'kustomize')
    fs.writeFileSync(binary, fakeElf(0x3e))
    const a = fs.readFileSync(buildLayer({ tool: 'kustomize', binary, out: path.join(tmp, 'a.zip') }))
    const b = fs.readFileSync(buildLayer({ tool: 'kustomize', binary, out: path.join(tmp, 'b.zip') }))
    expect(a.equals(b)).toBe(true)
  })

  it.skipIf(!hasUnzip)('writes bin/<tool> with mode 0755, which unzip extracts intact and executable', () => {
    const binary = path.join(tmp, 'helm-download')
    const content = fakeElf(0x3e)
    fs.writeFileSync(binary, content, { mode: 0o644 }) // not executable on disk: the zip sets the bit anyway
    const out = buildLayer({ tool: 'helm', binary, out: path.join(tmp, 'helm.zip') })
    const listing = execFileSync('unzip', ['-Z', out], { encoding: 'utf8' })
    expect(listing).toMatch(/^drwxr-xr-x .* bin\/$/m)
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/helm$/m)
    execFileSync('unzip', ['-tq', out])
    const opt = path.join(tmp, 'opt')
    execFileSync('unzip', ['-q', out, '-d', opt])
    expect(fs.readFileSync(path.join(opt, 'bin', 'helm')).equals(content)).toBe(true)
    expect(fs.statSync(path.join(opt, 'bin', 'helm')).mode & 0o777).toBe(0o755)
  })
})
