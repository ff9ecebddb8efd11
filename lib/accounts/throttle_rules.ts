/**
 * The login throttle's rules as pure functions: counts and a time in,
 * a decision and counts out. The in-process throttle (`login_throttle.ts`)
 * keeps the counts in maps; a Redis-backed one can keep the same three
 * records in hashes and apply the same functions, so instances share them.
 *
 * @module
 */
import { formatIp, parseIp } from "../address.ts";

/** The throttle's numbers. */
export interface ThrottleLimits {
  /** Failures in a row, for one account from one address, after which tries pause. */
  readonly runLength: number;
  /** How long after the last failure of such a run a try is refused unchecked, in ms. */
  readonly runPauseMs: number;
  /** A run with no failure for this long is forgotten, in ms. */
  readonly runForgetMs: number;
  /** Failures an account may gather from all addresses within {@linkcode ThrottleLimits.ceilingWindowMs}. */
  readonly accountCeiling: number;
  /** Failures an address may gather over all accounts within {@linkcode ThrottleLimits.ceilingWindowMs}. */
  readonly addressCeiling: number;
  /** The window of both ceilings, in ms: each leaks `ceiling / window` failures a ms. */
  readonly ceilingWindowMs: number;
}

/** The protocol's numbers, and this server's where it names none (docs/operations.md, "Passwords"). */
export const DEFAULT_LIMITS: ThrottleLimits = {
  runLength: 5,
  runPauseMs: 10_000,
  runForgetMs: 600_000,
  accountCeiling: 50,
  addressCeiling: 100,
  ceilingWindowMs: 600_000,
};

/** One account from one address: failures since its last success, and when the last one was. */
export interface Run {
  readonly failures: number;
  readonly lastMs: number;
}

/**
 * An account's or an address's failures as a leaky bucket: `level` as of
 * `atMs`, leaking at `ceiling / window`. Two numbers, however many failures.
 */
export interface Level {
  readonly level: number;
  readonly atMs: number;
}

/** The three records one try reads and writes; `undefined`: none (nothing counted). */
export interface Counts {
  readonly run: Run | undefined;
  readonly account: Level | undefined;
  readonly address: Level | undefined;
}

/** How a try that {@linkcode beginTry} let through ended. */
export type Settlement =
  /** The password was right: the run ends; this try was no failure. */
  | "succeeded"
  /** The password was wrong: the failure stands, and the pause counts from now. */
  | "failed"
  /** No such account: a failure for the address only. */
  | "unknown-account"
  /** Not checked (the checks were busy or closed, the store failed): it counts nowhere. */
  | "abandoned";

/** The part of an address that counts as one: IPv4 as it is, IPv6 by its /64; other text as it is. */
export function addressKey(address: string): string {
  const bytes = parseIp(address);
  if (bytes === undefined) return address;
  if (bytes.length === 4) return formatIp(bytes);
  const network = new Uint8Array(16);
  network.set(bytes.subarray(0, 8));
  return `${formatIp(network)}/64`;
}

/** `run` as of `nowMs`: `undefined` once forgotten. */
export function currentRun(
  run: Run | undefined,
  nowMs: number,
  limits: ThrottleLimits,
): Run | undefined {
  if (run === undefined || run.failures <= 0) return undefined;
  return nowMs - run.lastMs >= limits.runForgetMs ? undefined : run;
}

/** `level` leaked down to `nowMs`: `undefined` once empty. A clock set back leaks nothing. */
export function currentLevel(
  level: Level | undefined,
  ceiling: number,
  nowMs: number,
  limits: ThrottleLimits,
): Level | undefined {
  if (level === undefined) return undefined;
  const leaked = (Math.max(0, nowMs - level.atMs) * ceiling) / limits.ceilingWindowMs;
  const left = level.level - leaked;
  return left <= 0 ? undefined : { level: left, atMs: Math.max(nowMs, level.atMs) };
}

/** The counts as of `nowMs`, what has expired gone. */
export function currentCounts(counts: Counts, nowMs: number, limits: ThrottleLimits): Counts {
  return {
    run: currentRun(counts.run, nowMs, limits),
    account: currentLevel(counts.account, limits.accountCeiling, nowMs, limits),
    address: currentLevel(counts.address, limits.addressCeiling, nowMs, limits),
  };
}

/** Whether a try may be checked: `"throttled"` when a run pauses or a ceiling is reached. */
export function decide(counts: Counts, nowMs: number, limits: ThrottleLimits): "go" | "throttled" {
  const { run, account, address } = currentCounts(counts, nowMs, limits);
  if (run !== undefined && run.failures >= limits.runLength) {
    if (nowMs - run.lastMs < limits.runPauseMs) return "throttled";
  }
  // A ceiling is reached when one more failure would pass it.
  if ((account?.level ?? 0) + 1 > limits.accountCeiling) return "throttled";
  if ((address?.level ?? 0) + 1 > limits.addressCeiling) return "throttled";
  return "go";
}

function addLevel(level: Level | undefined, amount: number, nowMs: number): Level | undefined {
  const next = Math.max(0, (level?.level ?? 0) + amount);
  return next <= 0 ? undefined : { level: next, atMs: nowMs };
}

/**
 * A try starts: counted at once as a failure everywhere (so tries sent
 * together cannot slip past the bound while they are checked), or
 * `throttled` and counted nowhere.
 */
export function beginTry(
  counts: Counts,
  nowMs: number,
  limits: ThrottleLimits,
): { readonly decision: "go" | "throttled"; readonly counts: Counts } {
  const now = currentCounts(counts, nowMs, limits);
  const decision = decide(now, nowMs, limits);
  if (decision === "throttled") return { decision, counts: now };
  return {
    decision,
    counts: {
      run: { failures: (now.run?.failures ?? 0) + 1, lastMs: nowMs },
      account: addLevel(now.account, 1, nowMs),
      address: addLevel(now.address, 1, nowMs),
    },
  };
}

/** A try that {@linkcode beginTry} let through has ended as `how`: the counts that follow. */
export function settleTry(
  counts: Counts,
  how: Settlement,
  nowMs: number,
  limits: ThrottleLimits,
): Counts {
  const now = currentCounts(counts, nowMs, limits);
  const runLess = (): Run | undefined => {
    const failures = (now.run?.failures ?? 0) - 1;
    return failures <= 0 ? undefined : { failures, lastMs: now.run!.lastMs };
  };
  switch (how) {
    case "succeeded":
      return {
        run: undefined,
        account: addLevel(now.account, -1, nowMs),
        address: addLevel(now.address, -1, nowMs),
      };
    case "failed":
      return {
        run: { failures: Math.max(1, now.run?.failures ?? 0), lastMs: nowMs },
        account: now.account,
        address: now.address,
      };
    case "unknown-account":
      return { run: runLess(), account: addLevel(now.account, -1, nowMs), address: now.address };
    case "abandoned":
      return {
        run: runLess(),
        account: addLevel(now.account, -1, nowMs),
        address: addLevel(now.address, -1, nowMs),
      };
    default: {
      const unknown: never = how;
      throw new Error(`unknown settlement ${unknown}`);
    }
  }
}
