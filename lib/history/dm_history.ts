/**
 * Direct messages in the history, on the hub's side: a delivered DM is kept
 * once for each party logged in to an account, in that account's own
 * conversation with the other party's name (a guest keeps none), and
 * `HISTORY @<name>` reads that conversation. Nothing here waits: it only
 * hands the copies to the {@linkcode ChatHistory}, which writes off the
 * hub's turn (or has its store write them: Redis).
 *
 * @module
 */
import { nameKey } from "../names.ts";
import type { ChatHistory } from "./chat_history.ts";
import { dmConversation } from "./dm_keys.ts";
import type { DmCopy } from "./store.ts";

/** One side of a direct message: its name as shown and its key, and its account's id (undefined: a guest). */
export interface DmParty {
  /** The name as shown. */
  readonly name: string;
  /** The name's key (see `nameKey`): the peer of the other party's copy. */
  readonly key: string;
  /** The account it is logged in to; undefined for a guest. */
  readonly account?: number | undefined;
}

/**
 * Keeps a DM `sender` wrote to `recipient` (delivered now, `text` as
 * delivered): one copy per account party, one in all for a DM to oneself.
 * Returns how many copies were kept (0, 1 or 2).
 */
export function recordDm(
  history: ChatHistory,
  sender: DmParty,
  recipient: DmParty,
  text: string,
): number {
  if (!history.enabled) return 0;
  const copies: DmCopy[] = [];
  if (sender.account !== undefined) copies.push({ account: sender.account, peer: recipient.key });
  if (recipient.account !== undefined && recipient.account !== sender.account) {
    copies.push({ account: recipient.account, peer: sender.key });
  }
  if (copies.length > 0) history.keepDm(copies, sender.name, text);
  return copies.length;
}

/** The conversation `HISTORY @<peer>` reads for the member logged in to account `account`. */
export function dmHistoryOf(account: number, peer: string): string {
  // As names compare: `HISTORY @BOB` reads the conversation with bob.
  return dmConversation(account, nameKey(peer.trim()));
}
