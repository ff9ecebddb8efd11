/**
 * This instance's view of the users on other instances: who is where, and in
 * what login order. Pure: it is told what happened and says whom to announce
 * as gone.
 *
 * @module
 */
import type { ClusterUser } from "../cluster.ts";
import type { NameHolder } from "./cluster_wire.ts";
import { nameKey } from "../names.ts";

/** A presence event heard from another instance. */
export interface PresenceChange {
  /** True for a login, false for a departure. */
  readonly joined: boolean;
  /** Who, where, and their login number. */
  readonly holder: NameHolder;
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

  /**
   * A user logged in on another instance. Returns the holder it displaces: an
   * earlier holder of the name (on a dead instance whose names expired before
   * its users were announced gone), who must now be announced gone.
   */
  joined(holder: NameHolder): NameHolder | undefined {
    const key = nameKey(holder.name);
    const before = this.#holders.get(key);
    this.#holders.set(key, holder);
    this.#sorted = undefined;
    if (before === undefined || sameHolder(before, holder)) return undefined;
    return before;
  }

  /** Forgets whoever holds `key` elsewhere (it is now held here); returns them, to announce. */
  remove(key: string): NameHolder | undefined {
    const before = this.#holders.get(key);
    if (before === undefined) return undefined;
    this.#holders.delete(key);
    this.#sorted = undefined;
    return before;
  }

  /** A user of `instance` left; true when they were known (and so must be announced). */
  left(holder: NameHolder): boolean {
    const key = nameKey(holder.name);
    const known = this.#holders.get(key);
    if (known === undefined || !sameHolder(known, holder)) return false;
    this.#holders.delete(key);
    this.#sorted = undefined;
    return true;
  }

  /** Forgets every user of `instance` (it died); returns their names, to announce. */
  dropInstance(instance: string): string[] {
    const gone: string[] = [];
    for (const [key, holder] of this.#holders) {
      if (holder.instance !== instance) continue;
      this.#holders.delete(key);
      gone.push(holder.name);
    }
    if (gone.length > 0) this.#sorted = undefined;
    return gone;
  }

  /**
   * Adds what a snapshot lists, keeping everyone already known (they may not
   * have rejoined yet); returns the holders displaced, to announce.
   */
  merge(holders: Iterable<NameHolder>): NameHolder[] {
    const displaced: NameHolder[] = [];
    for (const holder of holders) {
      const before = this.joined(holder);
      if (before !== undefined) displaced.push(before);
    }
    return displaced;
  }

  /**
   * Becomes exactly what a snapshot lists, with the changes heard while it was
   * being taken applied on top (the snapshot may predate them); returns the
   * names no longer there, or now held by someone else, to announce.
   */
  replace(holders: Iterable<NameHolder>, since: readonly PresenceChange[]): string[] {
    const before = new Map(this.#holders);
    this.#holders.clear();
    this.#sorted = undefined;
    for (const holder of holders) this.#holders.set(nameKey(holder.name), holder);
    for (const change of since) {
      if (change.joined) this.joined(change.holder);
      else this.left(change.holder);
    }
    const gone: string[] = [];
    for (const [key, holder] of before) {
      const now = this.#holders.get(key);
      if (now === undefined || !sameHolder(now, holder)) gone.push(holder.name);
    }
    return gone;
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

function sameHolder(a: NameHolder, b: NameHolder): boolean {
  return a.instance === b.instance && a.seq === b.seq;
}
