/**
 * This instance's names in Redis: claims for logins (each bounded by the
 * login wait), releases, the reclaim that a join or a reconcile runs, and
 * the count check that tells when Redis and this instance disagree.
 *
 * @module
 */
import type { ClaimRefusal, ClusterEvent, LocalUser } from "../cluster.ts";
import type { ClientLink } from "../client_link.ts";
import type { Logger } from "../log.ts";
import { accountClaim, CLAIM_REFUSED_ACCOUNT } from "./account_scripts.ts";
import { decodeHolder, encodeHolder, type WireEvent } from "./cluster_wire.ts";
import type { RunScript } from "./connections.ts";
import { KEYS } from "./keys.ts";
import { CLAIM, LEAVE, REJOIN, RELEASE } from "./scripts.ts";
import type { ClusterTiming } from "./timing.ts";

/** Longest wait for Redis while leaving at shutdown. */
const LEAVE_TIMEOUT_MS = 1000;
/** Least time between two reconciliations of the names held here with those Redis counts. */
const RECONCILE_INTERVAL_MS = 10_000;
/** Quiet heartbeats in a row with a count out of step before a reconcile. */
const OUT_OF_STEP_HEARTBEATS = 2;

/** What {@linkcode NameClaims} needs. */
export interface NameClaimsOptions {
  /** This instance's id. */
  readonly instance: string;
  /** Key prefix. */
  readonly prefix: string;
  /** Login wait, name and instance ttls. */
  readonly timing: Pick<ClusterTiming, "loginWaitMs" | "nameTtlMs" | "instanceTtlMs">;
  /** Runs a script on the current connection. */
  readonly run: RunScript;
  /** Hands an event to the hub. */
  readonly post: (event: ClusterEvent) => void;
  /** Where late grants and reconciles are logged. */
  readonly log: Logger;
  /** Queues a login or departure for every instance. */
  readonly announce: (event: WireEvent) => void;
  /** A name granted here was held elsewhere until a moment ago: forget and announce that holder. */
  readonly displace: (key: string) => void;
  /** Redis does not know this instance as alive: it must rejoin before any claim can go. */
  readonly unregistered: () => void;
  /** A name granted after its client stopped waiting: it leaves again at once. */
  readonly giveBack: (user: LocalUser) => void;
  /** The clock for the reconcile interval; `performance.now` unless a test moves it. */
  readonly now?: () => number;
}

/** A login waiting for its name. */
interface PendingClaim {
  readonly link: ClientLink;
  readonly name: string;
  readonly key: string;
  /** The claimer's account id; undefined for a guest. */
  readonly account: number | undefined;
}

/**
 * Whether claims and releases were under way when a heartbeat went out: only
 * a quiet heartbeat's count of the names Redis holds can be compared.
 */
export type CountMark =
  /** None in flight; `ops` claims and releases had been sent. */
  | { readonly kind: "quiet"; readonly ops: number }
  /** Some in flight: their effect on the count is unknown. */
  | { readonly kind: "busy" };

/** The refusal event for a claim. */
export function refused(link: ClientLink, refusal: ClaimRefusal): ClusterEvent {
  return { kind: "claim-refused", link, refusal };
}

/** This instance's users as Redis should hold them, and the claims on their way. */
export class NameClaims {
  readonly #options: NameClaimsOptions;
  readonly #now: () => number;
  /** This instance's users, as claimed: what a rejoin reclaims. */
  readonly #local = new Map<string, LocalUser>();
  /** Claims whose client still waits for an answer, with the timer that ends the wait. */
  readonly #waiting = new Map<PendingClaim, ReturnType<typeof setTimeout>>();
  /** Claims held back until Redis can take them (it is away, or a join is under way). */
  readonly #queued = new Set<PendingClaim>();
  /** The last claim sent for each name key, so a retry waits for an earlier, abandoned one. */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Bumped by every claim and release sent: counts compare only when it stood still. */
  #ops = 0;
  /** Claims and releases sent and not yet answered (their effect on #local still to come). */
  #opsInFlight = 0;
  /** Quiet heartbeats in a row at which Redis counted other names for this instance than it has. */
  #outOfStep = 0;
  #lastReconcile = -Infinity;

  /** No users and no claims yet. */
  constructor(options: NameClaimsOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Users of this instance. */
  get size(): number {
    return this.#local.size;
  }

  /** Whether a user of this instance holds `key`, as claimed. */
  holds(key: string): boolean {
    return this.#local.has(key);
  }

  /** Users of this instance, in the order they were granted. */
  users(): IterableIterator<LocalUser> {
    return this.#local.values();
  }

  /**
   * Claims `name` for the client on `link` (a guest, or the holder of
   * `account`), at once when `send`, else once {@linkcode sendQueued} runs;
   * either way the answer is posted, within the login wait.
   */
  claim(link: ClientLink, name: string, key: string, send: boolean, account?: number): void {
    const claim: PendingClaim = { link, name, key, account };
    const timer = setTimeout(
      () => this.#settle(claim, refused(link, "cluster-unavailable")),
      this.#options.timing.loginWaitMs,
    );
    this.#waiting.set(claim, timer);
    if (send) this.#send(claim);
    else this.#queued.add(claim);
  }

  /**
   * Claims `name` for the holder of `account` once the returned function is
   * called (a takeover: the holder elsewhere lets go first), within the
   * login wait; a holder that never lets go is `username-taken`.
   */
  claimAfter(link: ClientLink, name: string, key: string, account: number): () => void {
    const claim: PendingClaim = { link, name, key, account };
    const timer = setTimeout(
      () => this.#settle(claim, refused(link, "username-taken")),
      this.#options.timing.loginWaitMs,
    );
    this.#waiting.set(claim, timer);
    return () => {
      if (this.#waiting.has(claim)) this.#send(claim);
    };
  }

  /** Sends every claim held back; called once this instance has joined. */
  sendQueued(): void {
    for (const claim of this.#queued) this.#send(claim);
    this.#queued.clear();
  }

  /** Resolves once no claim is in flight (a granted claim not yet answered is not a user yet). */
  async whenSettled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  /**
   * A user of this instance registered its name, or its account went
   * (`account` undefined): what a rejoin's reclaim will say of them.
   */
  accountChanged(key: string, account: number | undefined): void {
    const user = this.#local.get(key);
    if (user === undefined) return;
    const { account: _, ...rest } = user;
    this.#local.set(key, account === undefined ? rest : { ...rest, account });
  }

  /** Forgets a user of this instance; their name stays in Redis until released or reclaimed. */
  forget(key: string): void {
    this.#local.delete(key);
  }

  /** Frees a user's name in Redis (if still theirs) and tells the others they left (`why`: IRC's words). */
  release(user: LocalUser, why?: string): void {
    this.#ops++;
    this.#opsInFlight++;
    const { instance, prefix } = this.#options;
    const value = encodeHolder({ instance, seq: user.seq, name: user.name });
    this.#options.run(RELEASE, {
      keys: [KEYS.name(prefix, user.key), KEYS.owned(prefix, instance)],
      arguments: [value, user.key],
    }).catch((error: unknown) => this.#failed("cluster release failed", error))
      .finally(() => this.#opsInFlight--);
    if (why !== undefined) this.#options.announce({ kind: "words", seq: user.seq, why });
    this.#options.announce({ kind: "left", seq: user.seq, name: user.name });
  }

  /**
   * Claims this instance's users' names again (a no-op where held), frees
   * the rest it held, and marks it alive; the script goes out before this
   * returns its promise. Local users whose names went elsewhere, or whose
   * names got an account they do not hold (registered elsewhere during a
   * partition), are dropped (the hub hears `name-lost`); freed names are
   * announced gone. Resolves with the keys lost.
   */
  async reclaim(): Promise<string[]> {
    const { instance, prefix: p, timing } = this.#options;
    const args = [
      instance,
      String(timing.instanceTtlMs),
      KEYS.name(p, ""),
      String(timing.nameTtlMs),
      KEYS.account(p, ""),
    ];
    for (const user of this.#local.values()) {
      args.push(
        user.key,
        user.name,
        String(user.seq),
        accountClaim(p, user.key, user.account).argument,
      );
    }
    const [lost, freed] = await this.#options.run(REJOIN, {
      keys: [KEYS.alive(p, instance), KEYS.owned(p, instance), KEYS.instances(p), KEYS.seq(p)],
      arguments: args,
    }) as [string[], string[]];
    for (const key of lost) {
      this.#local.delete(key);
      this.#options.post({ kind: "name-lost", key });
    }
    for (const value of freed) {
      const holder = decodeHolder(value);
      if (holder !== undefined) {
        this.#options.announce({ kind: "left", seq: holder.seq, name: holder.name });
      }
    }
    return lost;
  }

  /** Called as a heartbeat goes out: whether its count will be comparable. */
  mark(): CountMark {
    return this.#opsInFlight === 0 ? { kind: "quiet", ops: this.#ops } : { kind: "busy" };
  }

  /**
   * Compares the names Redis counted for this instance (`held`) with its
   * users. When they differ at two quiet heartbeats in a row, as after a
   * claim that Redis ran once its connection had been given up, reconciles:
   * claims the users' names again and frees the rest, at most once every
   * 10 s. Sent with no claim or release in flight, the reclaim sees exactly
   * what this instance has; the instance stays available throughout.
   */
  compare(held: number, mark: CountMark): void {
    if (!this.#outOfStepNow(held, mark)) return;
    this.#options.log.info("cluster names out of step with Redis; reconciling", {
      held,
      localUsers: this.#local.size,
    });
    this.reclaim().catch((error: unknown) => this.#failed("cluster reconcile failed", error));
  }

  /** Starts the count check afresh (a join makes earlier counts meaningless). */
  resetCount(): void {
    this.#outOfStep = 0;
  }

  /** Stops every wait without an answer; a grant that comes later is given back. */
  close(): void {
    for (const timer of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    this.#queued.clear();
  }

  /**
   * Leaves for good (shutdown): frees every name this instance holds and
   * forgets it in Redis, waiting at most a second; nothing to do unless
   * `connected`.
   */
  async leaveAll(connected: boolean): Promise<void> {
    if (!connected) return;
    const { instance, prefix: p, run, log } = this.#options;
    const left = run(LEAVE, {
      keys: [KEYS.alive(p, instance), KEYS.owned(p, instance), KEYS.instances(p)],
      arguments: [KEYS.name(p, ""), instance],
    }).then(() => {}, (error: unknown) => {
      log.debug("cluster leave failed", { error: String(error) });
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, LEAVE_TIMEOUT_MS));
    await Promise.race([left, timeout]).finally(() => clearTimeout(timer));
  }

  #outOfStepNow(held: number, mark: CountMark): boolean {
    // A claim or release in flight around the count makes any difference meaningless.
    if (mark.kind === "busy" || this.#ops !== mark.ops || this.#opsInFlight !== 0) return false;
    if (held === this.#local.size) {
      this.#outOfStep = 0;
      return false;
    }
    if (++this.#outOfStep < OUT_OF_STEP_HEARTBEATS) return false;
    const now = this.#now();
    if (now - this.#lastReconcile < RECONCILE_INTERVAL_MS) return false;
    this.#lastReconcile = now;
    this.#outOfStep = 0;
    return true;
  }

  #send(claim: PendingClaim): void {
    const { instance, prefix: p, timing } = this.#options;
    // A retry of a name whose earlier claim was abandoned (and may yet be granted, then given
    // back) goes after it, so it does not find the name held by this very instance.
    this.#ops++;
    this.#opsInFlight++;
    const earlier = this.#inFlight.get(claim.key) ?? Promise.resolve();
    const account = accountClaim(p, claim.key, claim.account);
    const attempt = earlier.then(() =>
      this.#options.run(CLAIM, {
        keys: [
          KEYS.name(p, claim.key),
          KEYS.seq(p),
          KEYS.owned(p, instance),
          KEYS.alive(p, instance),
          account.key,
        ],
        arguments: [instance, claim.name, String(timing.nameTtlMs), claim.key, account.argument],
      })
    ).then((reply) => this.#answered(claim, reply), () => {
      // Redis went away mid-claim: wait for it again, within the same bound.
      if (this.#waiting.has(claim)) this.#queued.add(claim);
    });
    this.#inFlight.set(claim.key, attempt);
    attempt.finally(() => {
      this.#opsInFlight--;
      if (this.#inFlight.get(claim.key) === attempt) this.#inFlight.delete(claim.key);
    });
  }

  #answered(claim: PendingClaim, reply: unknown): void {
    if (reply === null) {
      this.#settle(claim, refused(claim.link, "username-taken"));
      return;
    }
    if (reply === CLAIM_REFUSED_ACCOUNT) {
      // Registered (on any instance) and this claimer is not logged in to it: a guest's claim.
      this.#settle(claim, refused(claim.link, "password-required"));
      return;
    }
    if (reply === -1) {
      // Not registered as alive: Redis lost its data or gave this instance up. Rejoin first.
      if (this.#waiting.has(claim)) this.#queued.add(claim);
      this.#options.unregistered();
      return;
    }
    const user: LocalUser = {
      name: claim.name,
      key: claim.key,
      seq: Number(reply),
      ...(claim.account === undefined ? {} : { account: claim.account }),
    };
    this.#local.set(user.key, user);
    if (!this.#waiting.has(claim)) {
      this.#options.log.info("login claim granted too late; name released", { name: user.name });
      this.#options.giveBack(user);
      return;
    }
    this.#options.displace(user.key);
    this.#options.announce({ kind: "joined", seq: user.seq, name: user.name });
    const { name, key, seq } = user;
    this.#settle(claim, { kind: "claimed", link: claim.link, name, key, seq });
  }

  #settle(claim: PendingClaim, event: ClusterEvent): void {
    const timer = this.#waiting.get(claim);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#waiting.delete(claim);
    this.#queued.delete(claim);
    this.#options.post(event);
  }

  #failed(message: string, error: unknown): void {
    // Redis trouble is seen and handled by the heartbeat and the clients' events.
    this.#options.log.debug(message, { error: String(error) });
  }
}
