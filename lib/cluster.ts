/**
 * The seam between the hub and the rest of the chat: where names are
 * claimed, where a user's comings and goings are announced, and where lines
 * for users on other instances go. A lone server uses {@linkcode Standalone};
 * a server joined to others through Redis uses `RedisCluster`. The hub does
 * not know which it has.
 *
 * Every method is synchronous and never waits on the network: answers that
 * take a round trip come back later as {@linkcode ClusterEvent}s, applied by
 * the hub's one loop like any other event.
 *
 * @module
 */
import type { ClientLink } from "./client_link.ts";

/** A user as the whole chat knows them: the shown name and the chat-wide login number. */
export interface ClusterUser {
  /** The name as shown. */
  readonly name: string;
  /** Login order across the whole chat: a later login has a larger number. */
  readonly seq: number;
}

/** A user of this instance, as the hub hands it to the cluster. */
export interface LocalUser extends ClusterUser {
  /** The name's key (see `nameKey`). */
  readonly key: string;
  /** The account the user logged in to; undefined for a guest. */
  readonly account?: number | undefined;
}

/** How a cluster is doing, for `/metrics` and `/readyz`. */
export interface ClusterStatus {
  /** Whether other instances can be reached right now. */
  readonly available: boolean;
  /** Whether this instance has joined the others at least once since it started. */
  readonly everJoined: boolean;
  /** Users known on other instances. */
  readonly remoteUsers: number;
  /** Batches of lines for other instances dropped because Redis did not keep up. */
  readonly droppedBatches: number;
}

/**
 * Why a claim was not granted; `password-required`: the name has an account
 * the claimer is not logged in to (registered on another instance).
 */
export type ClaimRefusal = "username-taken" | "cluster-unavailable" | "password-required";

/** The reply that answers a refused `LOGIN`, by refusal. */
export const REFUSAL_REPLIES = {
  "username-taken": "usernameTaken",
  "cluster-unavailable": "clusterUnavailable",
  "password-required": "passwordRequired",
} as const satisfies Record<ClaimRefusal, string>;

/** The sender of a `DM` to keep in the history: its account (undefined: a guest) and its name key. */
export interface KeptDmSender {
  /** The sender's account; undefined for a guest. */
  readonly account?: number | undefined;
  /** The sender's name key: the peer of the receiver's copy. */
  readonly key: string;
}

/** What became of a `DM` to a user who is not on this instance. */
export type RemoteDelivery = "sent" | "not-found" | "unavailable";

/** What a cluster tells its hub, through the hub's inbox. */
export type ClusterEvent =
  | {
    readonly kind: "claimed";
    readonly link: ClientLink;
    readonly name: string;
    readonly key: string;
    readonly seq: number;
  }
  | { readonly kind: "claim-refused"; readonly link: ClientLink; readonly refusal: ClaimRefusal }
  /**
   * A `MSG` sent by a user of another instance; `id` when it is kept in the
   * chat's history: its place in the chat's one order, which this instance
   * has now reached (a history read's cut passes it).
   */
  | {
    readonly kind: "remote-msg";
    readonly sender: string;
    readonly text: string;
    readonly id?: string;
  }
  /**
   * This instance has reached `id` in the chat's one order without a message
   * to deliver: its own messages, coming back in that order, or where the
   * order stood when it joined.
   */
  | { readonly kind: "observed"; readonly id: string }
  /**
   * A `DM` from a user of another instance to `target` (a name key), here if
   * still online; `id` when it is kept in the history: its place in the one
   * order, which this instance has now reached.
   */
  | {
    readonly kind: "remote-dm";
    readonly target: string;
    readonly sender: string;
    readonly text: string;
    readonly id?: string;
  }
  /**
   * A user new to this instance's view logged in on another instance: a join
   * notice for watchers here. Posted once per arrival, before that user's
   * first `remote-msg`, and after the `remote-left` of a holder it displaced.
   */
  | { readonly kind: "remote-joined"; readonly name: string }
  /**
   * A user of another instance left: `INFO <name> disconnected` for everyone
   * here; `why`: its departure in IRC's words, when its instance said.
   */
  | { readonly kind: "remote-left"; readonly name: string; readonly why?: string | undefined }
  /** An IRC user of another instance parted the channel (with `reason`): a `PART` for IRC users here. */
  | { readonly kind: "remote-part"; readonly name: string; readonly reason?: string | undefined }
  /** An IRC user of another instance joined the channel again after a part: a `JOIN` for IRC users here. */
  | { readonly kind: "remote-rejoin"; readonly name: string }
  /**
   * A local user's name now belongs to a user elsewhere (freed during a
   * partition), or (`session-replaced`) its account's password was given on
   * another instance, which takes it over.
   */
  | { readonly kind: "name-lost"; readonly key: string; readonly reason?: "session-replaced" };

/** Delivery and presence beyond this instance. */
export interface Cluster {
  /**
   * Claims a name that no local user holds, for the client on `link`, as a
   * guest or (`account`) for the holder of that account id. Returns the
   * login number when the answer is known at once; otherwise returns
   * undefined and posts `claimed` or `claim-refused` later.
   */
  claim(link: ClientLink, name: string, key: string, account?: number): number | undefined;
  /**
   * A local user left (or was claimed for a client that has gone): free the
   * name, tell the others (`why`: its departure in IRC's words).
   */
  leave(user: LocalUser, why?: string): void;
  /** A local IRC user parted the channel (`reason`: what it said): tell the others' IRC users. */
  part(name: string, reason: string | undefined): void;
  /** A local IRC user joined the channel again after a part: tell the others' IRC users. */
  rejoin(name: string): void;
  /**
   * A local user's account changed: it registered its name (`account`), or
   * the account went (undefined). What a rejoin says the user holds.
   */
  accountChanged(key: string, account: number | undefined): void;
  /**
   * A local user's `MSG`, already delivered here: deliver it everywhere else.
   * `kept`: the hub has just recorded it in its history (a `MSG`, not a
   * `NOTICE`), in the order of these calls; a cluster whose history store
   * is shared writes it there too.
   */
  broadcast(sender: string, text: string, kept: boolean): void;
  /**
   * A `DM` to `target` (a name key) that no local user holds; `keep`: kept
   * in the history too (a `DM`, not a `NOTICE`), by a cluster whose history
   * store is shared, for each party that has an account.
   */
  directMessage(sender: string, target: string, text: string, keep?: KeptDmSender): RemoteDelivery;
  /** The users of other instances, in login order; empty when they cannot be reached. */
  remoteUsers(): readonly ClusterUser[];
  /** Leaves the cluster, freeing every name still held; resolves within a bounded time. */
  close(): Promise<void>;
  /** How it is doing; undefined for a lone server. */
  status(): ClusterStatus | undefined;
}

const NOBODY: readonly ClusterUser[] = Object.freeze([]);

/** The cluster of one: every name is free unless a local user holds it, and nobody is elsewhere. */
export class Standalone implements Cluster {
  #lastSeq = 0;

  /** Grants at once: the hub has already checked its own users. */
  claim(): number {
    return ++this.#lastSeq;
  }

  /** Nothing to tell anyone. */
  leave(): void {}

  /** Nobody else to tell. */
  part(): void {}

  /** Nobody else to tell. */
  rejoin(): void {}

  /** Nothing to reclaim, ever. */
  accountChanged(): void {}

  /** Nobody else to deliver to. */
  broadcast(): void {}

  /** Nobody else has the name. */
  directMessage(): RemoteDelivery {
    return "not-found";
  }

  /** Nobody else is online. */
  remoteUsers(): readonly ClusterUser[] {
    return NOBODY;
  }

  /** Nothing to leave. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** A lone server has no cluster to report on. */
  status(): undefined {
    return undefined;
  }
}
