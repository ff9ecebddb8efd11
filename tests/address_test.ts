/** Unit tests of address parsing, CIDR matching and the PROXY protocol parser. */
import { CidrList, formatIp, inCidr, parseCidr, parseIp } from "../lib/address.ts";
import { parseProxyHeader } from "../lib/proxy_protocol.ts";
import { assert } from "./helpers.ts";

Deno.test("parseIp reads IPv4, IPv6, brackets and zones, and folds IPv4-mapped IPv6 to IPv4", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["2001:DB8::1", "2001:db8::1"],
    ["fe80::1%eth0", "fe80::1"],
    ["0:0:0:0:0:0:0:0", "::"],
  ];
  for (const [text, canonical] of cases) assert.equal(formatIp(parseIp(text)!), canonical, text);
  for (
    const bad of ["256.1.1.1", "1.2.3", "1.2.3.4.5", "::1::2", "12345::", "a:b:c:d:e:f:g:h", ""]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("CIDR networks match the addresses inside them and no others", () => {
  const net = (text: string) => parseCidr(text)!;
  assert.ok(inCidr(parseIp("10.255.0.1")!, net("10.0.0.0/8")));
  assert.ok(!inCidr(parseIp("11.0.0.1")!, net("10.0.0.0/8")));
  assert.ok(inCidr(parseIp("192.168.1.130")!, net("192.168.1.128/25")));
  assert.ok(!inCidr(parseIp("192.168.1.127")!, net("192.168.1.128/25")));
  assert.ok(inCidr(parseIp("2001:db8:ffff::1")!, net("2001:db8::/32")));
  assert.ok(!inCidr(parseIp("127.0.0.1")!, net("::1")), "IPv4 is never in an IPv6 network");
  assert.ok(inCidr(parseIp("::ffff:127.0.0.9")!, net("127.0.0.0/8")));
  assert.ok(inCidr(parseIp("1.2.3.4")!, net("0.0.0.0/0")));
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "host/8"]) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
  const list = new CidrList(["127.0.0.0/8", "::1"].map(net));
  assert.ok(list.has("127.1.2.3") && list.has("::1") && list.has("::ffff:127.0.0.1"));
  assert.ok(!list.has("10.0.0.1") && !list.has("not an address"));
  assert.ok(!new CidrList([]).has("127.0.0.1"));
});

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("PROXY v1: TCP4, TCP6 and UNKNOWN headers, what follows them, and bad lines", () => {
  const header = parseProxyHeader(text("PROXY TCP4 203.0.113.7 192.0.2.1 5555 4000\r\nLOGIN x\n"));
  assert.deepEqual(header, {
    kind: "header",
    length: 44,
    source: { ip: "203.0.113.7", port: 5555 },
  });
  assert.deepEqual(parseProxyHeader(text("PROXY TCP6 2001:db8::7 ::1 1 2\r\n")), {
    kind: "header",
    length: 32,
    source: { ip: "2001:db8::7", port: 1 },
  });
  assert.deepEqual(parseProxyHeader(text("PROXY UNKNOWN\r\n")), {
    kind: "header",
    length: 15,
    source: undefined,
  });
  for (const partial of ["P", "PROXY", "PROXY TCP4 1.2.3.4"]) {
    assert.deepEqual(parseProxyHeader(text(partial)), { kind: "incomplete" }, partial);
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
    assert.equal(parseProxyHeader(text(bad)).kind, "invalid", bad);
  }
});

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

Deno.test("PROXY v2: TCP over IPv4 and IPv6, LOCAL, TLVs skipped, and partial headers", () => {
  const v4 = Uint8Array.of(
    ...SIGNATURE,
    0x21,
    0x11,
    0,
    15,
    198,
    51,
    100,
    9,
    10,
    0,
    0,
    1,
    0x1f,
    0x90,
    0x0f,
    0xa0,
    0x04,
    0,
    0,
  );
  assert.deepEqual(parseProxyHeader(v4), {
    kind: "header",
    length: 31,
    source: { ip: "198.51.100.9", port: 8080 },
  });
  for (let cut = 1; cut < v4.length; cut++) {
    assert.deepEqual(
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
  assert.deepEqual(parseProxyHeader(v6), {
    kind: "header",
    length: 52,
    source: { ip: "2001:db8::42", port: 80 },
  });
  const local = Uint8Array.of(...SIGNATURE, 0x20, 0x00, 0, 0);
  assert.deepEqual(parseProxyHeader(local), { kind: "header", length: 16, source: undefined });
  const badVersion = Uint8Array.of(...SIGNATURE, 0x31, 0x11, 0, 12, ...new Array(12).fill(0));
  assert.equal(parseProxyHeader(badVersion).kind, "invalid");
  const shortBlock = Uint8Array.of(...SIGNATURE, 0x21, 0x11, 0, 4, 1, 2, 3, 4);
  assert.equal(parseProxyHeader(shortBlock).kind, "invalid");
});
