import { assertEquals } from "@std/assert";
import { LogThrottle } from "../lib/log_throttle.ts";

Deno.test("a throttled line is reported at once, then at most once an interval with the count held back", () => {
  const throttle = new LogThrottle(1000);
  assertEquals(throttle.count(0), 1);
  assertEquals(throttle.count(100), 0);
  assertEquals(throttle.count(999), 0);
  assertEquals(throttle.count(1000), 3);
  assertEquals(throttle.count(5000), 1);
});
