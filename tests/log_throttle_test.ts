import { LogThrottle } from "../lib/log_throttle.ts";
import { assert } from "./helpers.ts";

Deno.test("a throttled line is reported at once, then at most once an interval with the count held back", () => {
  const throttle = new LogThrottle(1000);
  assert.equal(throttle.count(0), 1);
  assert.equal(throttle.count(100), 0);
  assert.equal(throttle.count(999), 0);
  assert.equal(throttle.count(1000), 3);
  assert.equal(throttle.count(5000), 1);
});
