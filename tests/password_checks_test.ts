/**
 * PasswordChecks: a bounded number at once behind a bounded queue. The
 * bound and order are tested over a hasher the test finishes by hand, and
 * once over real scrypt at a cheap cost.
 */
import { assertEquals, assertThrows } from "@std/assert";
import {
  type HashOutcome,
  PasswordChecks,
  type PasswordHasher,
  type VerifyOutcome,
} from "../lib/accounts/password_checks.ts";
import { hashPassword, verifyPassword } from "../lib/accounts/password_hash.ts";

/** A hasher whose every call waits until the test finishes it; it records what ran and how many at once. */
class HandHasher implements PasswordHasher {
  readonly started: string[] = [];
  readonly #pending: (() => void)[] = [];
  running = 0;
  mostAtOnce = 0;

  hash(password: string): Promise<string> {
    return this.#wait(`hash ${password}`).then(() => `hash-of-${password}`);
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.#wait(`verify ${password}`).then(() => stored === `hash-of-${password}`);
  }

  /** Finishes the oldest running call. */
  finishOne(): void {
    this.#pending.shift()!();
  }

  #wait(label: string): Promise<void> {
    this.started.push(label);
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    return new Promise((resolve) =>
      this.#pending.push(() => {
        this.running--;
        resolve();
      })
    );
  }
}

/** Records the order in which promises settle. */
function settleOrder<T>(promises: Promise<T>[]): string[] {
  const order: string[] = [];
  promises.forEach((promise, i) => promise.then(() => order.push(`#${i + 1}`)));
  return order;
}

Deno.test("PasswordChecks with concurrency 1 and queue 2 refuses the 4th request at once, runs the rest in order", async () => {
  const hasher = new HandHasher();
  const checks = new PasswordChecks({ concurrency: 1, queue: 2, hasher });
  const requests = [
    checks.verify("one", "hash-of-one"),
    checks.verify("two", "hash-of-other"),
    checks.hash("three"),
    checks.verify("four", "hash-of-four"),
  ];
  const order = settleOrder<unknown>(requests);
  assertEquals(await requests[3], { kind: "refused" });
  assertEquals(order, ["#4"], "refused before any work finished");
  assertEquals([checks.running, checks.waiting], [1, 2]);
  assertEquals(hasher.started, ["verify one"]);
  hasher.finishOne();
  assertEquals(await requests[0], { kind: "match" });
  assertEquals(hasher.started, ["verify one", "verify two"]);
  hasher.finishOne();
  assertEquals(await requests[1], { kind: "mismatch" });
  hasher.finishOne();
  assertEquals(await requests[2], { kind: "hashed", hash: "hash-of-three" });
  assertEquals(order, ["#4", "#1", "#2", "#3"]);
  assertEquals(hasher.mostAtOnce, 1);
  assertEquals([checks.running, checks.waiting], [0, 0]);
  // With the queue drained there is room again.
  const again = checks.verify("five", "hash-of-five");
  hasher.finishOne();
  assertEquals(await again, { kind: "match" });
  await checks.close();
});

Deno.test("PasswordChecks with concurrency 2 runs two at once and never three", async () => {
  const hasher = new HandHasher();
  const checks = new PasswordChecks({ concurrency: 2, queue: 1, hasher });
  const requests = ["a", "b", "c", "d"].map((p) => checks.verify(p, `hash-of-${p}`));
  assertEquals(await requests[3], { kind: "refused" });
  assertEquals(hasher.started, ["verify a", "verify b"]);
  hasher.finishOne();
  await requests[0];
  assertEquals(hasher.started, ["verify a", "verify b", "verify c"]);
  hasher.finishOne();
  hasher.finishOne();
  assertEquals(await Promise.all(requests.slice(0, 3)), [
    { kind: "match" },
    { kind: "match" },
    { kind: "match" },
  ]);
  assertEquals(hasher.mostAtOnce, 2);
  await checks.close();
});

Deno.test("PasswordChecks.close refuses what waits and later requests, and waits for the running one", async () => {
  const hasher = new HandHasher();
  const checks = new PasswordChecks({ concurrency: 1, queue: 8, hasher });
  const running = checks.hash("first");
  const waiting = [checks.hash("second"), checks.verify("third", "x")];
  let closed = false;
  const closing = checks.close().then(() => closed = true);
  assertEquals(await Promise.all(waiting), [{ kind: "refused" }, { kind: "refused" }]);
  assertEquals(await checks.verify("late", "x"), { kind: "refused" });
  assertEquals(closed, false, "the running hash is still under way");
  hasher.finishOne();
  assertEquals(await running, { kind: "hashed", hash: "hash-of-first" });
  await closing;
  assertEquals(closed, true);
  assertEquals(hasher.started, ["hash first"]);
  await checks.close(); // idempotent
});

Deno.test("PasswordChecks answers refused, with nothing of the password, when the hasher throws", async () => {
  const secret = "s3cret-pass";
  const hasher: PasswordHasher = {
    hash: (password) => Promise.reject(new Error(`cannot hash ${password}`)),
    verify: (password) => {
      throw new Error(`cannot verify ${password}`);
    },
  };
  const checks = new PasswordChecks({ hasher });
  const outcomes: (HashOutcome | VerifyOutcome)[] = [
    await checks.hash(secret),
    await checks.verify(secret, "x"),
  ];
  assertEquals(outcomes, [{ kind: "refused" }, { kind: "refused" }]);
  assertEquals(JSON.stringify(outcomes).includes(secret), false);
  await checks.close();
});

Deno.test("PasswordChecks over real scrypt: the 4th of 4 at once is refused, the rest answered right", async () => {
  const cheap = { logN: 10, r: 8, p: 1 };
  const stored = await hashPassword("right-password", cheap);
  const checks = new PasswordChecks({
    concurrency: 1,
    queue: 2,
    hasher: { hash: (password) => hashPassword(password, cheap), verify: verifyPassword },
  });
  const outcomes = await Promise.all([
    checks.verify("right-password", stored),
    checks.verify("wrong-password", stored),
    checks.hash("new-password"),
    checks.verify("right-password", stored),
  ]);
  assertEquals(outcomes.map((outcome) => outcome.kind), ["match", "mismatch", "hashed", "refused"]);
  const hashed = outcomes[2] as { kind: "hashed"; hash: string };
  assertEquals(await verifyPassword("new-password", hashed.hash), true);
  await checks.close();
});

Deno.test("PasswordChecks refuses bounds out of range", () => {
  assertThrows(() => new PasswordChecks({ concurrency: 3 }), RangeError, "concurrency 3");
  assertThrows(() => new PasswordChecks({ concurrency: 0 }), RangeError, "concurrency 0");
  assertThrows(() => new PasswordChecks({ queue: -1 }), RangeError, "queue -1");
  const checks = new PasswordChecks({ queue: 0 });
  assertEquals([checks.concurrency, checks.queueLimit], [1, 0]);
});
