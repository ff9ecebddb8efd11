import { assertEquals } from "@std/assert";
import { HandshakeLimits } from "../lib/tls_handshakes.ts";

Deno.test("handshakes under way are limited in all and per address; exempt addresses only in all", () => {
  const limits = new HandshakeLimits(4, 2, (ip) => ip === "10.0.0.9");
  assertEquals(limits.admit("10.0.0.1"), "counted");
  assertEquals(limits.admit("10.0.0.1"), "counted");
  assertEquals(limits.admit("10.0.0.1"), "address");
  assertEquals(limits.admit("10.0.0.9"), "uncounted");
  assertEquals(limits.admit("10.0.0.9"), "uncounted");
  assertEquals(limits.admit("10.0.0.2"), "all");
  limits.release("10.0.0.1", true);
  assertEquals(limits.admit("10.0.0.1"), "counted");
  limits.release("10.0.0.9", false);
  assertEquals(limits.admit("10.0.0.2"), "counted");
});
