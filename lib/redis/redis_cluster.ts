/**
 * Several server instances made into one chat through Redis: names claimed
 * atomically in keys, presence and lines carried by pub/sub, liveness kept by
 * a heartbeat. Loaded only when `--redis-url` is set.
 *
 * Nothing here is awaited by the hub. Lines for other instances are batched
 * and published once per hub turn; answers (claims, presence) come back as
 * {@linkcode ClusterEvent}s through `post`. This module holds the membership
 * and the heartbeat; the connections, names, presence and publishing are
 * each in a module of their own.
 *
 * @module
 */
import type {
  Cluster,
  ClusterEvent,
  ClusterStatus,
  ClusterUser,
  KeptDmSender,
  LocalUser,
  RemoteDelivery,
} from "../cluster.ts";
import type { ClientLink } from "../client_link.ts";
import type { Retention } from "../history/store.ts";
import type { Logger } from "../log.ts";
import { ChatStream } from "./chat_stream.ts";
import type { WireEvent } from "./cluster_wire.ts";
import {
  openRedisClient,
  redactUrl,
  type RedisClient,
  redisDatabase,
  RedisLink,
  type RunScript,
} from "./connections.ts";
import { channelPrefix, DEFAULT_PREFIX, KEYS } from "./keys.ts";
import { NameClaims, refused } from "./name_claims.ts";
import { Presence } from "./presence.ts";
import type { Slot } from "./history_slots.ts";
import { Inbound } from "./inbound.ts";
import { AWAY, CLOSED, JOINED, type Joining, type Membership } from "./membership.ts";
import { Publisher } from "./publisher.ts";
import { Takeovers } from "./takeovers.ts";
import { HEARTBEAT } from "./scripts.ts";
import { CLUSTER_TIMING, type ClusterTiming } from "./timing.ts";

/** Characters of a random UUID that make an instance id: its first two groups. */
const INSTANCE_ID_CHARS = 13;
/** What the heartbeat script answers for an instance that Redis has given up for dead. */
const GIVEN_UP = -1;

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
  /** Makes a client for `url`: node-redis's, unless a test fakes it. */
  readonly open?: (url: string) => RedisClient;
  /** What the chat's history keeps, when it is kept (in a stream: see `chat_stream.ts`). */
  readonly history?: Retention;
}

/** A {@linkcode Cluster} through Redis. Call {@linkcode RedisCluster.start} once. */
export class RedisCluster implements Cluster {
  /** This instance's id: random, new at every start. */
  readonly id: string = crypto.randomUUID().slice(0, INSTANCE_ID_CHARS);
  readonly #options: RedisClusterOptions;
  readonly #timing: ClusterTiming;
  /** Prefix of keys (already per database). */
  readonly #prefix: string;
  /** Prefix of channels (shared by every database, so the database is in it). */
  readonly #channels: string;
  readonly #everyone: string;
  readonly #names: NameClaims;
  readonly #presence: Presence;
  readonly #publisher: Publisher<Slot>;
  readonly #stream: ChatStream | undefined;
  readonly #inbound: Inbound;
  readonly #takeovers: Takeovers;
  #link!: RedisLink;
  /** Runs a script on the current publishing connection: the account store's way to Redis too. */
  readonly run: RunScript = (script, args) => this.#link.pub.eval(script, args);
  /** Sends one command on the current publishing connection. */
  readonly command = (args: string[]): Promise<unknown> => this.#link.pub.sendCommand(args);
  #membership: Membership = AWAY;
  #everJoined = false;
  #heartbeatSentAt: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** A cluster member for `options.url`; nothing connects until {@linkcode start}. */
  constructor(options: RedisClusterOptions) {
    this.#options = options;
    const timing = this.#timing = options.timing ?? CLUSTER_TIMING;
    const prefix = this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#channels = channelPrefix(prefix, redisDatabase(options.url));
    this.#everyone = KEYS.everyone(this.#channels);
    const { post, log } = options;
    const instance = this.id;
    const run = this.run;
    const stream = this.#stream = options.history === undefined ? undefined : new ChatStream({
      instance,
      prefix,
      ownChannel: KEYS.inbox(this.#channels, instance),
      everyone: this.#everyone,
      retention: options.history,
      log,
      run,
      command: this.command,
      flush: () => this.#publisher.flush(),
    });
    this.#publisher = new Publisher<Slot>({
      from: instance,
      publish: (channel, payload) => this.#link.pub.publish(channel, payload),
      log,
      ...(stream === undefined ? {} : {
        publishKept: (channel, items) => stream.publish(channel, items),
        unpublished: (slot) => stream.slots.unwritten(slot),
      }),
    });
    this.#presence = new Presence({
      instance,
      prefix,
      run,
      post,
      log,
      local: (key) => this.#names.holds(key),
    });
    this.#names = new NameClaims({
      instance,
      prefix,
      timing,
      run,
      post,
      log,
      announce: (event) => this.#announce(event),
      displace: (key) => this.#presence.displace(key),
      unregistered: () => {
        this.#lost("this instance is not registered in Redis");
        this.#ready();
      },
      giveBack: (user) => this.leave(user),
    });
    this.#takeovers = new Takeovers({
      names: this.#names,
      sendTo: (to, event) => this.#publisher.append(KEYS.inbox(this.#channels, to), event),
      post,
    });
    this.#inbound = new Inbound({
      instance,
      joined: () => this.#membership.kind === "joined",
      presence: this.#presence,
      stream,
      post,
      takeover: (step, key, from) => this.#takeovers.heard(step, key, from),
    });
  }

  /** Key prefix, already per database: where the account store keeps its keys too. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The chat's history in Redis, when it is kept: what the history store writes and reads through. */
  get stream(): ChatStream | undefined {
    return this.#stream;
  }

  /** Connects in the background: the server serves its own users meanwhile, and joins once Redis answers. */
  start(): void {
    const log = this.#options.log;
    log.info("cluster starting", { redis: redactUrl(this.#options.url), instance: this.id });
    this.#timer = setInterval(() => this.#tick(), this.#timing.heartbeatMs);
    this.#connect();
  }

  claim(link: ClientLink, name: string, key: string, account?: number): undefined {
    const holder = this.#presence.holder(key);
    if (holder !== undefined && account !== undefined && this.#membership.kind === "joined") {
      // The account's password was checked here: its holder there is asked to let go first.
      this.#takeovers.ask(link, name, key, account, holder.instance);
      return undefined;
    }
    if (holder !== undefined) {
      // Held elsewhere, as far as this instance knows; after Redis lost its data, the
      // holder may not have reclaimed it yet.
      this.#options.post(refused(link, "username-taken"));
      return undefined;
    }
    this.#names.claim(link, name, key, this.#membership.kind === "joined", account);
    return undefined;
  }

  leave(user: LocalUser, why?: string): void {
    this.#names.forget(user.key);
    // A user elsewhere with the same name (the winner of a name-lost) is announced now, after the
    // hub's own `disconnected` for this one.
    this.#presence.freed(user.key);
    // While Redis is away the name stays in this instance's owned set; the next rejoin frees it.
    // During a rejoin it is released now: the rejoin's own reclaim went out before this.
    const { kind } = this.#membership;
    if (kind === "joined" || kind === "joining") this.#names.release(user, why);
    this.#takeovers.left(user.key);
  }

  part(name: string, reason: string | undefined): void {
    // Like a chat line, a part made while Redis is away is not told later.
    if (this.#membership.kind === "joined") this.#announce({ kind: "part", name, reason });
  }

  rejoin(name: string): void {
    if (this.#membership.kind === "joined") this.#announce({ kind: "rejoin", name });
  }

  accountChanged(key: string, account: number | undefined): void {
    this.#names.accountChanged(key, account);
  }

  broadcast(sender: string, text: string, kept: boolean): void {
    const joined = this.#membership.kind === "joined";
    const stream = this.#stream;
    if (kept && stream !== undefined) {
      // Written with its batch, or (Redis away) later, by the history store, unpublished.
      const slot = stream.slots.open(sender, text, joined ? "pending" : "unwritten");
      if (joined) this.#publisher.appendKept(this.#everyone, slot);
    } else if (joined) this.#announce({ kind: "msg", sender, text });
  }

  directMessage(sender: string, target: string, text: string, keep?: KeptDmSender): RemoteDelivery {
    if (this.#membership.kind !== "joined") return "unavailable";
    const holder = this.#presence.holder(target);
    if (holder === undefined) return "not-found";
    const inbox = KEYS.inbox(this.#channels, holder.instance);
    const event = { kind: "dm", target, sender, text } as const;
    const dms = keep === undefined ? undefined : this.#stream?.dms;
    if (dms === undefined) {
      this.#publisher.append(inbox, event);
      return "sent";
    }
    // Written with its publish, in one script, after the lines published before it.
    this.#publisher.flush();
    dms.send(inbox, event, keep!);
    return "sent";
  }

  remoteUsers(): readonly ClusterUser[] {
    return this.#membership.kind === "joined" ? this.#presence.users() : [];
  }

  status(): ClusterStatus {
    return {
      available: this.#membership.kind === "joined",
      everJoined: this.#everJoined,
      remoteUsers: this.#presence.size,
      droppedBatches: this.#publisher.droppedBatches,
    };
  }

  async close(): Promise<void> {
    if (this.#membership.kind === "closed") return;
    this.#publisher.close();
    this.#membership = CLOSED;
    clearInterval(this.#timer);
    this.#names.close();
    const link = this.#link;
    await this.#names.leaveAll(link.pub.isReady);
    // The history's last writes go through these connections, after the hub's last turn.
    if (this.#stream === undefined) link.drop();
    else this.#stream.leave(() => link.drop());
    this.#options.log.info("cluster left", { instance: this.id });
  }

  /** Makes both connections and connects them; used at start, and to replace connections gone silent. */
  #connect(): void {
    this.#link = new RedisLink({
      open: () => (this.#options.open ?? openRedisClient)(this.#options.url),
      channels: [this.#everyone, KEYS.inbox(this.#channels, this.id)],
      instance: this.id,
      probeChannel: KEYS.inbox(this.#channels, this.id),
      events: {
        ready: () => this.#ready(),
        lost: (error) => this.#lost(error),
        message: (message) => {
          if (this.#membership.kind !== "closed") this.#inbound.receive(message);
        },
      },
      log: this.#options.log,
    });
    this.#link.connect();
  }

  /** Drops both connections (they stopped answering) and connects afresh. */
  #reconnect(): void {
    this.#link.drop();
    this.#connect();
  }

  #ready(): void {
    const membership = this.#membership;
    if (membership.kind === "closed" || membership.kind === "joined") return;
    if (!this.#link.ready) return;
    if (membership.kind === "joining") membership.again = true;
    else void this.#join();
  }

  #lost(error: string): void {
    if (this.#membership.kind === "closed") return;
    // Messages go by unseen until the next join's mark.
    this.#stream?.recent.uncover();
    switch (this.#membership.kind) {
      case "joined":
        this.#options.log.warn("cluster unavailable: serving local users only", { error });
        this.#membership = AWAY;
        return;
      case "away":
      case "joining":
        this.#options.log.debug("cluster still unavailable", { error });
        return;
    }
  }

  /** Claims every local name again, announces them, and learns who is elsewhere. */
  async #join(): Promise<void> {
    const joining: Joining = { kind: "joining", startedAt: performance.now(), again: false };
    this.#membership = joining;
    this.#names.resetCount();
    const rejoining = this.#presence.size > 0 || this.#names.size > 0;
    try {
      // A claim granted but not yet answered is not a user yet: the rejoin would free its name.
      // New claims are held back meanwhile (the cluster is unavailable while it joins).
      await this.#names.whenSettled();
      const lost = await this.#names.reclaim();
      for (const user of this.#names.users()) {
        this.#announce({ kind: "joined", seq: user.seq, name: user.name });
      }
      await this.#presence.learn();
      await this.#stream?.join();
      // Left meanwhile (shutdown): nothing more to join.
      if (this.#membership !== joining) return;
      this.#membership = JOINED;
      this.#everJoined = true;
      if (rejoining) {
        // Others may not have rejoined yet: judge who is gone only once they have had time to.
        const { instanceTtlMs, heartbeatMs } = this.#timing;
        this.#presence.rejoined(performance.now() + instanceTtlMs + heartbeatMs);
      }
      this.#options.log.info(rejoining ? "cluster rejoined" : "cluster joined", {
        instance: this.id,
        localUsers: this.#names.size,
        remoteUsers: this.#presence.size,
        namesLost: lost.length,
      });
      this.#names.sendQueued();
    } catch (error) {
      this.#lost(String(error));
    } finally {
      if (this.#membership === joining) this.#membership = AWAY;
      if (joining.again) this.#ready();
    }
  }

  #tick(): void {
    if (this.#membership.kind === "closed") return;
    const now = performance.now();
    // Connected but not answering (a frozen Redis, or a connection dropped without a word): as
    // good as away, for DMs, WHO and logins. New connections will tell, well before the others
    // give this instance up for dead.
    const silent = this.#silence(now);
    if (silent !== undefined) {
      this.#lost(silent);
      this.#heartbeatSentAt = undefined;
      this.#reconnect();
      return;
    }
    const { kind } = this.#membership;
    if (this.#heartbeatSentAt !== undefined || !this.#link.pub.isReady || kind === "joining") {
      return;
    }
    // Heard back on this instance's own channel: proof that the subscription still delivers.
    if (kind === "joined") {
      this.#link.probe(now);
      this.#stream?.tick();
    }
    this.#heartbeat(now);
  }

  /** Why the connections look dead, if they do: something has gone unanswered too long. */
  #silence(now: number): string | undefined {
    const stale = this.#timing.staleMs;
    const membership = this.#membership;
    if (this.#heartbeatSentAt !== undefined && now - this.#heartbeatSentAt > stale) {
      return "Redis has not answered a heartbeat";
    }
    if (membership.kind === "joining" && now - membership.startedAt > stale) {
      return "Redis has not answered while joining";
    }
    if (this.#link.probeOverdue(now, stale)) return "the subscription has gone silent";
    return undefined;
  }

  #heartbeat(now: number): void {
    // Comparable counts need every earlier claim and release answered here, and none sent since.
    const mark = this.#names.mark();
    this.#heartbeatSentAt = now;
    const p = this.#prefix;
    const link = this.#link;
    link.pub.eval(HEARTBEAT, {
      keys: [KEYS.alive(p, this.id), KEYS.owned(p, this.id)],
      arguments: [
        String(this.#timing.instanceTtlMs),
        KEYS.name(p, ""),
        this.id,
        String(this.#timing.nameTtlMs),
      ],
    }).then((held) => {
      if (link !== this.#link) return;
      this.#heartbeatSentAt = undefined;
      // Given up for dead (a stall, a Redis restart), or back after not answering: join afresh.
      if (held === GIVEN_UP) this.#lost("this instance was given up for dead");
      else if (this.#membership.kind === "joined") this.#names.compare(Number(held), mark);
      if (this.#membership.kind !== "joined") this.#ready();
      else this.#presence.sweep(performance.now());
    }, (error: unknown) => {
      if (link !== this.#link) return;
      this.#heartbeatSentAt = undefined;
      this.#lost(String(error));
    });
  }

  /** Queues an event for every instance. */
  #announce(event: WireEvent): void {
    this.#publisher.append(this.#everyone, event);
  }
}
