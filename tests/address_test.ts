/** Unit tests of address parsing, CIDR matching and canonical address text. */
import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import {
  canonicalIp,
  CidrList,
  formatCidr,
  formatIp,
  inCidr,
  parseCidr,
  parseIp,
  remembered,
} from "../lib/address.ts";

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
  for (const [text, canonical] of cases) {
    assertStrictEquals(formatIp(parseIp(text)!), canonical, text);
  }
  for (
    const bad of ["256.1.1.1", "1.2.3", "1.2.3.4.5", "::1::2", "12345::", "a:b:c:d:e:f:g:h", ""]
  ) {
    assertEquals(parseIp(bad), undefined, bad);
  }
});

Deno.test("CIDR networks match the addresses inside them and no others", () => {
  const net = (text: string) => parseCidr(text)!;
  assert(inCidr(parseIp("10.255.0.1")!, net("10.0.0.0/8")));
  assert(!inCidr(parseIp("11.0.0.1")!, net("10.0.0.0/8")));
  assert(inCidr(parseIp("192.168.1.130")!, net("192.168.1.128/25")));
  assert(!inCidr(parseIp("192.168.1.127")!, net("192.168.1.128/25")));
  assert(inCidr(parseIp("2001:db8:ffff::1")!, net("2001:db8::/32")));
  assert(!inCidr(parseIp("127.0.0.1")!, net("::1")), "IPv4 is never in an IPv6 network");
  assert(inCidr(parseIp("::ffff:127.0.0.9")!, net("127.0.0.0/8")));
  assert(inCidr(parseIp("1.2.3.4")!, net("0.0.0.0/0")));
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8/8", "host/8"]) {
    assertEquals(parseCidr(bad), undefined, bad);
  }
  const list = new CidrList(["127.0.0.0/8", "::1"].map(net));
  assert(list.has("127.1.2.3") && list.has("::1") && list.has("::ffff:127.0.0.1"));
  assert(!list.has("10.0.0.1") && !list.has("not an address"));
  assert(!new CidrList([]).has("127.0.0.1"));
});

Deno.test("CidrList.from parses a list, prints it canonical, and names the first bad item", () => {
  const list = CidrList.from(["10.0.0.0/8", "::ffff:192.0.2.0/120", "2001:DB8::/32", "::1"]);
  assertEquals(String(list), "10.0.0.0/8,192.0.2.0/24,2001:db8::/32,::1");
  assertEquals(list.networks.map(formatCidr), [
    "10.0.0.0/8",
    "192.0.2.0/24",
    "2001:db8::/32",
    "::1",
  ]);
  assert(list.has("192.0.2.200") && !list.has("192.0.3.1"));
  assertEquals(String(CidrList.from([])), "");
  const error = assertThrows(() => CidrList.from(["10.0.0.1", "10.0.0.0/33", "nope"]), SyntaxError);
  assertEquals(error.message, "Not an address or CIDR network: 10.0.0.0/33");
});

Deno.test("canonicalIp folds IPv4-mapped IPv6 and upper case, and leaves IPv4 and what does not parse alone", () => {
  const hostnames = ["127.0.0.1", "::ffff:10.1.2.3", "2001:DB8:0:0::1", "::1", "not:an:address"];
  assertEquals(hostnames.map(canonicalIp), [
    "127.0.0.1",
    "10.1.2.3",
    "2001:db8::1",
    "::1",
    "not:an:address",
  ]);
});

Deno.test("remembered answers as the list does, asks it once per address, and starts over past its bound", () => {
  const asked: string[] = [];
  const list = { has: (ip: string) => (asked.push(ip), ip.startsWith("10.")) };
  const exempt = remembered(list, 2);
  assertEquals(exempt("10.0.0.1"), true);
  assertEquals(exempt("10.0.0.1"), true);
  assertEquals(exempt("192.0.2.1"), false);
  assertEquals(asked, ["10.0.0.1", "192.0.2.1"]);
  exempt("192.0.2.2");
  exempt("10.0.0.1");
  assertEquals(asked, ["10.0.0.1", "192.0.2.1", "192.0.2.2", "10.0.0.1"]);
});
