/**
 * Takeovers across instances: the right password on one instance for a name
 * another holds. The instance that checked it asks the holder's to let go
 * (`replace`, to that instance alone); the holder's ends its session there
 * (`ERR session-replaced`), frees the name in Redis, and answers `freed`;
 * then the asker sends its claim, bounded by the login wait.
 *
 * @module
 */
import type { ClusterEvent } from "../cluster.ts";
import type { ClientLink } from "../client_link.ts";
import type { WireEvent } from "./cluster_wire.ts";
import type { NameClaims } from "./name_claims.ts";

/** What {@linkcode Takeovers} needs. */
export interface TakeoversOptions {
  /** This instance's names: whether it holds one, and claims that wait for a go. */
  readonly names: Pick<NameClaims, "claimAfter" | "holds">;
  /** Queues an event for one instance alone (its inbox). */
  readonly sendTo: (instance: string, event: WireEvent) => void;
  /** Hands an event to the hub. */
  readonly post: (event: ClusterEvent) => void;
}

/** The takeovers this instance asked for, and those asked of it. */
export class Takeovers {
  readonly #options: TakeoversOptions;
  /** Asked of other instances, by name key: each sends its claim once the name is freed. */
  readonly #asked = new Map<string, () => void>();
  /** Asked of this instance, by name key: which instance to tell once the name is freed. */
  readonly #askedHere = new Map<string, string>();

  /** None yet. */
  constructor(options: TakeoversOptions) {
    this.#options = options;
  }

  /** The holder of `account` on `link` takes `name` (key `key`) over from instance `holder`. */
  ask(link: ClientLink, name: string, key: string, account: number, holder: string): void {
    this.#asked.set(key, this.#options.names.claimAfter(link, name, key, account));
    this.#options.sendTo(holder, { kind: "replace", key });
  }

  /** A takeover's step from instance `from`: a name asked of this one, or one it asked for, freed. */
  heard(step: "replace" | "freed", key: string, from: string): void {
    if (step === "freed") {
      this.#asked.get(key)?.();
      this.#asked.delete(key);
    } else if (this.#options.names.holds(key)) {
      this.#askedHere.set(key, from);
      this.#options.post({ kind: "name-lost", key, reason: "session-replaced" });
    } else {
      // Gone meanwhile: nothing to end here; the asker's claim finds out whether it is free.
      this.#options.sendTo(from, { kind: "freed", key });
    }
  }

  /**
   * A local user left, its name's release already sent: an instance that
   * asked for it hears `freed`, published after the release on the same
   * connection, so the name is free in Redis by the time it is heard.
   */
  left(key: string): void {
    const asker = this.#askedHere.get(key);
    if (asker === undefined) return;
    this.#askedHere.delete(key);
    this.#options.sendTo(asker, { kind: "freed", key });
  }
}
