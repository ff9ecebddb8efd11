/**
 * The PROXY protocol header (versions 1 and 2, as HAProxy specifies them),
 * which a TCP load balancer puts before the client's bytes to say who the
 * client really is: the parser (pure: bytes in, a verdict out) and the
 * reader that feeds it from a socket.
 *
 * @module
 */
import { formatIp, parseIp } from "./address.ts";

/** Where the proxied connection really comes from. */
export interface ProxySource {
  readonly ip: string;
  readonly port: number;
}

/** What the bytes read so far amount to. */
export type ProxyHeader =
  | { readonly kind: "incomplete" }
  | { readonly kind: "invalid"; readonly reason: string }
  | {
    readonly kind: "header";
    /** Bytes the header took; what follows is the client's own. */
    readonly length: number;
    /** The real client; undefined for LOCAL and UNKNOWN (the proxy speaking for itself). */
    readonly source: ProxySource | undefined;
  };

/** The longest version 1 header, `\r\n` included. */
const V1_MAX_BYTES = 107;
/**
 * The first read's buffer: a v1 header and a v2 header with IPv6 addresses
 * fit; longer v2 headers (TLVs) double it as they need.
 */
const FIRST_READ_BYTES = 256;
const V1_PREFIX = new TextEncoder().encode("PROXY ");
const V2_SIGNATURE = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

function startsWith(bytes: Uint8Array, prefix: Uint8Array): "yes" | "no" | "so-far" {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return "no";
  return bytes.length >= prefix.length ? "yes" : "so-far";
}

/** Parses a PROXY header at the start of `bytes`. */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeader {
  const v2 = startsWith(bytes, V2_SIGNATURE);
  if (v2 === "yes") return parseV2(bytes);
  const v1 = startsWith(bytes, V1_PREFIX);
  if (v1 === "yes") return parseV1(bytes);
  if (v1 === "so-far" || v2 === "so-far") return { kind: "incomplete" };
  return { kind: "invalid", reason: "no PROXY header" };
}

function parseV1(bytes: Uint8Array): ProxyHeader {
  const end = bytes.subarray(0, V1_MAX_BYTES).indexOf(0x0a);
  if (end === -1) {
    return bytes.length >= V1_MAX_BYTES
      ? { kind: "invalid", reason: "PROXY v1 line too long" }
      : { kind: "incomplete" };
  }
  if (end === 0 || bytes[end - 1] !== 0x0d) {
    return { kind: "invalid", reason: "PROXY v1 line must end with CRLF" };
  }
  const line = new TextDecoder().decode(bytes.subarray(0, end - 1));
  const [, family, src, , sport, dport, ...extra] = line.split(" ");
  if (family === "UNKNOWN") return { kind: "header", length: end + 1, source: undefined };
  if ((family !== "TCP4" && family !== "TCP6") || extra.length > 0 || dport === undefined) {
    return { kind: "invalid", reason: `bad PROXY v1 line: ${JSON.stringify(line)}` };
  }
  const ip = parseIp(src ?? "");
  const port = /^\d{1,5}$/.test(sport ?? "") ? Number(sport) : NaN;
  const wantLength = family === "TCP4" ? 4 : 16;
  if (ip === undefined || (family === "TCP4" && ip.length !== wantLength) || !(port <= 65535)) {
    return { kind: "invalid", reason: `bad PROXY v1 address: ${JSON.stringify(line)}` };
  }
  return { kind: "header", length: end + 1, source: { ip: formatIp(ip), port } };
}

function parseV2(bytes: Uint8Array): ProxyHeader {
  if (bytes.length < 16) return { kind: "incomplete" };
  const version = bytes[12]! >> 4;
  const command = bytes[12]! & 0x0f;
  const family = bytes[13]!;
  const length = 16 + ((bytes[14]! << 8) | bytes[15]!);
  if (version !== 2 || command > 1) {
    return { kind: "invalid", reason: "bad PROXY v2 version or command" };
  }
  if (bytes.length < length) return { kind: "incomplete" };
  // LOCAL (the proxy's own health check), or a family without an IP source.
  if (command === 0) return { kind: "header", length, source: undefined };
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  if (family >> 4 === 1 && length >= 16 + 12) {
    const ip = bytes.subarray(16, 20);
    return { kind: "header", length, source: { ip: formatIp(ip), port: view.getUint16(24) } };
  }
  if (family >> 4 === 2 && length >= 16 + 36) {
    const ip = parseIp(formatIp(bytes.slice(16, 32)))!;
    return { kind: "header", length, source: { ip: formatIp(ip), port: view.getUint16(48) } };
  }
  if (family === 0x00 || family >> 4 === 3) return { kind: "header", length, source: undefined };
  return { kind: "invalid", reason: "PROXY v2 address block too short" };
}

/** What {@linkcode readProxyHeader} reads from: a socket, or a fake in tests. */
export interface ByteReader {
  /** Reads into `buffer`, resolving with how many bytes came, or null at the end of input. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** How reading a PROXY header ended. */
export type ProxyHeaderRead =
  | {
    readonly kind: "header";
    /** The real client; undefined when the proxy speaks for itself. */
    readonly source: ProxySource | undefined;
    /** The client's own bytes that came in the same reads as the header, if any. */
    readonly rest: Uint8Array | undefined;
  }
  | { readonly kind: "invalid"; readonly reason: string }
  /** Input ended, or a read failed, before a whole header came. */
  | { readonly kind: "ended" };

const ENDED: ProxyHeaderRead = { kind: "ended" };

/**
 * Reads from `reader` until a whole PROXY header has come, or bytes that
 * cannot start one. `counter.bytesIn`, when given, grows by every byte read.
 */
export async function readProxyHeader(
  reader: ByteReader,
  counter?: { bytesIn: number },
): Promise<ProxyHeaderRead> {
  let bytes = new Uint8Array(FIRST_READ_BYTES);
  let filled = 0;
  try {
    while (true) {
      if (filled === bytes.length) {
        const bigger = new Uint8Array(bytes.length * 2);
        bigger.set(bytes);
        bytes = bigger;
      }
      const count = await reader.read(bytes.subarray(filled));
      if (count === null) return ENDED;
      filled += count;
      if (counter !== undefined) counter.bytesIn += count;
      const header = parseProxyHeader(bytes.subarray(0, filled));
      if (header.kind === "incomplete") continue;
      if (header.kind === "invalid") return header;
      const rest = header.length < filled ? bytes.slice(header.length, filled) : undefined;
      return { kind: "header", source: header.source, rest };
    }
  } catch {
    // A reset, or the socket closed under the read when the header was too slow.
    return ENDED;
  }
}
