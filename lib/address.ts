/**
 * IP addresses and CIDR ranges: parsing, normalising and matching, for the
 * per-address limit and the trusted-proxy list.
 *
 * @module
 */

/** A parsed address: 4 bytes (IPv4) or 16 (IPv6). IPv4-mapped IPv6 is stored as IPv4. */
export type IpBytes = Uint8Array;

/** A network: the address bytes and how many leading bits must match. */
export interface Cidr {
  readonly bytes: IpBytes;
  readonly bits: number;
}

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    bytes[i] = Number(part);
  }
  return bytes;
}

function parseIpv6(text: string): IpBytes | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // An IPv4 tail (::ffff:1.2.3.4) stands for two groups.
  const words: number[] = [];
  const pushGroups = (list: string[], out: number[]): boolean => {
    for (const [i, group] of list.entries()) {
      if (i === list.length - 1 && group.includes(".")) {
        const v4 = parseIpv4(group);
        if (v4 === undefined) return false;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return false;
        out.push(parseInt(group, 16));
      }
    }
    return true;
  };
  const tailWords: number[] = [];
  if (!pushGroups(head, words) || !pushGroups(tail, tailWords)) return undefined;
  const missing = 8 - words.length - tailWords.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  for (let i = 0; i < missing; i++) words.push(0);
  words.push(...tailWords);
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an IPv4 or IPv6 address (brackets and a zone allowed); IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(text: string): IpBytes | undefined {
  const bare = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (!bare.includes(":")) return parseIpv4(bare);
  const bytes = parseIpv6(bare);
  if (bytes !== undefined && MAPPED_PREFIX.every((b, i) => bytes[i] === b)) {
    return bytes.subarray(12);
  }
  return bytes;
}

/** The canonical text of an address: dotted IPv4, or IPv6 in lower-case groups. */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return bytes.join(".");
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return words.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
}

/** Parses `address` or `address/bits`. */
export function parseCidr(text: string): Cidr | undefined {
  const [address, bitsText, extra] = text.trim().split("/");
  if (extra !== undefined || address === undefined) return undefined;
  const bytes = parseIp(address);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  if (bitsText === undefined) return { bytes, bits: max };
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  // An IPv4-mapped network (::ffff:10.0.0.0/104) is the IPv4 network it maps.
  const bits = Number(bitsText) - (address.includes(":") && bytes.length === 4 ? 96 : 0);
  if (bits < 0 || bits > max) return undefined;
  return { bytes, bits };
}

/** True when `ip` lies in `cidr` (an IPv4 address never lies in an IPv6 network). */
export function inCidr(ip: IpBytes, cidr: Cidr): boolean {
  if (ip.length !== cidr.bytes.length) return false;
  let bits = cidr.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
  }
  return true;
}

/** The canonical text of a network: its address, and `/bits` unless it is one address. */
export function formatCidr(cidr: Cidr): string {
  const address = formatIp(cidr.bytes);
  return cidr.bits === cidr.bytes.length * 8 ? address : `${address}/${cidr.bits}`;
}

/**
 * The canonical text of an address as the runtime reports it (IPv4-mapped
 * IPv6 as IPv4, IPv6 in lower-case groups); text that does not parse as it is.
 */
export function canonicalIp(hostname: string): string {
  // Dotted IPv4, as the runtime reports it, is canonical already: no parsing, no garbage.
  if (!hostname.includes(":")) return hostname;
  const bytes = parseIp(hostname);
  return bytes === undefined ? hostname : formatIp(bytes);
}

/** A list of networks, asked whether an address (as text) lies in any of them. */
export class CidrList {
  /** The networks, in the order given. */
  readonly networks: readonly Cidr[];

  /** A list of the given networks. */
  constructor(networks: readonly Cidr[]) {
    this.networks = networks;
  }

  /** The list of `items`, each an address or `address/bits`; throws a `SyntaxError` naming the first that is neither. */
  static from(items: Iterable<string>): CidrList {
    const networks: Cidr[] = [];
    for (const item of items) {
      const network = parseCidr(item);
      if (network === undefined) throw new SyntaxError(`Not an address or CIDR network: ${item}`);
      networks.push(network);
    }
    return new CidrList(networks);
  }

  /** True when `address` parses and lies in one of the networks. */
  has(address: string): boolean {
    if (this.networks.length === 0) return false;
    const ip = parseIp(address);
    return ip !== undefined && this.networks.some((network) => inCidr(ip, network));
  }

  /** The networks as a comma list, each in its canonical text. */
  toString(): string {
    return this.networks.map(formatCidr).join(",");
  }
}

/**
 * `list.has`, with each address's answer remembered: most connections come
 * from few addresses, and matching a CIDR list costs more than a lookup. The
 * memo starts over past `maxEntries` addresses.
 */
export function remembered(
  list: { has(ip: string): boolean },
  maxEntries: number,
): (ip: string) => boolean {
  const answers = new Map<string, boolean>();
  return (ip) => {
    let answer = answers.get(ip);
    if (answer === undefined) {
      if (answers.size >= maxEntries) answers.clear();
      answer = list.has(ip);
      answers.set(ip, answer);
    }
    return answer;
  };
}
