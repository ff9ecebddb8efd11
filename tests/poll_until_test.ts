/** `pollUntil`, the tests' one poll loop: what it returns, and how it fails. */
import { assertEquals, assertMatch, assertRejects } from "@std/assert";
import { pollUntil } from "./helpers.ts";

Deno.test("pollUntil resolves with the first answer that holds, asking until then", async () => {
  let asked = 0;
  const value = await pollUntil("the third ask", () => ++asked, (n) => n === 3, { everyMs: 1 });
  assertEquals([value, asked], [3, 3]);
});

Deno.test("pollUntil fails after its deadline, naming what it waited for and the last answer", async () => {
  await assertRejects(
    () => pollUntil("a door to open", () => ({ open: false }), (door) => door.open, { ms: 30 }),
    Error,
    'Timed out after 30 ms waiting for a door to open; last: {"open":false}',
  );
});

Deno.test("pollUntil fails when a probe never answers, under the same deadline", async () => {
  let never: ((value: boolean) => void) | undefined;
  const hanging = new Promise<boolean>((resolve) => never = resolve);
  const error = await assertRejects(
    () => pollUntil("a probe that hangs", () => hanging, Boolean, { ms: 30 }),
    Error,
  );
  // The probe gets what is left of the 30 ms, not 30 ms more.
  assertMatch(
    error.message,
    /^Timed out after (2\d|30)(\.\d+)? ms: a probe that hangs: a probe's answer$/,
  );
  never!(true);
});
