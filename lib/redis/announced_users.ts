/**
 * What this instance's hub has been told about the users of other
 * instances: every `remote-joined` and `remote-left` posted to it. Presence
 * learns users many ways (heard, from a snapshot, again after a rejoin,
 * given up in a sweep); comparing each name with this record, rather than
 * announcing each way's changes, is what makes the hub hear of an arrival
 * once and of a departure only for a user it heard arrive. Pure.
 *
 * @module
 */
import type { ClusterEvent } from "../cluster.ts";
import { nameKey } from "../names.ts";
import { type NameHolder, sameHolder } from "./cluster_wire.ts";

/** A notice for the hub about a user of another instance. */
export type PresenceNotice = Extract<ClusterEvent, { kind: "remote-joined" | "remote-left" }>;

/** The holder of each name as announced to the hub, and how many each instance has. */
export class AnnouncedUsers {
  readonly #holders = new Map<string, NameHolder>();
  readonly #perInstance = new Map<string, number>();

  /** Users announced. */
  get size(): number {
    return this.#holders.size;
  }

  /** The name keys announced. */
  keys(): IterableIterator<string> {
    return this.#holders.keys();
  }

  /** Whether `name` is announced as a user of `instance`. */
  has(instance: string, name: string): boolean {
    return this.#holders.get(nameKey(name))?.instance === instance;
  }

  /** Whether at least one user of `instance` is announced. */
  hasInstance(instance: string): boolean {
    return this.#perInstance.has(instance);
  }

  /**
   * Makes `holder` the announced holder of `key` (undefined: nobody) and
   * returns the notices that takes: none when it already is, and a change of
   * holder as the old one's departure first, then the new one's arrival.
   */
  update(key: string, holder: NameHolder | undefined): readonly PresenceNotice[] {
    const before = this.#holders.get(key);
    if (before === holder) return NONE;
    if (before !== undefined && holder !== undefined && sameHolder(before, holder)) {
      // The same login learned again (a rejoin, a snapshot): keep the record, say nothing.
      this.#holders.set(key, holder);
      return NONE;
    }
    const notices: PresenceNotice[] = [];
    if (before !== undefined) {
      this.#holders.delete(key);
      this.#count(before.instance, -1);
      notices.push({ kind: "remote-left", name: before.name });
    }
    if (holder !== undefined) {
      this.#holders.set(key, holder);
      this.#count(holder.instance, 1);
      notices.push({ kind: "remote-joined", name: holder.name });
    }
    return notices;
  }

  #count(instance: string, by: 1 | -1): void {
    const count = (this.#perInstance.get(instance) ?? 0) + by;
    if (count === 0) this.#perInstance.delete(instance);
    else this.#perInstance.set(instance, count);
  }
}

const NONE: readonly PresenceNotice[] = Object.freeze([]);
