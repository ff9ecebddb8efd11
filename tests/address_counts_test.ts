/** Open connections counted per address, against --max-clients-per-ip. */
import { assertEquals } from "@std/assert";
import { AddressCounts } from "../lib/address_counts.ts";

Deno.test("AddressCounts counts up to its limit per address, then says full without counting", () => {
  const counts = new AddressCounts(2);
  assertEquals(counts.add("192.0.2.1"), "counted");
  assertEquals(counts.add("192.0.2.1"), "counted");
  assertEquals(counts.add("192.0.2.1"), "full");
  assertEquals(counts.count("192.0.2.1"), 2);
  assertEquals(counts.add("192.0.2.2"), "counted", "another address has its own count");
  counts.remove("192.0.2.1");
  assertEquals(counts.count("192.0.2.1"), 1);
  assertEquals(counts.add("192.0.2.1"), "counted", "a closed connection frees its place at once");
  assertEquals(counts.add("192.0.2.1"), "full");
});

Deno.test("AddressCounts leaves exempt addresses uncounted, and asks nothing when there is no limit", () => {
  const asked: string[] = [];
  const exempt = (ip: string) => {
    asked.push(ip);
    return ip === "127.0.0.1";
  };
  const limited = new AddressCounts(1, exempt);
  assertEquals(limited.add("127.0.0.1"), "uncounted");
  assertEquals(limited.add("127.0.0.1"), "uncounted");
  assertEquals(limited.count("127.0.0.1"), 0);
  assertEquals(limited.add("192.0.2.1"), "counted");
  assertEquals(asked, ["127.0.0.1", "127.0.0.1", "192.0.2.1"]);
  const unlimited = new AddressCounts(0, exempt);
  assertEquals(unlimited.add("192.0.2.1"), "uncounted");
  assertEquals(unlimited.count("192.0.2.1"), 0);
  assertEquals(asked.length, 3);
});

Deno.test("AddressCounts forgets an address at zero, and everything on clear", () => {
  const counts = new AddressCounts(3);
  counts.add("192.0.2.1");
  counts.add("192.0.2.2");
  counts.add("192.0.2.2");
  counts.remove("192.0.2.1");
  assertEquals(counts.count("192.0.2.1"), 0);
  counts.clear();
  assertEquals(counts.count("192.0.2.2"), 0);
  for (let i = 0; i < 3; i++) assertEquals(counts.add("192.0.2.2"), "counted");
});
