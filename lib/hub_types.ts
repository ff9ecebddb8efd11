/**
 * What the hub is fed and how it is set up: its events, in the order they
 * happen, and the limits and collaborators it is made with.
 *
 * @module
 */
import type { AccountAnswer } from "./accounts/account_commands.ts";
import type { AccountDesk } from "./accounts/account_desk.ts";
import type { ChatHistory } from "./history/chat_history.ts";
import type { StoredMessage } from "./history/store.ts";
import type { ClientLink } from "./client_link.ts";
import type { Cluster, ClusterEvent } from "./cluster.ts";
import type { Logger } from "./log.ts";
import type { CloseReason, Command, HistoryAsk } from "./protocol.ts";
import type { Stats } from "./stats.ts";

/** Everything that can happen to the hub, in the order it happens. */
export type HubEvent =
  | { readonly kind: "open"; readonly link: ClientLink }
  | { readonly kind: "command"; readonly link: ClientLink; readonly command: Command }
  | { readonly kind: "line-too-long"; readonly link: ClientLink }
  | { readonly kind: "closed"; readonly link: ClientLink; readonly reason: CloseReason }
  /** The idle check; `at` is when its timer fired and `due` when it should have, by the hub's clock. */
  | { readonly kind: "tick"; readonly at?: number; readonly due?: number }
  | { readonly kind: "shutdown" }
  /** A history read's answer from its store, for the member on `link`. */
  | {
    readonly kind: "history-read";
    readonly link: ClientLink;
    readonly ask: HistoryAsk;
    readonly messages: readonly StoredMessage[];
  }
  /** Account work's answer (a lookup, a password check), for the session on `link`. */
  | { readonly kind: "account-answer"; readonly link: ClientLink; readonly answer: AccountAnswer }
  | ClusterEvent;

/** Limits the hub enforces. */
export interface HubOptions {
  /** Open connections at most. */
  readonly maxClients: number;
  /** Open connections from one address at most; 0: no limit. */
  readonly maxClientsPerIp?: number;
  /** True for addresses the per-address limit does not apply to. */
  readonly ipLimitExempt?: (ip: string) => boolean;
  /** Milliseconds without a complete line before a client is closed. */
  readonly idleTimeoutMs: number;
  /** The clock, in milliseconds; injected so tests can move time. */
  readonly now: () => number;
  /** Where logins and disconnects are logged. */
  readonly log?: Logger;
  /** Where the hub counts what it does. */
  readonly stats?: Stats;
  /** Delivery and presence beyond this process; by default there is none. */
  readonly cluster?: Cluster;
  /** Where messages are kept; by default nothing is (`--history-lines 0`). */
  readonly history?: ChatHistory;
  /** Where account work is done; by default accounts are off. */
  readonly accounts?: AccountDesk;
  /** Bytes held for one client at most: a history reply stays within half of it. */
  readonly maxQueueBytes?: number;
  /** Hands an event back to the hub's loop: how an answer from elsewhere (a store) comes in. */
  readonly post?: (event: HubEvent) => void;
}
