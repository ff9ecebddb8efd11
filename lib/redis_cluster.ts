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
import type { ClientLink } from "./hub.ts";
import type { Logger } from "./log.ts";
import { CLAIM, HEARTBEAT, LEAVE, REJOIN, RELEASE, SWEEP } from "./redis_scripts.ts";
import { type PresenceChange, RemoteRoster } from "./remote_roster.ts";

/** How often liveness is refreshed and how long it lasts. */
export interface ClusterTiming {
  /** Between heartbeats (and sweeps for dead instances). */
  readonly heartbeatMs: number;
  /** How long an instance and its names outlive its last heartbeat. */
  readonly instanceTtlMs: number;
  /** Longest a `LOGIN` waits for Redis before `ERR cluster-unavailable`. */
  readonly loginWaitMs: number;
}

/**
 * The defaults: a dead instance's users are announced gone, and their names
 * free, at most `instanceTtlMs + heartbeatMs` (6 s) after its last heartbeat.
 */
export const CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 1000,
  instanceTtlMs: 5000,
  loginWaitMs: 3000,
};

/** Bytes published but not yet acknowledged by Redis, past which batches are dropped. */
export const MAX_UNACKED_PUBLISH_BYTES = 8 * 1024 * 1024;
/** A batch is published once it holds this many characters, without waiting for the hub's turn. */
const BATCH_CHARS = 64 * 1024;
/** Longest wait for Redis while leaving at shutdown. */
const LEAVE_TIMEOUT_MS = 1000;
/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 1000;

/** What a {@linkcode RedisCluster} needs. */
export interface RedisClusterOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  readonly url: string;
  /** Hands an event to the hub (its inbox). */
  readonly post: (event: ClusterEvent) => void;
  /** Where joins, outages and recoveries are logged. */
  readonly log: Logger;
  /** Key and channel prefix, so that several chats can share one Redis. */
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

type Client = ReturnType<typeof createClient>;

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

/** A {@linkcode Cluster} through Redis. Call {@linkcode RedisCluster.start} once. */
export class RedisCluster implements Cluster {
  /** This instance's id: random, new at every start. */
  readonly id: string = crypto.randomUUID().slice(0, 13);
  readonly #ownHeader = `${this.id}\n`;
  readonly #options: RedisClusterOptions;
  readonly #timing: ClusterTiming;
  readonly #prefix: string;
  readonly #pub: Client;
  readonly #sub: Client;
  readonly #roster = new RemoteRoster();
  /** This instance's users, as claimed: what a rejoin reclaims. */
  readonly #local = new Map<string, LocalUser>();
  /** Claims waiting for Redis (it is away, or a join is under way). */
  readonly #claims = new Set<PendingClaim>();
  #available = false;
  #joining = false;
  #joinAgain = false;
  #closed = false;
  /** No sweep before this time: after a rejoin, others need a moment to rejoin too. */
  #settleAt = 0;
  #resyncDue = false;
  /** Presence heard while a snapshot is taken, applied on top of it. */
  #heardDuringSnapshot: PresenceChange[] | undefined;
  #heartbeatSentAt: number | undefined;
  #sweeping = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #out: string[] = [];
  #outChannel = "";
  #outChars = 0;
  #flushQueued = false;
  #unackedBytes = 0;
  #droppedBatches = 0;

  /** A cluster member for `options.url`; nothing connects until {@linkcode start}. */
  constructor(options: RedisClusterOptions) {
    this.#options = options;
    this.#timing = options.timing ?? CLUSTER_TIMING;
    this.#prefix = options.prefix ?? "chat:";
    const reconnectStrategy = (retries: number) =>
      Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS);
    this.#pub = createClient({
      url: options.url,
      // A command sent while Redis is away fails at once instead of piling up.
      disableOfflineQueue: true,
      socket: { reconnectStrategy, connectTimeout: 2000 },
    });
    this.#sub = this.#pub.duplicate();
  }

  /** Whether remote users can be reached right now. */
  get available(): boolean {
    return this.#available;
  }

  /** Connects in the background: the server serves its own users meanwhile, and joins once Redis answers. */
  start(): void {
    const log = this.#options.log;
    log.info("cluster starting", { redis: redactUrl(this.#options.url), instance: this.id });
    for (const client of [this.#pub, this.#sub]) {
      client.on("error", (error: unknown) => this.#lost(String(error)));
      client.on("ready", () => this.#ready());
    }
    this.#timer = setInterval(() => this.#tick(), this.#timing.heartbeatMs);
    this.#pub.connect().catch((error: unknown) => this.#lost(String(error)));
    this.#sub.connect()
      .then(() =>
        this.#sub.subscribe(
          [KEYS.everyone(this.#prefix), KEYS.inbox(this.#prefix, this.id)],
          (message: string) => this.#receive(message),
        )
      )
      .then(() => this.#ready())
      .catch((error: unknown) => this.#lost(String(error)));
  }

  claim(link: ClientLink, name: string, key: string): undefined {
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
    // While Redis is away the name stays in this instance's owned set; the rejoin frees it.
    if (!this.#available) return;
    const value = encodeHolder({ instance: this.id, seq: user.seq, name: user.name });
    this.#pub.eval(RELEASE, {
      keys: [KEYS.name(this.#prefix, user.key), KEYS.owned(this.#prefix, this.id)],
      arguments: [value, user.key],
    }).catch(() => {});
    this.#append(KEYS.everyone(this.#prefix), { type: "left", seq: user.seq, name: user.name });
  }

  broadcast(sender: string, text: string): void {
    if (this.#available) this.#append(KEYS.everyone(this.#prefix), { type: "msg", sender, text });
  }

  directMessage(
    sender: string,
    target: string,
    text: string,
  ): "sent" | "not-found" | "unavailable" {
    if (!this.#available) return "unavailable";
    const holder = this.#roster.get(target);
    if (holder === undefined) return "not-found";
    this.#append(KEYS.inbox(this.#prefix, holder.instance), { type: "dm", target, sender, text });
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
    if (this.#closed || this.#available || !this.#pub.isReady || !this.#sub.isReady) return;
    void this.#join();
  }

  #lost(error: string): void {
    if (this.#closed) return;
    if (this.#available) {
      this.#options.log.warn("cluster unavailable: serving local users only", { error });
    } else this.#options.log.debug("cluster still unavailable", { error });
    this.#available = false;
    this.#heartbeatSentAt = undefined;
  }

  /** Claims every local name again, announces them, and learns who is elsewhere. */
  async #join(): Promise<void> {
    if (this.#joining) {
      this.#joinAgain = true;
      return;
    }
    this.#joining = true;
    const rejoining = this.#roster.size > 0 || this.#local.size > 0;
    try {
      const p = this.#prefix;
      const args = [this.id, String(this.#timing.instanceTtlMs), KEYS.name(p, "")];
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
        if (holder !== undefined) this.#append(KEYS.everyone(p), { type: "left", ...holder });
      }
      for (const user of this.#local.values()) {
        this.#append(KEYS.everyone(p), { type: "joined", seq: user.seq, name: user.name });
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
        this.#roster.merge(holders);
        for (const change of heard) this.#applyPresence(change, false);
      }
    } finally {
      this.#heardDuringSnapshot = undefined;
    }
  }

  #tryClaim(claim: PendingClaim): void {
    const p = this.#prefix;
    this.#pub.eval(CLAIM, {
      keys: [KEYS.name(p, claim.key), KEYS.seq(p), KEYS.owned(p, this.id)],
      arguments: [this.id, claim.name, String(this.#timing.instanceTtlMs), claim.key],
    }).then((reply) => {
      if (reply === null) {
        this.#settle(claim, refused(claim.link, "username-taken"));
        return;
      }
      const user: LocalUser = { name: claim.name, key: claim.key, seq: Number(reply) };
      this.#local.set(user.key, user);
      if (claim.settled || this.#closed) {
        // Granted after the client stopped waiting: give the name straight back.
        this.#options.log.info("login claim granted too late; name released", {
          name: user.name,
        });
        this.leave(user);
        return;
      }
      this.#append(KEYS.everyone(p), { type: "joined", seq: user.seq, name: user.name });
      this.#settle(claim, { kind: "claimed", link: claim.link, ...user });
    }, () => {
      // Redis went away mid-claim: wait for it again, within the same bound.
      if (!claim.settled) this.#claims.add(claim);
    });
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
    if (this.#heartbeatSentAt !== undefined) {
      // Redis is connected but not answering: as good as away, for DMs, WHO and logins.
      if (this.#available && now - this.#heartbeatSentAt > this.#timing.instanceTtlMs) {
        this.#lost("Redis has not answered a heartbeat");
      }
      return;
    }
    if (!this.#pub.isReady || this.#joining) return;
    this.#heartbeatSentAt = now;
    const p = this.#prefix;
    this.#pub.eval(HEARTBEAT, {
      keys: [KEYS.alive(p, this.id), KEYS.owned(p, this.id)],
      arguments: [String(this.#timing.instanceTtlMs), KEYS.name(p, ""), this.id],
    }).then((alive) => {
      this.#heartbeatSentAt = undefined;
      // Given up for dead (a stall, a Redis restart), or back after not answering: join afresh.
      if (alive === 0) this.#available = false;
      if (!this.#available) this.#ready();
      else void this.#sweep();
    }, (error: unknown) => {
      this.#heartbeatSentAt = undefined;
      this.#lost(String(error));
    });
  }

  /** Announces the users of instances that stopped beating; after a rejoin, resyncs everyone. */
  async #sweep(): Promise<void> {
    if (this.#sweeping || performance.now() < this.#settleAt) return;
    this.#sweeping = true;
    try {
      if (this.#resyncDue) {
        this.#resyncDue = false;
        await this.#snapshot(true);
        return;
      }
      const [gone] = await this.#pub.eval(SWEEP, {
        keys: [KEYS.instances(this.#prefix)],
        arguments: [this.#prefix, "0", ...this.#roster.instances()],
      }) as [string[], string[]];
      for (const instance of gone) {
        const names = this.#roster.dropInstance(instance);
        if (names.length > 0) {
          this.#options.log.info("cluster instance gone", { instance, users: names.length });
        }
        for (const name of names) this.#announceGone(name);
      }
    } catch {
      // Redis trouble is seen and handled by the heartbeat and the clients' events.
    } finally {
      this.#sweeping = false;
    }
  }

  #receive(message: string): void {
    // Every instance hears its own batches on the shared channel: skip them before any parsing.
    if (this.#closed || message.startsWith(this.#ownHeader)) return;
    const batch = decodeBatch(message);
    for (const event of batch.events) {
      switch (event.type) {
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
            joined: event.type === "joined",
            holder: { instance: batch.from, seq: event.seq, name: event.name },
          };
          this.#heardDuringSnapshot?.push(change);
          this.#applyPresence(change, true);
          break;
        }
      }
    }
  }

  #applyPresence(change: PresenceChange, announce: boolean): void {
    if (change.joined) this.#roster.joined(change.holder);
    else if (this.#roster.left(change.holder) && announce) this.#announceGone(change.holder.name);
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
    const payload = encodeBatch(this.id, this.#out);
    const channel = this.#outChannel;
    this.#out = [];
    this.#outChars = 0;
    // Redis that does not keep up loses lines for other instances, never this one's memory or pace.
    if (this.#unackedBytes > MAX_UNACKED_PUBLISH_BYTES) {
      if (this.#droppedBatches++ % 1000 === 0) {
        this.#options.log.warn("cluster publish dropped: Redis is not keeping up", {
          unackedBytes: this.#unackedBytes,
          droppedBatches: this.#droppedBatches,
        });
      }
      return;
    }
    const size = payload.length;
    this.#unackedBytes += size;
    const done = () => this.#unackedBytes -= size;
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
