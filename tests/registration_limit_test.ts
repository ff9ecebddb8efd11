/** Unit tests of the registrations-per-address limit. */
import { assertEquals } from "@std/assert";
import {
  REGISTRATION_WINDOW_MS,
  RegistrationLimit,
  REGISTRATIONS_PER_ADDRESS,
} from "../lib/accounts/registration_limit.ts";

Deno.test("RegistrationLimit: 10 at once from an address, then one more as the window leaks", () => {
  let now = 1_000_000;
  const limit = new RegistrationLimit(() => now);
  const allowed = Array.from({ length: 12 }, () => limit.allow("192.0.2.7"));
  assertEquals(allowed, [...Array(REGISTRATIONS_PER_ADDRESS).fill(true), false, false]);
  assertEquals(limit.allow("192.0.2.8"), true, "another address counts apart");
  now += REGISTRATION_WINDOW_MS / REGISTRATIONS_PER_ADDRESS;
  assertEquals([limit.allow("192.0.2.7"), limit.allow("192.0.2.7")], [true, false]);
  now += REGISTRATION_WINDOW_MS;
  assertEquals(limit.allow("192.0.2.7"), true, "a full window later, empty again");
});

Deno.test("RegistrationLimit counts IPv6 by its /64", () => {
  const limit = new RegistrationLimit(() => 0, 2);
  assertEquals(
    [
      limit.allow("2001:db8:1:2::1"),
      limit.allow("2001:db8:1:2:ffff::9"),
      limit.allow("2001:db8:1:2::3"),
      limit.allow("2001:db8:1:3::1"),
    ],
    [true, true, false, true],
  );
});

Deno.test("RegistrationLimit full refuses new addresses rather than forget a count, and makes room once counts leak", () => {
  let now = 0;
  const limit = new RegistrationLimit(() => now, 1, 2);
  assertEquals([limit.allow("192.0.2.1"), limit.allow("192.0.2.2")], [true, true]);
  assertEquals(limit.allow("192.0.2.3"), false);
  assertEquals(limit.size, 2);
  now += REGISTRATION_WINDOW_MS;
  assertEquals(limit.allow("192.0.2.3"), true);
  assertEquals(limit.allow("192.0.2.1"), true, "its count had leaked away");
});
