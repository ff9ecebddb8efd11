/** Unit tests of the PROXY protocol: the header parser, and the reader that feeds it from a socket. */
import { assertEquals, assertStrictEquals } from "@std/assert";
import { parseProxyHeader, readProxyHeader } from "../lib/proxy_protocol.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("PROXY v1: TCP4, TCP6 and UNKNOWN headers, what follows them, and bad lines", () => {
  const header = parseProxyHeader(text("PROXY TCP4 203.0.113.7 192.0.2.1 5555 4000\r\nLOGIN x\n"));
  assertEquals(header, {
    kind: "header",
    length: 44,
    source: { ip: "203.0.113.7", port: 5555 },
  });
  assertEquals(parseProxyHeader(text("PROXY TCP6 2001:db8::7 ::1 1 2\r\n")), {
    kind: "header",
    length: 32,
    source: { ip: "2001:db8::7", port: 1 },
  });
  assertEquals(parseProxyHeader(text("PROXY UNKNOWN\r\n")), {
    kind: "header",
    length: 15,
    source: undefined,
  });
  for (const partial of ["P", "PROXY", "PROXY TCP4 1.2.3.4"]) {
    assertEquals(parseProxyHeader(text(partial)), { kind: "incomplete" }, partial);
  }
  for (
    const bad of [
      "LOGIN x\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
      "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n",
      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY " + "x".repeat(120),
    ]
  ) {
    assertEquals(parseProxyHeader(text(bad)).kind, "invalid", bad);
  }
});

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A PROXY v2 header for TCP over IPv4, from 198.51.100.9:8080 to 10.0.0.1:4000, then `tlvs`. */
function tcp4Header(tlvs: readonly number[]): Uint8Array {
  const addresses = [198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x0f, 0xa0];
  const length = addresses.length + tlvs.length;
  return Uint8Array.of(...SIGNATURE, 0x21, 0x11, length >> 8, length & 0xff, ...addresses, ...tlvs);
}

Deno.test("PROXY v2: TCP over IPv4 and IPv6, LOCAL, TLVs skipped, and partial headers", () => {
  const v4 = tcp4Header([0x04, 0, 0]); // one empty TLV
  assertEquals(parseProxyHeader(v4), {
    kind: "header",
    length: 31,
    source: { ip: "198.51.100.9", port: 8080 },
  });
  for (let cut = 1; cut < v4.length; cut++) {
    assertEquals(
      parseProxyHeader(v4.subarray(0, cut)),
      { kind: "incomplete" },
      `cut at ${cut}`,
    );
  }
  const src6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x42];
  const v6 = Uint8Array.of(
    ...SIGNATURE,
    0x21,
    0x21,
    0,
    36,
    ...src6,
    ...new Array(16).fill(0),
    0,
    80,
    0,
    81,
  );
  assertEquals(parseProxyHeader(v6), {
    kind: "header",
    length: 52,
    source: { ip: "2001:db8::42", port: 80 },
  });
  const local = Uint8Array.of(...SIGNATURE, 0x20, 0x00, 0, 0);
  assertEquals(parseProxyHeader(local), { kind: "header", length: 16, source: undefined });
  const badVersion = Uint8Array.of(...SIGNATURE, 0x31, 0x11, 0, 12, ...new Array(12).fill(0));
  assertEquals(parseProxyHeader(badVersion).kind, "invalid");
  const shortBlock = Uint8Array.of(...SIGNATURE, 0x21, 0x11, 0, 4, 1, 2, 3, 4);
  assertEquals(parseProxyHeader(shortBlock).kind, "invalid");
});

/** A socket's read side that hands out `chunks` one read at a time, then the end of input. */
class FakeReader {
  readonly #chunks: (Uint8Array | Error)[];
  /** The size of each buffer it was asked to read into. */
  readonly asked: number[] = [];

  constructor(...chunks: (Uint8Array | Error)[]) {
    this.#chunks = chunks;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.asked.push(buffer.length);
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    if (chunk instanceof Error) return Promise.reject(chunk);
    // As a socket does, a read takes what fits and leaves the rest for the next.
    if (chunk.length > buffer.length) this.#chunks.unshift(chunk.subarray(buffer.length));
    const count = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, count));
    return Promise.resolve(count);
  }
}

/** `bytes` cut into reads of `size` bytes. */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

Deno.test("readProxyHeader reads a header sent a byte at a time, and hands back the client's bytes after it", async () => {
  const counter = { bytesIn: 0 };
  const sent = text("PROXY TCP4 203.0.113.7 192.0.2.1 5555 4000\r\nLOGIN x\n");
  // The header's last byte comes with the client's first line.
  const reader = new FakeReader(...pieces(sent.subarray(0, 43), 1), sent.subarray(43));
  const read = await readProxyHeader(reader, counter);
  assertEquals(read, {
    kind: "header",
    source: { ip: "203.0.113.7", port: 5555 },
    rest: text("LOGIN x\n"),
  });
  assertStrictEquals(counter.bytesIn, sent.length);
  assertEquals(reader.asked.length, 44, "one read per piece, none after the header");
});

Deno.test("readProxyHeader gives no rest when the header came alone, and no source for UNKNOWN", async () => {
  assertEquals(await readProxyHeader(new FakeReader(text("PROXY UNKNOWN\r\n"))), {
    kind: "header",
    source: undefined,
    rest: undefined,
  });
});

Deno.test("readProxyHeader grows its buffer for a v2 header longer than its first read", async () => {
  const header = tcp4Header(new Array(300).fill(0));
  const sent = Uint8Array.of(...header, ...text("PING\n"));
  const reader = new FakeReader(...pieces(sent, 100));
  assertEquals(await readProxyHeader(reader), {
    kind: "header",
    source: { ip: "198.51.100.9", port: 8080 },
    rest: text("PING\n"),
  });
  // 256 bytes at first, doubled once full; each read takes at most one piece, or what fits of it.
  assertEquals(reader.asked, [256, 156, 56, 256, 212]);
});

Deno.test("readProxyHeader stops at the first bytes that cannot start a header, and at the end of input or a failed read", async () => {
  assertEquals(await readProxyHeader(new FakeReader(text("LOGIN sneaky\n"))), {
    kind: "invalid",
    reason: "no PROXY header",
  });
  assertEquals(await readProxyHeader(new FakeReader(text("PROXY TCP4"))), { kind: "ended" });
  const counter = { bytesIn: 0 };
  const reset = new FakeReader(text("PROXY "), new Deno.errors.ConnectionReset("reset"));
  assertEquals(await readProxyHeader(reset, counter), { kind: "ended" });
  assertEquals(counter.bytesIn, 6);
});
