/**
 * This instance's view of the users on other instances: who is where, and in
 * what login order. Pure: it is told what happened and only records it; what
 * the hub is told follows from comparing it with what was announced
 * (`announced_users.ts`).
 *
 * @module
 */
import type { ClusterUser } from "../cluster.ts";
import { type NameHolder, sameHolder } from "./cluster_wire.ts";
import { nameKey } from "../names.ts";

/** A presence event heard from another instance. */
export interface PresenceChange {
  /** True for a login, false for a departure. */
  readonly joined: boolean;
  /** Who, where, and their login number. */
  readonly holder: NameHolder;
  /** A departure's words in IRC's terms, when its instance said them. */
  readonly why?: string | undefined;
}

/**
 * Users of other instances by name key. Presence events and snapshots may
 * arrive in either order; each change is idempotent, and a `left` only
 * removes the user that the leaving instance actually held.
 */
export class RemoteRoster {
  readonly #holders = new Map<string, NameHolder>();
  #sorted: readonly ClusterUser[] | undefined;

  /** Users known. */
  get size(): number {
    return this.#holders.size;
  }

  /** Who holds `key` elsewhere, if anyone. */
  get(key: string): NameHolder | undefined {
    return this.#holders.get(key);
  }

  /** The name keys known. */
  keys(): IterableIterator<string> {
    return this.#holders.keys();
  }

  /**
   * A user logged in on another instance. It replaces any earlier holder of
   * the name (on a dead instance whose names expired before its users were
   * given up). Returns the name's key.
   */
  joined(holder: NameHolder): string {
    const key = nameKey(holder.name);
    this.#holders.set(key, holder);
    this.#sorted = undefined;
    return key;
  }

  /** Forgets whoever holds `key` elsewhere (it is now held here). */
  remove(key: string): void {
    if (this.#holders.delete(key)) this.#sorted = undefined;
  }

  /** A user of another instance left: forgotten if that login is the one known. Returns the name's key. */
  left(holder: NameHolder): string {
    const key = nameKey(holder.name);
    const known = this.#holders.get(key);
    if (known !== undefined && sameHolder(known, holder)) {
      this.#holders.delete(key);
      this.#sorted = undefined;
    }
    return key;
  }

  /** Forgets every user of `instance` (it died); returns their name keys. */
  dropInstance(instance: string): string[] {
    const gone: string[] = [];
    for (const [key, holder] of this.#holders) {
      if (holder.instance !== instance) continue;
      this.#holders.delete(key);
      gone.push(key);
    }
    if (gone.length > 0) this.#sorted = undefined;
    return gone;
  }

  /** Adds what a snapshot lists, keeping everyone already known (they may not have rejoined yet). */
  merge(holders: Iterable<NameHolder>): void {
    for (const holder of holders) this.joined(holder);
  }

  /**
   * Becomes exactly what a snapshot lists, with the changes heard while it was
   * being taken applied on top (the snapshot may predate them).
   */
  replace(holders: Iterable<NameHolder>, since: readonly PresenceChange[]): void {
    this.#holders.clear();
    this.#sorted = undefined;
    for (const holder of holders) this.#holders.set(nameKey(holder.name), holder);
    for (const change of since) {
      if (change.joined) this.joined(change.holder);
      else this.left(change.holder);
    }
  }

  /** The instances that hold at least one known user. */
  instances(): Set<string> {
    const instances = new Set<string>();
    for (const holder of this.#holders.values()) instances.add(holder.instance);
    return instances;
  }

  /** Every known user, in login order (cached until the next change). */
  sorted(): readonly ClusterUser[] {
    this.#sorted ??= [...this.#holders.values()]
      .sort((a, b) => a.seq - b.seq)
      .map(({ name, seq }) => ({ name, seq }));
    return this.#sorted;
  }
}
