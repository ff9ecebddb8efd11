import { HandshakeLimits } from "../lib/tls_handshakes.ts";
import { assert } from "./helpers.ts";

Deno.test("handshakes under way are limited in all and per address; exempt addresses only in all", () => {
  const limits = new HandshakeLimits(4, 2, (ip) => ip === "10.0.0.9");
  assert.equal(limits.admit("10.0.0.1"), "counted");
  assert.equal(limits.admit("10.0.0.1"), "counted");
  assert.equal(limits.admit("10.0.0.1"), "address");
  assert.equal(limits.admit("10.0.0.9"), "uncounted");
  assert.equal(limits.admit("10.0.0.9"), "uncounted");
  assert.equal(limits.admit("10.0.0.2"), "all");
  limits.release("10.0.0.1", true);
  assert.equal(limits.admit("10.0.0.1"), "counted");
  limits.release("10.0.0.9", false);
  assert.equal(limits.admit("10.0.0.2"), "counted");
});
