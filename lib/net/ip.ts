import net from 'node:net'

/** An IP address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface IPAddress {
  version: 4 | 6
  value: bigint
}

/** A CIDR block (`10.0.0.0/8`, `fd00::/8`); a bare address is a block of one. */
export interface CIDR {
  version: 4 | 6
  base: bigint
  bits: number
}

/** Parses an IPv4 or IPv6 literal (brackets and an IPv6 zone are allowed); undefined when it is not one. */
export function parseIP(text: string): IPAddress | undefined {
  let host = text.trim()
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  const zone = host.indexOf('%')
  if (zone >= 0) host = host.slice(0, zone)
  const kind = net.isIP(host)
  if (kind === 4) return { version: 4, value: parseV4(host) }
  if (kind === 6) return { version: 6, value: parseV6(host) }
  return undefined
}

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
}

function parseV6(text: string): bigint {
  let head = text
  let tailV4: bigint | undefined
  const lastColon = text.lastIndexOf(':')
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1))
    head = `${text.slice(0, lastColon + 1)}0:0`
  }
  const [left = '', right] = head.split('::')
  const leftGroups = left === '' ? [] : left.split(':')
  const rightGroups = right === undefined || right === '' ? [] : right.split(':')
  const missing = 8 - leftGroups.length - rightGroups.length
  const groups = [
    ...leftGroups,
    ...Array<string>(right === undefined ? 0 : missing).fill('0'),
    ...rightGroups,
  ]
  let value = groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n)
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4
  return value
}

const V4_MAPPED = { base: 0xffffn << 32n, mask: ~0xffffffffn & ((1n << 128n) - 1n) }
const NAT64 = { base: 0x0064ff9bn << 96n, mask: ~0xffffffffn & ((1n << 128n) - 1n) }

/**
 * The address a connection really reaches: IPv4-mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) IPv6
 * addresses are judged as the IPv4 address they carry, so `[::ffff:169.254.169.254]` cannot sneak past an IPv4 rule.
 */
export function effectiveIP(ip: IPAddress): IPAddress {
  if (ip.version === 6) {
    for (const prefix of [V4_MAPPED, NAT64]) {
      if ((ip.value & prefix.mask) === prefix.base) return { version: 4, value: ip.value & 0xffffffffn }
    }
  }
  return ip
}

/** Parses `addr/bits` or a bare address; undefined when it is neither. */
export function parseCIDR(text: string): CIDR | undefined {
  const slash = text.indexOf('/')
  const ip = parseIP(slash < 0 ? text : text.slice(0, slash))
  if (!ip) return undefined
  const max = ip.version === 4 ? 32 : 128
  let bits = max
  if (slash >= 0) {
    const suffix = text.slice(slash + 1)
    if (!/^\d{1,3}$/.test(suffix)) return undefined
    bits = Number(suffix)
    if (bits > max) return undefined
  }
  return { version: ip.version, base: ip.value & maskOf(ip.version, bits), bits }
}

function maskOf(version: 4 | 6, bits: number): bigint {
  const width = version === 4 ? 32 : 128
  const all = (1n << BigInt(width)) - 1n
  return (all >> BigInt(width - bits)) << BigInt(width - bits)
}

/** True when `ip` (after `effectiveIP`) lies inside `block`. */
export function cidrContains(block: CIDR, ip: IPAddress): boolean {
  const target = effectiveIP(ip)
  if (target.version !== block.version) return false
  return (target.value & maskOf(block.version, block.bits)) === block.base
}

function blocks(list: string[]): CIDR[] {
  return list.map((text) => {
    const block = parseCIDR(text)
    if (!block) throw new Error(`bad built-in CIDR ${text}`)
    return block
  })
}

/** 169.254.0.0/16 and fe80::/10: link-local, where cloud metadata services live. */
export const LINK_LOCAL = blocks(['169.254.0.0/16', 'fe80::/10'])
/** Cloud metadata endpoints outside the link-local ranges: AWS IMDS over IPv6, Alibaba Cloud. */
export const METADATA_ADDRESSES = blocks(['fd00:ec2::254', '100.100.100.200'])
/** Loopback and "this host" (0.0.0.0 reaches the local machine on Linux). */
export const LOOPBACK = blocks(['127.0.0.0/8', '::1/128', '0.0.0.0/8', '::/128'])
/** RFC 1918, carrier-grade NAT, IPv6 unique-local. */
export const PRIVATE = blocks(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'])

/** Formats an address for messages (IPv4-mapped IPv6 shown as its IPv4 form). */
export function formatIP(ip: IPAddress): string {
  const target = effectiveIP(ip)
  if (target.version === 4) {
    const v = Number(target.value)
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.')
  }
  const groups: string[] = []
  for (let i = 7; i >= 0; i--) groups.push(((target.value >> BigInt(i * 16)) & 0xffffn).toString(16))
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
}
