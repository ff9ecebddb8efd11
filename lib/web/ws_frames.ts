/**
 * RFC 6455 framing, the server's half: frames the server sends (never
 * masked) and the reading of a client frame's header. Pure: no I/O, no state.
 *
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_CODE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  noStatus: 1005,
  invalidData: 1007,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/** The longest payload a control frame may carry. */
export const MAX_CONTROL_PAYLOAD = 125;
/** The longest frame header a client sends: 2 bytes, 8 of length, 4 of mask. */
export const MAX_CLIENT_HEADER = 14;
/** The longest frame header the server sends (no mask). */
export const MAX_SERVER_HEADER = 10;

const FIN = 0x80;
const encoder = new TextEncoder();

/** The length of a server frame's header for a payload of `bytes`: the shortest form, as RFC 6455 requires. */
export function serverHeaderBytes(bytes: number): number {
  return bytes < 126 ? 2 : bytes < 0x10000 ? 4 : 10;
}

/** Writes a final frame's header (`opcode`, `bytes` of payload) at `buffer[at]`; returns its length. */
export function writeHeader(
  buffer: Uint8Array,
  at: number,
  opcode: number,
  bytes: number,
): number {
  buffer[at] = FIN | opcode;
  if (bytes < 126) {
    buffer[at + 1] = bytes;
    return 2;
  }
  if (bytes < 0x10000) {
    buffer[at + 1] = 126;
    buffer[at + 2] = bytes >>> 8;
    buffer[at + 3] = bytes & 0xff;
    return 4;
  }
  buffer[at + 1] = 127;
  new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8).setBigUint64(0, BigInt(bytes));
  return 10;
}

/** A whole final frame carrying `payload`. */
export function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(serverHeaderBytes(payload.length) + payload.length);
  bytes.set(payload, writeHeader(bytes, 0, opcode, payload.length));
  return bytes;
}

/** A text frame carrying `text`. */
export function textFrame(text: string): Uint8Array {
  return frame(OPCODE.text, encoder.encode(text));
}

/** A close frame with `code` and a short `reason` (cut to fit a control frame). */
export function closeFrame(code: number, reason = ""): Uint8Array {
  const words = encoder.encode(reason).subarray(0, MAX_CONTROL_PAYLOAD - 2);
  const payload = new Uint8Array(2 + words.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(words, 2);
  return frame(OPCODE.close, payload);
}

/** A client frame's header, read. */
export interface FrameHeader {
  /** The last frame of its message. */
  readonly fin: boolean;
  /** RSV1-3: must be 0, no extension having been agreed. */
  readonly reserved: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** Payload bytes; above 2^53 it is reported as Infinity. */
  readonly length: number;
  /** Where the mask (or, unmasked, the payload) starts, from the frame's start. */
  readonly headerBytes: number;
}

/** Reads the header of the frame at `buffer[at]`; undefined until `end` covers it. */
export function readHeader(buffer: Uint8Array, at: number, end: number): FrameHeader | undefined {
  if (end - at < 2) return undefined;
  const first = buffer[at]!;
  const second = buffer[at + 1]!;
  const masked = (second & 0x80) !== 0;
  let length = second & 0x7f;
  let headerBytes = 2;
  if (length === 126) {
    if (end - at < 4) return undefined;
    length = (buffer[at + 2]! << 8) | buffer[at + 3]!;
    headerBytes = 4;
  } else if (length === 127) {
    if (end - at < 10) return undefined;
    const view = new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8);
    const big = view.getBigUint64(0);
    length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big);
    headerBytes = 10;
  }
  if (masked) headerBytes += 4;
  if (end - at < headerBytes) return undefined;
  return {
    fin: (first & FIN) !== 0,
    reserved: first & 0x70,
    opcode: first & 0x0f,
    masked,
    length,
    headerBytes,
  };
}

/** The 4 mask bytes that follow a masked header, as one number (first byte highest). */
export function readMask(buffer: Uint8Array, at: number): number {
  return ((buffer[at]! << 24) | (buffer[at + 1]! << 16) | (buffer[at + 2]! << 8) |
    buffer[at + 3]!) >>>
    0;
}

/**
 * Unmasks `count` payload bytes in place at `buffer[at]`, `offset` bytes
 * into the frame's payload (its 4-byte mask repeats).
 */
export function unmask(
  buffer: Uint8Array,
  at: number,
  count: number,
  mask: number,
  offset: number,
): void {
  for (let i = 0; i < count; i++) {
    const shift = (3 - ((offset + i) & 3)) * 8;
    buffer[at + i] = buffer[at + i]! ^ ((mask >>> shift) & 0xff);
  }
}
