import { describe, expect, it } from 'vitest'
import { LINK_LOCAL, METADATA_ADDRESSES, cidrContains, formatIP, parseCIDR, parseIP } from './ip.js'

describe('parseIP / parseCIDR / cidrContains', () => {
  it.each([
    ['169.254.169.254', '169.254.0.0/16', true],
    ['169.253.255.255', '169.254.0.0/16', false],
    ['10.1.2.3', '10.0.0.0/8', true],
    ['fe80::1', 'fe80::/10', true],
    ['febf:ffff::1', 'fe80::/10', true],
    ['fec0::1', 'fe80::/10', false],
    ['[::ffff:a9fe:a9fe]', '169.254.0.0/16', true],
    ['::ffff:169.254.169.254', '169.254.0.0/16', true],
    ['64:ff9b::169.254.169.254', '169.254.0.0/16', true],
    ['fe80::1%eth0', 'fe80::/10', true],
    ['fd00:ec2::254', 'fd00:ec2::254', true],
    ['fd00:ec2::255', 'fd00:ec2::254', false],
    ['127.0.0.1', '127.0.0.0/8', true],
    ['::1', '127.0.0.0/8', false],
  ])('%s in %s → %s', (address, block, expected) => {
    const ip = parseIP(address)
    const cidr = parseCIDR(block)
    expect(ip).toBeDefined()
    expect(cidr).toBeDefined()
    expect(cidrContains(cidr!, ip!)).toBe(expected)
  })

  it.each(['example.com', '300.1.1.1', '1.2.3', '', '::g'])('%j is not an IP', (text) => {
    expect(parseIP(text)).toBeUndefined()
  })

  it.each(['10.0.0.0/33', '10.0.0.0/x', 'fe80::/129', 'nope/8'])('%j is not a CIDR', (text) => {
    expect(parseCIDR(text)).toBeUndefined()
  })

  it('knows the metadata addresses', () => {
    const aws = parseIP('169.254.169.254')!
    expect(LINK_LOCAL.some((b) => cidrContains(b, aws))).toBe(true)
    expect(METADATA_ADDRESSES.some((b) => cidrContains(b, parseIP('fd00:ec2::254')!))).toBe(true)
  })

  it('formats addresses for messages', () => {
    expect(formatIP(parseIP('[::ffff:a9fe:a9fe]')!)).toBe('169.254.169.254')
    expect(formatIP(parseIP('fd00:ec2::254')!)).toBe('fd00:ec2::254')
  })
})
