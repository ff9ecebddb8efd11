/**
 * Who is on the other instances, kept up to date: presence heard on the
 * shared channel, a snapshot read from Redis when joining, and the sweep
 * that gives up the users of instances that stopped beating (after a
 * rejoin, a full resync instead).
 *
 * The hub hears of these users through one door: after every change, each
 * name touched is compared with what the hub was last told, and only the
 * difference is posted (`remote-left` for a holder it knew, before
 * `remote-joined` for a new one). So an arrival is announced once however
 * many ways it is learned, and a name held by a user of this instance is
 * kept from the hub until that user has gone: the hub's own `disconnected`
 * for them comes first.
 *
 * @module
 */
import type { ClusterEvent, ClusterUser } from "../cluster.ts";
import type { Logger } from "../log.ts";
import { AnnouncedUsers } from "./announced_users.ts";
import { decodeHolder, type NameHolder } from "./cluster_wire.ts";
import type { RunScript } from "./connections.ts";
import { KEYS } from "./keys.ts";
import { type PresenceChange, RemoteRoster } from "./remote_roster.ts";
import { SWEEP } from "./scripts.ts";

/** What {@linkcode Presence} needs. */
export interface PresenceOptions {
  /** This instance's id: its own users are not remote. */
  readonly instance: string;
  /** Key prefix. */
  readonly prefix: string;
  /** Runs a script on the current connection. */
  readonly run: RunScript;
  /** Hands an event to the hub: here, `remote-joined` and `remote-left`. */
  readonly post: (event: ClusterEvent) => void;
  /** Whether a user of this instance holds `key`: a holder elsewhere is not announced meanwhile. */
  readonly local: (key: string) => boolean;
  /** Where dead instances are logged. */
  readonly log: Logger;
}

/** What the next sweep does. */
export type SweepPlan =
  /** Give up the users of instances that stopped beating. */
  | { readonly kind: "sweep" }
  /**
   * After a rejoin: make the roster exactly a fresh snapshot, announcing
   * whoever came or left meanwhile, once the others have had time to rejoin too.
   */
  | { readonly kind: "resync"; readonly notBefore: number };

const SWEEP_DEAD: SweepPlan = { kind: "sweep" };
/** SWEEP's second argument: whether to list every live instance's names too. */
const WITH_NAMES = "1";
const WITHOUT_NAMES = "0";

/** The users of other instances, and how this instance learns of them. */
export class Presence {
  readonly #options: PresenceOptions;
  readonly #roster = new RemoteRoster();
  /** What the hub has been told: the roster, less the names held here, as of the last change. */
  readonly #announced = new AnnouncedUsers();
  /** Presence heard while snapshots or sweeps are under way, a list for each: it may postdate them. */
  readonly #listening = new Set<PresenceChange[]>();
  #plan: SweepPlan = SWEEP_DEAD;
  /** The sweep under way, if any: one at a time. */
  #sweep: Promise<void> | undefined;

  /** Nobody known elsewhere yet. */
  constructor(options: PresenceOptions) {
    this.#options = options;
  }

  /** Users known elsewhere. */
  get size(): number {
    return this.#roster.size;
  }

  /** What the next sweep does. */
  get plan(): SweepPlan {
    return this.#plan;
  }

  /** Who holds `key` elsewhere, as far as this instance knows. */
  holder(key: string): NameHolder | undefined {
    return this.#roster.get(key);
  }

  /** Every user known elsewhere, in login order. */
  users(): readonly ClusterUser[] {
    return this.#roster.sorted();
  }

  /**
   * Whether `name` is announced to the hub as a user of `instance`: a line
   * from anyone else would reach the hub before their arrival.
   */
  announces(instance: string, name: string): boolean {
    return this.#announced.has(instance, name);
  }

  /** Whether at least one user of `instance` is announced to the hub. */
  announcesAny(instance: string): boolean {
    return this.#announced.hasInstance(instance);
  }

  /** A login or departure published by another instance. */
  heard(change: PresenceChange): void {
    for (const list of this.#listening) list.push(change);
    this.#settle(this.#apply(change), change.why);
  }

  /** `key` is now held here: whoever held it elsewhere (their instance died) is gone. */
  displace(key: string): void {
    this.#roster.remove(key);
    this.#settle(key);
  }

  /**
   * `key` is no longer held here (its user left, or lost it): a holder
   * elsewhere, kept from the hub meanwhile, is announced now.
   */
  freed(key: string): void {
    this.#settle(key);
  }

  /** Learns every remote user from Redis, keeping those it knew (they may not have rejoined yet). */
  learn(): Promise<void> {
    return this.#snapshot(false);
  }

  /** This instance rejoined: the next sweep, not before `notBefore`, resyncs the roster. */
  rejoined(notBefore: number): void {
    this.#plan = { kind: "resync", notBefore };
  }

  /** Runs the planned sweep in the background, unless one is under way or it is not yet time. */
  sweep(now: number): void {
    const plan = this.#plan;
    if (this.#sweep !== undefined || (plan.kind === "resync" && now < plan.notBefore)) return;
    this.#sweep = this.#run(plan)
      .catch((error: unknown) => {
        // Redis trouble is seen and handled by the heartbeat and the clients' events.
        this.#options.log.debug("cluster sweep failed", { error: String(error) });
      })
      .finally(() => this.#sweep = undefined);
  }

  async #run(plan: SweepPlan): Promise<void> {
    switch (plan.kind) {
      case "resync":
        await this.#snapshot(true);
        this.#options.log.debug("cluster resynced", { remoteUsers: this.#roster.size });
        // A rejoin while it ran plans another.
        if (this.#plan === plan) this.#plan = SWEEP_DEAD;
        return;
      case "sweep":
        return await this.#sweepDead();
      default: {
        const never: never = plan;
        throw new Error(`Cannot sweep: unknown plan ${JSON.stringify(never)}`);
      }
    }
  }

  async #sweepDead(): Promise<void> {
    const p = this.#options.prefix;
    const heard = this.#listen();
    try {
      const [gone] = await this.#options.run(SWEEP, {
        keys: [KEYS.instances(p)],
        arguments: [p, WITHOUT_NAMES, ...this.#roster.instances()],
      }) as [string[], string[]];
      for (const instance of gone) this.#instanceGone(instance, heard);
    } finally {
      this.#listening.delete(heard);
    }
  }

  /** Learns every remote user; with `replace`, also announces those gone since the last look. */
  async #snapshot(replace: boolean): Promise<void> {
    const p = this.#options.prefix;
    const heard = this.#listen();
    try {
      const [, values] = await this.#options.run(SWEEP, {
        keys: [KEYS.instances(p)],
        arguments: [p, WITH_NAMES],
      }) as [string[], string[]];
      const holders: NameHolder[] = [];
      for (const value of values) {
        const holder = decodeHolder(value);
        if (holder !== undefined && holder.instance !== this.#options.instance) {
          holders.push(holder);
        }
      }
      if (replace) {
        this.#roster.replace(holders, heard);
      } else {
        this.#roster.merge(holders);
        for (const change of heard) this.#apply(change);
      }
      this.#settleAll();
    } finally {
      this.#listening.delete(heard);
    }
  }

  #listen(): PresenceChange[] {
    const heard: PresenceChange[] = [];
    this.#listening.add(heard);
    return heard;
  }

  #instanceGone(instance: string, heard: readonly PresenceChange[]): void {
    const keys = new Set(this.#roster.dropInstance(instance));
    // Presence from that instance heard while the sweep ran means it is back (it had stalled):
    // replayed in order, so that a login and a departure both count.
    for (const change of heard) {
      if (change.holder.instance === instance) keys.add(this.#apply(change));
    }
    let gone = 0;
    for (const key of keys) gone += this.#settle(key);
    if (gone > 0) this.#options.log.info("cluster instance gone", { instance, users: gone });
  }

  /** Applies a change to the roster, unannounced; returns the name's key. */
  #apply(change: PresenceChange): string {
    return change.joined ? this.#roster.joined(change.holder) : this.#roster.left(change.holder);
  }

  /**
   * Tells the hub what changed for `key` since it was last told (a departure
   * with `why`, its words, when heard with them); returns the departures told.
   */
  #settle(key: string, why?: string): number {
    const holder = this.#options.local(key) ? undefined : this.#roster.get(key);
    let departures = 0;
    for (const notice of this.#announced.update(key, holder)) {
      if (notice.kind !== "remote-left") this.#options.post(notice);
      else {
        departures++;
        this.#options.post(why === undefined ? notice : { ...notice, why });
      }
    }
    return departures;
  }

  /** {@linkcode #settle} for every name known or announced (after a snapshot). */
  #settleAll(): void {
    const keys = new Set(this.#announced.keys());
    for (const key of this.#roster.keys()) keys.add(key);
    for (const key of keys) this.#settle(key);
  }
}
