/**
 * The PROXY protocol header (versions 1 and 2, as HAProxy specifies them),
 * which a TCP load balancer puts before the client's bytes to say who the
 * client really is. Pure: bytes in, a verdict out.
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
export const V1_MAX_BYTES = 107;
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
