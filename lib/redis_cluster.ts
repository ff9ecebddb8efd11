/**
 * Several server instances made into one chat through Redis: names claimed
 * atomically in keys, presence and lines carried by pub/sub, liveness kept by
 * a heartbeat. Loaded only when `--redis-url` is set.
 *
 * Nothing here is awaited by the hub. Lines for other instances are batched
 * and published once per hub turn; answers (claims, presence) come back as
 * {@linkcode ClusterEvent}s through `post`.
 *
 * @module
 */
import { createClient } from "redis";
import type {
  ClaimRefusal,
  Cluster,
  ClusterEvent,
  ClusterStatus,
  ClusterUser,
  LocalUser,
  RemoteDelivery,
} from "./cluster.ts";
import {
  decodeBatch,
  decodeHolder,
  encodeBatch,
  encodeEvent,
  encodeHolder,
  KEYS,
  type NameHolder,
  type WireEvent,
} from "./cluster_wire.ts";
import type { ClientLink } from "./client_link.ts";
import type { Logger } from "./log.ts";
import { CLAIM, HEARTBEAT, LEAVE, REJOIN, RELEASE, SWEEP } from "./redis_scripts.ts";
import { nameKey } from "./names.ts";
import { type PresenceChange, RemoteRoster } from "./remote_roster.ts";

/** How often liveness is refreshed and how long it lasts. */
export interface ClusterTiming {
  /** Between heartbeats (and sweeps for dead instances). */
  readonly heartbeatMs: number;
  /** How long an instance outlives its last heartbeat, before others give it up for dead. */
  readonly instanceTtlMs: number;
  /**
   * How long a name outlives its instance's last heartbeat. Longer than the
   * instance's own ttl, so that the others announce its users gone (and free
   * their names) before anyone can take a name by its expiry.
   */
  readonly nameTtlMs: number;
  /** Longest a `LOGIN` waits for Redis before `ERR cluster-unavailable`. */
  readonly loginWaitMs: number;
  /**
   * How long a heartbeat, a join or a probe on the subscription may go
   * unanswered before both connections are replaced (checked every heartbeat).
   */
  readonly staleMs: number;
}

/**
 * The defaults: a dead instance's users are announced gone, and their names
 * freed, at most `instanceTtlMs + heartbeatMs` (6 s) after its last heartbeat
 * while any other instance runs; names expire by themselves after 7 s.
 */
export const CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 1000,
  instanceTtlMs: 5000,
  nameTtlMs: 7000,
  loginWaitMs: 3000,
  staleMs: 2000,
};

/**
 * Characters (UTF-16 code units) published but not yet acknowledged by Redis,
 * past which lines for other instances are dropped; presence is always sent.
 */
export const MAX_UNACKED_PUBLISH_CHARS = 8 * 1024 * 1024;
/** A batch is published once it holds this many characters, without waiting for the hub's turn. */
const BATCH_CHARS = 64 * 1024;
/** Longest wait for Redis while leaving at shutdown. */
const LEAVE_TIMEOUT_MS = 1000;
/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 1000;
/** Least time between two reconciliations of the names held here with those Redis counts. */
const RECONCILE_INTERVAL_MS = 10_000;

/** What a {@linkcode RedisCluster} needs. */
export interface RedisClusterOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string;
  /** Hands an event to the hub (its inbox). */
  readonly post: (event: ClusterEvent) => void;
  /** Where joins, outages and recoveries are logged. */
  readonly log: Logger;
  /** Key and channel prefix. */
  readonly prefix?: string;
  /** Heartbeat, liveness and login-wait times. */
  readonly timing?: ClusterTiming;
}

interface PendingClaim {
  readonly link: ClientLink;
  readonly name: string;
  readonly key: string;
  readonly timer: ReturnType<typeof setTimeout>;
  settled: boolean;
}

/** A node-redis client that fails commands at once while Redis is away and reconnects by itself. */
function newClient(url: string) {
  return createClient({
    url,
    // A command sent while Redis is away fails at once instead of piling up.
    disableOfflineQueue: true,
    socket: {
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS),
      connectTimeout: 2000,
    },
  });
}

type Client = ReturnType<typeof newClient>;

/** The URL with its password hidden, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * The database number in a Redis URL (`/2`), 0 when none. Keys are per
 * database but pub/sub channels are not, so channels carry it: two chats on
 * one Redis, in two databases, stay apart.
 */
export function redisDatabase(url: string): number {
  try {
    const db = Number(new URL(url).pathname.slice(1) || "0");
    return Number.isSafeInteger(db) && db >= 0 ? db : 0;
  } catch {
    return 0;
  }
}

/** A {@linkcode Cluster} through Redis. Call {@linkcode RedisCluster.start} once. */
export class RedisCluster implements Cluster {
  /** This instance's id: random, new at every start. */
  readonly id: string = crypto.randomUUID().slice(0, 13);
  readonly #ownHeader = `${this.id}\n`;
  readonly #options: RedisClusterOptions;
  readonly #timing: ClusterTiming;
  /** Prefix of keys (already per database). */
  readonly #prefix: string;
  /** Prefix of channels (shared by every database, so the database is in it). */
  readonly #channels: string;
  #pub!: Client;
  #sub!: Client;
  /** True once the current subscriber has subscribed (node-redis resubscribes after reconnecting). */
  #subscribed = false;
  #subscribing = false;
  readonly #roster = new RemoteRoster();
  /** This instance's users, as claimed: what a rejoin reclaims. */
  readonly #local = new Map<string, LocalUser>();
  /** Claims waiting for Redis (it is away, or a join is under way). */
  readonly #claims = new Set<PendingClaim>();
  /** The last claim sent for each name key, so a retry waits for an earlier, abandoned one. */
  readonly #claimsInFlight = new Map<string, Promise<void>>();
  #available = false;
  #joining = false;
  #joinAgain = false;
  #closed = false;
  /** No sweep before this time: after a rejoin, others need a moment to rejoin too. */
  #settleAt = 0;
  #resyncDue = false;
  /** Presence heard while a snapshot is taken, applied on top of it. */
  #heardDuringSnapshot: PresenceChange[] | undefined;
  /** Presence heard while a sweep is under way: a dead instance's users may be back already. */
  #heardDuringSweep: PresenceChange[] | undefined;
  #heartbeatSentAt: number | undefined;
  /** When the current join began: a join that hangs is as bad as a heartbeat that does. */
  #joinStartedAt = 0;
  /** When the oldest probe not yet heard back on the subscription was published. */
  #probeSentAt: number | undefined;
  readonly #probe = `${this.id}\nP`;
  /** Bumped by every claim and release sent: counts compare only when it stood still. */
  #nameOps = 0;
  /** Claims and releases sent and not yet answered (their effect on #local still to come). */
  #nameOpsInFlight = 0;
  /** Quiet heartbeats in a row at which Redis counted other names for this instance than it has. */
  #namesOutOfStep = 0;
  #lastReconcile = -Infinity;
  #sweeping = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #out: string[] = [];
  #outChannel = "";
  #outChars = 0;
  #flushQueued = false;
  #unackedChars = 0;
  #droppedBatches = 0;

  /** A cluster member for `options.url`; nothing connects until {@linkcode start}. */
  constructor(options: RedisClusterOptions) {
    this.#options = options;
    this.#timing = options.timing ?? CLUSTER_TIMING;
    this.#prefix = options.prefix ?? "chat:";
    this.#channels = `${this.#prefix}${redisDatabase(options.url)}:`;
  }

  /** Connects in the background: the server serves its own users meanwhile, and joins once Redis answers. */
  start(): void {
    const log = this.#options.log;
    log.info("cluster starting", { redis: redactUrl(this.#options.url), instance: this.id });
    this.#timer = setInterval(() => this.#tick(), this.#timing.heartbeatMs);
    this.#connect();
  }

  /** Makes both clients and connects them; used at start, and to replace connections gone silent. */
  #connect(): void {
    const pub = newClient(this.#options.url);
    const sub = newClient(this.#options.url);
    this.#pub = pub;
    this.#sub = sub;
    this.#subscribed = false;
    this.#subscribing = false;
    this.#probeSentAt = undefined;
    for (const client of [pub, sub]) {
      client.on("error", (error: unknown) => {
        if (client === this.#pub || client === this.#sub) this.#lost(String(error));
      });
      client.on("ready", () => this.#ready());
    }
    // Subscribing once is enough: node-redis subscribes again by itself after reconnecting.
    sub.on("ready", () => this.#subscribe(sub));
    for (const client of [pub, sub]) {
      client.connect().catch((error: unknown) => {
        if (client === this.#pub || client === this.#sub) this.#lost(String(error));
      });
    }
  }

  #subscribe(sub: Client): void {
    if (this.#subscribed || this.#subscribing || sub !== this.#sub) return;
    this.#subscribing = true;
    sub.subscribe(
      [KEYS.everyone(this.#channels), KEYS.inbox(this.#channels, this.id)],
      (message: string) => this.#receive(message),
    ).then(() => {
      if (sub !== this.#sub) return;
      this.#subscribed = true;
      this.#ready();
    }, (error: unknown) => {
      if (sub === this.#sub) this.#lost(String(error));
    })
      .finally(() => this.#subscribing = false);
  }

  /** Drops both connections (they stopped answering) and connects afresh. */
  #reconnect(): void {
    for (const client of [this.#pub, this.#sub]) {
      client.removeAllListeners();
      // A late error from a discarded client must not go unheard (an EventEmitter throws then).
      client.on("error", () => {});
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    }
    this.#connect();
  }

  claim(link: ClientLink, name: string, key: string): undefined {
    if (this.#roster.get(key) !== undefined) {
      // Held elsewhere, as far as this instance knows; after Redis lost its data, the
      // holder may not have reclaimed it yet.
      this.#options.post(refused(link, "username-taken"));
      return undefined;
    }
    const claim: PendingClaim = {
      link,
      name,
      key,
      settled: false,
      timer: setTimeout(
        () => this.#settle(claim, refused(link, "cluster-unavailable")),
        this.#timing.loginWaitMs,
      ),
    };
    if (this.#available) this.#tryClaim(claim);
    else this.#claims.add(claim);
    return undefined;
  }

  leave(user: LocalUser): void {
    this.#local.delete(user.key);
    // While Redis is away the name stays in this instance's owned set; the next rejoin frees it.
    // During a rejoin it is released now: the rejoin's own reclaim went out before this.
    if (!this.#available && !this.#joining) return;
    this.#release(user);
  }

  #release(user: LocalUser): void {
    this.#nameOps++;
    this.#nameOpsInFlight++;
    const value = encodeHolder({ instance: this.id, seq: user.seq, name: user.name });
    this.#pub.eval(RELEASE, {
      keys: [KEYS.name(this.#prefix, user.key), KEYS.owned(this.#prefix, this.id)],
      arguments: [value, user.key],
    }).catch(() => {}).finally(() => this.#nameOpsInFlight--);
    this.#append(KEYS.everyone(this.#channels), { kind: "left", seq: user.seq, name: user.name });
  }

  broadcast(sender: string, text: string): void {
    if (this.#available) this.#append(KEYS.everyone(this.#channels), { kind: "msg", sender, text });
  }

  directMessage(sender: string, target: string, text: string): RemoteDelivery {
    if (!this.#available) return "unavailable";
    const holder = this.#roster.get(target);
    if (holder === undefined) return "not-found";
    this.#append(KEYS.inbox(this.#channels, holder.instance), { kind: "dm", target, sender, text });
    return "sent";
  }

  remoteUsers(): readonly ClusterUser[] {
    return this.#available ? this.#roster.sorted() : [];
  }

  status(): ClusterStatus {
    return {
      available: this.#available,
      remoteUsers: this.#roster.size,
      droppedBatches: this.#droppedBatches,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#available = false;
    clearInterval(this.#timer);
    for (const claim of this.#claims) clearTimeout(claim.timer);
    this.#claims.clear();
    const p = this.#prefix;
    const leave = this.#pub.isReady
      ? this.#pub.eval(LEAVE, {
        keys: [KEYS.alive(p, this.id), KEYS.owned(p, this.id), KEYS.instances(p)],
        arguments: [KEYS.name(p, ""), this.id],
      })
      : Promise.resolve();
    await withTimeout(leave.then(() => {}, () => {}), LEAVE_TIMEOUT_MS);
    for (const client of [this.#pub, this.#sub]) {
      try {
        client.destroy();
      } catch {
        // Never connected: nothing to end.
      }
    }
    this.#options.log.info("cluster left", { instance: this.id });
  }

  #ready(): void {
    if (this.#closed || this.#available || !this.#subscribed) return;
    if (!this.#pub.isReady || !this.#sub.isReady) return;
    void this.#join();
  }

  #lost(error: string): void {
    if (this.#closed) return;
    if (this.#available) {
      this.#options.log.warn("cluster unavailable: serving local users only", { error });
    } else this.#options.log.debug("cluster still unavailable", { error });
    this.#available = false;
  }

  /** Claims every local name again, announces them, and learns who is elsewhere. */
  async #join(): Promise<void> {
    if (this.#joining) {
      this.#joinAgain = true;
      return;
    }
    this.#joining = true;
    this.#joinStartedAt = performance.now();
    this.#namesOutOfStep = 0;
    const rejoining = this.#roster.size > 0 || this.#local.size > 0;
    try {
      // A claim granted but not yet answered is not in #local: the rejoin would free its name.
      // New claims wait in #claims meanwhile (the cluster is unavailable while it joins).
      while (this.#claimsInFlight.size > 0) {
        await Promise.allSettled([...this.#claimsInFlight.values()]);
      }
      const lost = await this.#reclaim();
      const everyone = KEYS.everyone(this.#channels);
      for (const user of this.#local.values()) {
        this.#append(everyone, { kind: "joined", seq: user.seq, name: user.name });
      }
      await this.#snapshot();
      this.#available = true;
      if (rejoining) {
        // Others may not have rejoined yet: judge who is gone only once they have had time to.
        this.#settleAt = performance.now() + this.#timing.instanceTtlMs + this.#timing.heartbeatMs;
        this.#resyncDue = true;
      }
      this.#options.log.info(rejoining ? "cluster rejoined" : "cluster joined", {
        instance: this.id,
        localUsers: this.#local.size,
        remoteUsers: this.#roster.size,
        namesLost: lost.length,
      });
      for (const claim of this.#claims) this.#tryClaim(claim);
      this.#claims.clear();
    } catch (error) {
      this.#lost(String(error));
    } finally {
      this.#joining = false;
      if (this.#joinAgain) {
        this.#joinAgain = false;
        this.#ready();
      }
    }
  }

  /** Learns every remote user; with `replace`, also announces those gone since the last look. */
  async #snapshot(replace = false): Promise<void> {
    this.#heardDuringSnapshot = [];
    try {
      const [, values] = await this.#pub.eval(SWEEP, {
        keys: [KEYS.instances(this.#prefix)],
        arguments: [this.#prefix, "1"],
      }) as [string[], string[]];
      const holders: NameHolder[] = [];
      for (const value of values) {
        const holder = decodeHolder(value);
        if (holder !== undefined && holder.instance !== this.id) holders.push(holder);
      }
      const heard = this.#heardDuringSnapshot;
      if (replace) {
        for (const name of this.#roster.replace(holders, heard)) this.#announceGone(name);
      } else {
        for (const holder of this.#roster.merge(holders)) this.#announceGone(holder.name);
        for (const change of heard) this.#applyPresence(change, false);
      }
    } finally {
      this.#heardDuringSnapshot = undefined;
    }
  }

  #tryClaim(claim: PendingClaim): void {
    const p = this.#prefix;
    // A retry of a name whose earlier claim was abandoned (and may yet be granted, then given
    // back) goes after it, so it does not find the name held by this very instance.
    this.#nameOps++;
    this.#nameOpsInFlight++;
    const earlier = this.#claimsInFlight.get(claim.key) ?? Promise.resolve();
    const attempt = earlier.then(() =>
      this.#pub.eval(CLAIM, {
        keys: [
          KEYS.name(p, claim.key),
          KEYS.seq(p),
          KEYS.owned(p, this.id),
          KEYS.alive(p, this.id),
        ],
        arguments: [this.id, claim.name, String(this.#timing.nameTtlMs), claim.key],
      })
    ).then((reply) => this.#claimAnswered(claim, reply), () => {
      // Redis went away mid-claim: wait for it again, within the same bound.
      if (!claim.settled) this.#claims.add(claim);
    });
    this.#claimsInFlight.set(claim.key, attempt);
    attempt.finally(() => {
      this.#nameOpsInFlight--;
      if (this.#claimsInFlight.get(claim.key) === attempt) this.#claimsInFlight.delete(claim.key);
    });
  }

  #claimAnswered(claim: PendingClaim, reply: unknown): void {
    if (reply === null) {
      this.#settle(claim, refused(claim.link, "username-taken"));
      return;
    }
    if (reply === -1) {
      // Not registered as alive: Redis lost its data or gave this instance up. Rejoin first.
      if (!claim.settled) this.#claims.add(claim);
      this.#lost("this instance is not registered in Redis");
      this.#ready();
      return;
    }
    const user: LocalUser = { name: claim.name, key: claim.key, seq: Number(reply) };
    this.#local.set(user.key, user);
    if (claim.settled || this.#closed) {
      // Granted after the client stopped waiting: give the name straight back.
      this.#options.log.info("login claim granted too late; name released", { name: user.name });
      this.leave(user);
      return;
    }
    // Someone elsewhere held the name until a moment ago (their instance died): they are gone.
    const displaced = this.#roster.remove(user.key);
    if (displaced !== undefined) this.#announceGone(displaced.name);
    this.#append(KEYS.everyone(this.#channels), {
      kind: "joined",
      seq: user.seq,
      name: user.name,
    });
    this.#settle(claim, { kind: "claimed", link: claim.link, ...user });
  }

  #settle(claim: PendingClaim, event: ClusterEvent): void {
    if (claim.settled) return;
    claim.settled = true;
    clearTimeout(claim.timer);
    this.#claims.delete(claim);
    this.#options.post(event);
  }

  #tick(): void {
    if (this.#closed) return;
    const now = performance.now();
    // Connected but not answering (a frozen Redis, or a connection dropped without a word): as
    // good as away, for DMs, WHO and logins. New connections will tell, well before the others
    // give this instance up for dead.
    const stale = this.#timing.staleMs;
    const silent = this.#heartbeatSentAt !== undefined && now - this.#heartbeatSentAt > stale
      ? "Redis has not answered a heartbeat"
      : this.#joining && now - this.#joinStartedAt > stale
      ? "Redis has not answered while joining"
      : this.#probeSentAt !== undefined && now - this.#probeSentAt > stale
      ? "the subscription has gone silent"
      : undefined;
    if (silent !== undefined) {
      this.#lost(silent);
      this.#heartbeatSentAt = undefined;
      this.#reconnect();
      return;
    }
    if (this.#heartbeatSentAt !== undefined || !this.#pub.isReady || this.#joining) return;
    if (this.#available && this.#probeSentAt === undefined) {
      // Heard back on this instance's own channel: proof that the subscription still delivers.
      this.#probeSentAt = now;
      this.#pub.publish(KEYS.inbox(this.#channels, this.id), this.#probe).catch(() => {});
    }
    // Comparable counts need every earlier claim and release answered here, and none sent since.
    const opsAtSend = this.#nameOpsInFlight === 0 ? this.#nameOps : -1;
    this.#heartbeatSentAt = now;
    const p = this.#prefix;
    const pub = this.#pub;
    pub.eval(HEARTBEAT, {
      keys: [KEYS.alive(p, this.id), KEYS.owned(p, this.id)],
      arguments: [
        String(this.#timing.instanceTtlMs),
        KEYS.name(p, ""),
        this.id,
        String(this.#timing.nameTtlMs),
      ],
    }).then((held) => {
      if (pub !== this.#pub) return;
      this.#heartbeatSentAt = undefined;
      // Given up for dead (a stall, a Redis restart), or back after not answering: join afresh.
      if (held === -1) this.#lost("this instance was given up for dead");
      else if (this.#available && this.#outOfStep(Number(held), opsAtSend)) {
        this.#options.log.info("cluster names out of step with Redis; reconciling", {
          held: Number(held),
          localUsers: this.#local.size,
        });
        this.#reconcile();
      }
      if (!this.#available) this.#ready();
      else void this.#sweep();
    }, (error: unknown) => {
      if (pub !== this.#pub) return;
      this.#heartbeatSentAt = undefined;
      this.#lost(String(error));
    });
  }

  /**
   * True when Redis has counted other names for this instance than it has at
   * two quiet heartbeats in a row (no claim or release in flight when each
   * was sent, none sent before it was answered), as after a claim that Redis
   * ran once its connection had been given up. At most once every 10 s.
   */
  #outOfStep(held: number, opsAtSend: number): boolean {
    // A claim or release in flight around the count makes any difference meaningless.
    if (opsAtSend === -1 || this.#nameOps !== opsAtSend || this.#nameOpsInFlight !== 0) {
      return false;
    }
    if (held === this.#local.size) {
      this.#namesOutOfStep = 0;
      return false;
    }
    if (++this.#namesOutOfStep < 2) return false;
    const now = performance.now();
    if (now - this.#lastReconcile < RECONCILE_INTERVAL_MS) return false;
    this.#lastReconcile = now;
    this.#namesOutOfStep = 0;
    return true;
  }

  /**
   * Makes the names Redis holds for this instance exactly its users': claims
   * theirs again (a no-op when held) and frees the rest. Sent while no claim
   * or release is in flight, with no wait before it, so it sees exactly what
   * this instance has; the instance stays available throughout.
   */
  #reconcile(): void {
    this.#reclaim().catch(() => {});
  }

  /**
   * Claims this instance's users' names again (a no-op where held), frees
   * the rest it held, and marks it alive; the script goes out before this
   * returns its promise. Local users whose names went elsewhere are dropped
   * (the hub hears `name-lost`); freed names are announced gone. Resolves with
   * the keys lost.
   */
  async #reclaim(): Promise<string[]> {
    const p = this.#prefix;
    const { instanceTtlMs, nameTtlMs } = this.#timing;
    const args = [this.id, String(instanceTtlMs), KEYS.name(p, ""), String(nameTtlMs)];
    for (const user of this.#local.values()) args.push(user.key, user.name, String(user.seq));
    const [lost, freed] = await this.#pub.eval(REJOIN, {
      keys: [KEYS.alive(p, this.id), KEYS.owned(p, this.id), KEYS.instances(p), KEYS.seq(p)],
      arguments: args,
    }) as [string[], string[]];
    for (const key of lost) {
      this.#local.delete(key);
      this.#options.post({ kind: "name-lost", key });
    }
    for (const value of freed) {
      const holder = decodeHolder(value);
      if (holder !== undefined) {
        this.#append(KEYS.everyone(this.#channels), { kind: "left", ...holder });
      }
    }
    return lost;
  }

  /** Announces the users of instances that stopped beating; after a rejoin, resyncs everyone. */
  async #sweep(): Promise<void> {
    if (this.#sweeping || performance.now() < this.#settleAt) return;
    this.#sweeping = true;
    try {
      if (this.#resyncDue) {
        await this.#snapshot(true);
        this.#resyncDue = false;
        return;
      }
      this.#heardDuringSweep = [];
      const [gone] = await this.#pub.eval(SWEEP, {
        keys: [KEYS.instances(this.#prefix)],
        arguments: [this.#prefix, "0", ...this.#roster.instances()],
      }) as [string[], string[]];
      for (const instance of gone) this.#instanceGone(instance, this.#heardDuringSweep);
    } catch {
      // Redis trouble is seen and handled by the heartbeat and the clients' events.
    } finally {
      this.#sweeping = false;
      this.#heardDuringSweep = undefined;
    }
  }

  #instanceGone(instance: string, heard: readonly PresenceChange[]): void {
    const dropped = this.#roster.dropInstance(instance);
    // Presence from that instance heard while the sweep ran means it is back (it had stalled):
    // replayed in order, so that a login and a departure both count.
    for (const change of heard) {
      if (change.holder.instance !== instance) continue;
      if (change.joined) this.#roster.joined(change.holder);
      else this.#roster.left(change.holder);
    }
    const names = new Set<string>();
    for (const name of dropped) {
      if (this.#roster.get(nameKey(name))?.instance !== instance) names.add(name);
    }
    if (names.size > 0) {
      this.#options.log.info("cluster instance gone", { instance, users: names.size });
    }
    for (const name of names) this.#announceGone(name);
  }

  #receive(message: string): void {
    if (message === this.#probe) {
      this.#probeSentAt = undefined;
      return;
    }
    // Every instance hears its own batches on the shared channel: skip them before any parsing.
    if (this.#closed || message.startsWith(this.#ownHeader)) return;
    const batch = decodeBatch(message);
    for (const event of batch.events) {
      switch (event.kind) {
        case "msg":
          this.#options.post({ kind: "remote-msg", sender: event.sender, text: event.text });
          break;
        case "dm":
          this.#options.post({
            kind: "remote-dm",
            target: event.target,
            sender: event.sender,
            text: event.text,
          });
          break;
        case "joined":
        case "left": {
          const change: PresenceChange = {
            joined: event.kind === "joined",
            holder: { instance: batch.from, seq: event.seq, name: event.name },
          };
          this.#heardDuringSnapshot?.push(change);
          this.#heardDuringSweep?.push(change);
          this.#applyPresence(change, true);
          break;
        }
      }
    }
  }

  #applyPresence(change: PresenceChange, announce: boolean): void {
    if (change.joined) {
      const displaced = this.#roster.joined(change.holder);
      if (displaced !== undefined && announce) this.#announceGone(displaced.name);
    } else if (this.#roster.left(change.holder) && announce) {
      this.#announceGone(change.holder.name);
    }
  }

  #announceGone(name: string): void {
    this.#options.post({ kind: "remote-left", name });
  }

  /** Queues an event for `channel`; a change of channel publishes what came before, keeping order. */
  #append(channel: string, event: WireEvent): void {
    if (channel !== this.#outChannel && this.#out.length > 0) this.#flush();
    const line = encodeEvent(event);
    this.#outChannel = channel;
    this.#out.push(line);
    this.#outChars += line.length;
    if (this.#outChars >= BATCH_CHARS) this.#flush();
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      // After the hub's current batch of events: one publish carries a whole turn's lines.
      queueMicrotask(() => {
        this.#flushQueued = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    if (this.#out.length === 0 || this.#closed) return;
    let lines = this.#out;
    const channel = this.#outChannel;
    this.#out = [];
    this.#outChars = 0;
    // Redis that does not keep up loses lines for other instances, never this one's memory or
    // pace; comings and goings still go, or other instances would show ghosts.
    if (this.#unackedChars > MAX_UNACKED_PUBLISH_CHARS) {
      if (this.#droppedBatches++ % 1000 === 0) {
        this.#options.log.warn("cluster publish dropped: Redis is not keeping up", {
          unackedChars: this.#unackedChars,
          droppedBatches: this.#droppedBatches,
        });
      }
      lines = lines.filter((line) => line[0] === "J" || line[0] === "L");
      if (lines.length === 0) return;
    }
    const payload = encodeBatch(this.id, lines);
    const size = payload.length;
    this.#unackedChars += size;
    const done = () => this.#unackedChars -= size;
    this.#pub.publish(channel, payload).then(done, done);
  }
}

function refused(link: ClientLink, refusal: ClaimRefusal): ClusterEvent {
  return { kind: "claim-refused", link, refusal };
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
