/**
 * The two connections to Redis (one publishes and runs scripts, one
 * subscribes), how they reconnect, and the probe that proves the
 * subscription still delivers. One {@linkcode RedisLink} is one pair of
 * connections; a pair gone silent is dropped whole and replaced by a new one.
 *
 * @module
 */
import { createClient } from "redis";
import type { Logger } from "../log.ts";
import { encodeProbe } from "./cluster_wire.ts";

/** First pause before reconnecting; it doubles with each failed attempt. */
const RECONNECT_BASE_DELAY_MS = 50;
/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 1000;
/** How long one connection attempt may take. */
const CONNECT_TIMEOUT_MS = 2000;

/** How long node-redis waits before its attempt number `retries` (from 0) to reconnect. */
export function reconnectDelay(retries: number): number {
  return Math.min(
    RECONNECT_BASE_DELAY_MS * 2 ** retries,
    MAX_RECONNECT_DELAY_MS,
  );
}

/** Keys and arguments of one Lua script run. */
export interface ScriptArgs {
  /** The keys it touches (`KEYS` in the script). */
  readonly keys: string[];
  /** Everything else (`ARGV`). */
  readonly arguments: string[];
}

/** Runs a Lua script on the current publishing connection; rejects when Redis is away. */
export type RunScript = (script: string, args: ScriptArgs) => Promise<unknown>;

/** Runs `script` through `run`, a failure to even start it (thrown, not rejected) a rejection too. */
export function runScript(
  run: RunScript,
  script: string,
  keys: string[],
  args: string[],
): Promise<unknown> {
  try {
    return run(script, { keys, arguments: args });
  } catch (error) {
    return Promise.reject(error);
  }
}

/** What this adapter uses of a Redis client: node-redis's, or a fake in tests. */
export interface RedisClient {
  /** Connected, and able to take commands. */
  readonly isReady: boolean;
  /** Listens for a failure (`error`) or a (re)connection (`ready`). */
  on(event: "error" | "ready", listener: (error?: unknown) => void): unknown;
  /** Connects; afterwards the client reconnects by itself. */
  connect(): Promise<unknown>;
  /** Subscribes to `channels`; node-redis subscribes again by itself after reconnecting. */
  subscribe(channels: string[], listener: (message: string) => void): Promise<unknown>;
  /** Publishes `message` on `channel`. */
  publish(channel: string, message: string): Promise<unknown>;
  /** Runs a Lua script. */
  eval(script: string, args: ScriptArgs): Promise<unknown>;
  /** Sends one command as it is (`CONFIG GET save`). */
  sendCommand(args: string[]): Promise<unknown>;
  /** Forgets every `on` listener. */
  removeAllListeners(): unknown;
  /** Closes at once, failing whatever is pending; throws when it never connected. */
  destroy(): void;
}

/** A node-redis client that fails commands at once while Redis is away and reconnects by itself. */
export function openRedisClient(url: string): RedisClient {
  return createClient({
    url,
    // A command sent while Redis is away fails at once instead of piling up.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: CONNECT_TIMEOUT_MS },
  });
}

/**
 * A node-redis client for a short job (the operator's task): it connects
 * once, within the connect timeout, and never reconnects, so a Redis that
 * is away is an error at once rather than a wait.
 */
export function openOneShotClient(url: string): RedisClient {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: false, connectTimeout: CONNECT_TIMEOUT_MS },
  });
}

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

/** The database number in a Redis URL (`/2`), 0 when none. */
export function redisDatabase(url: string): number {
  try {
    const db = Number(new URL(url).pathname.slice(1) || "0");
    return Number.isSafeInteger(db) && db >= 0 ? db : 0;
  } catch {
    return 0;
  }
}

/**
 * Where a link's subscription stands. Subscribing once is enough: node-redis
 * subscribes again by itself after reconnecting, so `active` outlives a
 * reconnection of the subscriber.
 */
export type Subscription =
  /** Not asked yet, or the last attempt failed: the next `ready` of the subscriber asks. */
  | { readonly kind: "none" }
  /** `SUBSCRIBE` sent, not answered. */
  | { readonly kind: "asking" }
  /** Messages flow. */
  | { readonly kind: "active" }
  /** Replaced or closed: nothing its clients do is heard any more. */
  | { readonly kind: "dropped" };

/** What a link tells its owner; never called once the link is dropped. */
export interface LinkEvents {
  /** A client became ready or the subscription took: the link may be ready now. */
  readonly ready: () => void;
  /** A client failed, or could not connect. */
  readonly lost: (error: string) => void;
  /** A message on a subscribed channel (the probe excepted). */
  readonly message: (message: string) => void;
}

/** What a {@linkcode RedisLink} needs. */
export interface LinkOptions {
  /** Makes one client (called twice: publisher, subscriber). */
  readonly open: () => RedisClient;
  /** The channels to subscribe to. */
  readonly channels: readonly string[];
  /** The instance's own id, that its probe carries. */
  readonly instance: string;
  /** The instance's own channel, where its probe goes: one of `channels`. */
  readonly probeChannel: string;
  /** Where the link reports. */
  readonly events: LinkEvents;
  /** Where a failed probe is logged (at debug: the silence it causes is what counts). */
  readonly log: Logger;
}

/** A publisher and a subscriber connection, subscribed once both are up. */
export class RedisLink {
  /** Publishes and runs scripts. */
  readonly pub: RedisClient;
  /** Only subscribes. */
  readonly sub: RedisClient;
  readonly #options: LinkOptions;
  readonly #probe: string;
  #subscription: Subscription = { kind: "none" };
  /** When the oldest probe not yet heard back on the subscription was published. */
  #probeSentAt: number | undefined;

  /** Makes both clients; nothing connects until {@linkcode connect}. */
  constructor(options: LinkOptions) {
    this.#options = options;
    this.#probe = encodeProbe(options.instance);
    this.pub = options.open();
    this.sub = options.open();
    for (const client of [this.pub, this.sub]) {
      client.on("error", (error) => this.#lost(error));
      client.on("ready", () => {
        if (this.#heard()) options.events.ready();
      });
    }
    this.sub.on("ready", () => this.#subscribe());
  }

  /** Where the subscription stands. */
  get subscription(): Subscription {
    return this.#subscription;
  }

  /** Both clients take commands and the subscription is active. */
  get ready(): boolean {
    return this.#subscription.kind === "active" && this.pub.isReady && this.sub.isReady;
  }

  /** Connects both clients in the background. */
  connect(): void {
    for (const client of [this.pub, this.sub]) client.connect().catch((e) => this.#lost(e));
  }

  /** Publishes a probe to this instance's own channel, unless one is still on its way. */
  probe(now: number): void {
    if (this.#probeSentAt !== undefined) return;
    this.#probeSentAt = now;
    this.pub.publish(this.#options.probeChannel, this.#probe).catch((error: unknown) => {
      this.#options.log.debug("cluster probe not published", { error: String(error) });
    });
  }

  /** True when a probe has gone unheard for more than `ms`: the subscription has gone silent. */
  probeOverdue(now: number, ms: number): boolean {
    return this.#probeSentAt !== undefined && now - this.#probeSentAt > ms;
  }

  /** Closes both clients; whatever they say afterwards goes unheard. Idempotent. */
  drop(): void {
    if (this.#subscription.kind === "dropped") return;
    this.#subscription = { kind: "dropped" };
    for (const client of [this.pub, this.sub]) {
      client.removeAllListeners();
      // A late error from a discarded client must not go unheard (an EventEmitter throws then).
      client.on("error", () => {});
      try {
        client.destroy();
      } catch {
        // Never connected: nothing to end.
      }
    }
  }

  /** False once dropped: a late callback of an old link must not touch the new one's owner. */
  #heard(): boolean {
    return this.#subscription.kind !== "dropped";
  }

  #lost(error: unknown): void {
    if (this.#heard()) this.#options.events.lost(String(error));
  }

  #subscribe(): void {
    if (this.#subscription.kind !== "none") return;
    this.#subscription = { kind: "asking" };
    this.sub.subscribe([...this.#options.channels], (message) => this.#receive(message)).then(
      () => {
        if (!this.#heard()) return;
        this.#subscription = { kind: "active" };
        this.#options.events.ready();
      },
      (error: unknown) => {
        if (!this.#heard()) return;
        this.#subscription = { kind: "none" };
        this.#options.events.lost(String(error));
      },
    );
  }

  #receive(message: string): void {
    if (!this.#heard()) return;
    if (message === this.#probe) this.#probeSentAt = undefined;
    else this.#options.events.message(message);
  }
}
