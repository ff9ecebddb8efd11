/** The login throttle on an injected clock: its rules as pure functions, and its bounded maps. */
import { assertEquals } from "@std/assert";
import { LoginThrottle } from "../lib/accounts/login_throttle.ts";
import {
  addressKey,
  beginTry,
  currentLevel,
  DEFAULT_LIMITS,
  settleTry,
} from "../lib/accounts/throttle_rules.ts";

/** A clock the test moves by hand. */
class FakeClock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
}

function throttle(maxEntries?: number): { clock: FakeClock; throttle: LoginThrottle } {
  const clock = new FakeClock();
  const options = maxEntries === undefined ? { now: clock.now } : { now: clock.now, maxEntries };
  return { clock, throttle: new LoginThrottle(options) };
}

/** `count` tries that fail, one after another; what `begin` said to each. */
function failTimes(t: LoginThrottle, account: string, address: string, count: number): string[] {
  const said: string[] = [];
  for (let i = 0; i < count; i++) {
    const decision = t.begin(account, address);
    said.push(decision);
    if (decision === "go") t.failed(account, address);
  }
  return said;
}

Deno.test("LoginThrottle pauses an account and address for 10 s after 5 failures in a row", () => {
  const { clock, throttle: t } = throttle();
  assertEquals(failTimes(t, "alice", "192.0.2.1", 6), ["go", "go", "go", "go", "go", "throttled"]);
  clock.ms += 9_999;
  assertEquals(t.begin("alice", "192.0.2.1"), "throttled", "a throttled try does not count");
  clock.ms += 1;
  assertEquals(t.begin("alice", "192.0.2.1"), "go", "10 s after the last failure");
  t.failed("alice", "192.0.2.1");
  assertEquals(t.begin("alice", "192.0.2.1"), "throttled", "the 6th failure pauses again");
  // Another address for the account, another account from the address: not paused.
  assertEquals(t.begin("alice", "192.0.2.2"), "go");
  t.failed("alice", "192.0.2.2");
  assertEquals(t.begin("bob", "192.0.2.1"), "go");
  t.failed("bob", "192.0.2.1");
});

Deno.test("LoginThrottle counts a try when it starts: of 100 sent at once, 5 are checked", () => {
  const { throttle: t } = throttle();
  const decisions = Array.from({ length: 100 }, () => t.begin("alice", "192.0.2.1"));
  assertEquals(decisions.filter((d) => d === "go").length, 5);
  assertEquals(decisions.slice(0, 6), ["go", "go", "go", "go", "go", "throttled"]);
  for (let i = 0; i < 5; i++) t.failed("alice", "192.0.2.1");
  assertEquals(t.begin("alice", "192.0.2.1"), "throttled");
});

Deno.test("LoginThrottle: a success resets only that account and address's run", () => {
  const { throttle: t } = throttle();
  failTimes(t, "alice", "192.0.2.1", 4);
  failTimes(t, "alice", "192.0.2.2", 5);
  assertEquals(t.begin("alice", "192.0.2.1"), "go");
  t.succeeded("alice", "192.0.2.1");
  assertEquals(t.begin("alice", "192.0.2.2"), "throttled");
  // The run from .1 starts over: five more failures before a pause.
  assertEquals(failTimes(t, "alice", "192.0.2.1", 6), ["go", "go", "go", "go", "go", "throttled"]);
});

Deno.test("LoginThrottle: a try not checked after all counts nowhere", () => {
  const { throttle: t } = throttle();
  for (let i = 0; i < 20; i++) {
    assertEquals(t.begin("alice", "192.0.2.1"), "go");
    t.abandoned("alice", "192.0.2.1");
  }
  assertEquals(t.size, { runs: 0, accounts: 0, addresses: 0 });
});

Deno.test("LoginThrottle: an account's ceiling of 50 failures across addresses, leaking one per 12 s", () => {
  const { clock, throttle: t } = throttle();
  for (let i = 1; i <= 50; i++) assertEquals(failTimes(t, "alice", `10.0.0.${i}`, 1), ["go"]);
  assertEquals(t.begin("alice", "10.0.1.1"), "throttled", "from a fresh address too");
  assertEquals(t.begin("bob", "10.0.1.1"), "go", "other accounts are not held");
  t.succeeded("bob", "10.0.1.1");
  clock.ms += 11_999;
  assertEquals(t.begin("alice", "10.0.1.1"), "throttled");
  clock.ms += 1;
  assertEquals(t.begin("alice", "10.0.1.1"), "go");
  t.failed("alice", "10.0.1.1");
  assertEquals(t.begin("alice", "10.0.1.2"), "throttled");
});

Deno.test("LoginThrottle: an address's ceiling of 100 failures across accounts, unknown accounts included", () => {
  const { clock, throttle: t } = throttle();
  for (let i = 0; i < 60; i++) {
    assertEquals(t.begin(`user${i}`, "192.0.2.7"), "go");
    t.failed(`user${i}`, "192.0.2.7");
  }
  for (let i = 0; i < 40; i++) {
    assertEquals(t.begin(`nobody${i}`, "192.0.2.7"), "go");
    t.unknownAccount(`nobody${i}`, "192.0.2.7");
  }
  assertEquals(t.size, { runs: 60, accounts: 60, addresses: 1 }, "unknown accounts keep no record");
  assertEquals(t.begin("carol", "192.0.2.7"), "throttled");
  assertEquals(t.begin("carol", "192.0.2.8"), "go");
  t.succeeded("carol", "192.0.2.8");
  clock.ms += 6_000; // 100 per 600 s: one leaks every 6 s
  assertEquals(t.begin("carol", "192.0.2.7"), "go");
});

Deno.test("LoginThrottle groups IPv6 by its /64 and takes IPv4-mapped IPv6 as IPv4", () => {
  const { throttle: t } = throttle();
  const hosts = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:DB8:1:2:aaaa::3", "[2001:db8:1:2::4]"];
  for (const host of hosts) failTimes(t, "alice", host, 1);
  failTimes(t, "alice", "2001:db8:1:2:ffff:ffff:ffff:ffff", 1);
  assertEquals(t.begin("alice", "2001:db8:1:2::9"), "throttled");
  assertEquals(t.begin("alice", "2001:db8:1:3::1"), "go", "the next /64");
  failTimes(t, "bob", "::ffff:198.51.100.4", 5);
  assertEquals(t.begin("bob", "198.51.100.4"), "throttled");
  assertEquals(
    ["2001:db8:1:2:3:4:5:6", "::ffff:198.51.100.4", "198.51.100.4", "::1", "unix"].map(addressKey),
    ["2001:db8:1:2::/64", "198.51.100.4", "198.51.100.4", "::/64", "unix"],
  );
});

Deno.test("LoginThrottle forgets a run 10 minutes after its last failure, and its records expire", () => {
  const { clock, throttle: t } = throttle();
  failTimes(t, "alice", "192.0.2.1", 5);
  clock.ms += 599_999;
  failTimes(t, "bob", "192.0.2.9", 1); // each try drops a few expired records
  // Alice's five leaked out of both ceilings within a minute; her run is still held.
  assertEquals(t.size, { runs: 2, accounts: 1, addresses: 1 });
  clock.ms += 1;
  assertEquals(t.begin("alice", "192.0.2.1"), "go");
  t.failed("alice", "192.0.2.1");
  assertEquals(t.begin("alice", "192.0.2.1"), "go", "a run of one: the old five were forgotten");
  t.succeeded("alice", "192.0.2.1");
  clock.ms += 600_000;
  t.begin("carol", "192.0.2.5");
  t.succeeded("carol", "192.0.2.5");
  assertEquals(t.size, { runs: 0, accounts: 0, addresses: 0 });
});

Deno.test("LoginThrottle at its cap refuses new keys and never forgets a throttled one", () => {
  const { clock, throttle: t } = throttle(3);
  failTimes(t, "mallory", "192.0.2.66", 5);
  failTimes(t, "a", "192.0.2.1", 1);
  failTimes(t, "b", "192.0.2.2", 1);
  assertEquals(t.size, { runs: 3, accounts: 3, addresses: 3 });
  assertEquals(t.begin("c", "192.0.2.3"), "throttled", "no room: refused, nothing dropped");
  assertEquals(t.refusedFull, 1);
  assertEquals(t.begin("mallory", "192.0.2.66"), "throttled");
  assertEquals(t.begin("a", "192.0.2.1"), "go", "a key already held still counts");
  t.failed("a", "192.0.2.1");
  clock.ms += 600_000;
  assertEquals(t.begin("c", "192.0.2.3"), "go", "expired records make room");
  t.failed("c", "192.0.2.3");
  assertEquals(t.refusedFull, 1);
});

Deno.test("throttle rules: counts in, counts out", () => {
  const limits = DEFAULT_LIMITS;
  const empty = { run: undefined, account: undefined, address: undefined };
  const begun = beginTry(empty, 5000, limits);
  assertEquals(begun, {
    decision: "go",
    counts: {
      run: { failures: 1, lastMs: 5000 },
      account: { level: 1, atMs: 5000 },
      address: { level: 1, atMs: 5000 },
    },
  });
  assertEquals(settleTry(begun.counts, "failed", 6000, limits), {
    run: { failures: 1, lastMs: 6000 },
    account: { level: 1 - 1000 / 12_000, atMs: 6000 },
    address: { level: 1 - 1000 / 6_000, atMs: 6000 },
  });
  assertEquals(settleTry(begun.counts, "succeeded", 5000, limits), empty);
  assertEquals(settleTry(begun.counts, "abandoned", 5000, limits), empty);
  assertEquals(settleTry(begun.counts, "unknown-account", 5000, limits), {
    run: undefined,
    account: undefined,
    address: { level: 1, atMs: 5000 },
  });
  // 50 at once leaks to 49 in 12 s; a clock set back leaks nothing.
  assertEquals(currentLevel({ level: 50, atMs: 0 }, 50, 12_000, limits), {
    level: 49,
    atMs: 12_000,
  });
  assertEquals(currentLevel({ level: 50, atMs: 10_000 }, 50, 0, limits), {
    level: 50,
    atMs: 10_000,
  });
  assertEquals(currentLevel({ level: 50, atMs: 0 }, 50, 600_000, limits), undefined);
});
