/**
 * Direct messages in the history, on the hub's side: a delivered DM is kept
 * once for each party logged in to an account, in that account's own
 * conversation with the other party's name (a guest keeps none), and
 * `HISTORY @<name>` reads that conversation. Nothing here waits: it only
 * hands entries to the {@linkcode ChatHistory}, which writes off the hub's turn.
 *
 * @module
 */
import { nameKey } from "../names.ts";
import type { ChatHistory } from "./chat_history.ts";
import { dmConversation } from "./dm_keys.ts";

/** One side of a direct message: its name as shown, and its account's id (undefined: a guest). */
export interface DmParty {
  /** The name as shown. */
  readonly name: string;
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
  // Not in Redis yet: direct messages between instances would be missing, and UNREGISTER does not
  // yet delete an account's conversations there. Kept nowhere rather than kept half.
  if (!history.enabled || history.storeKind === "redis") return 0;
  const at = history.now();
  let kept = 0;
  if (sender.account !== undefined) {
    history.record(dmConversation(sender.account, nameKey(recipient.name)), sender.name, text, at);
    kept++;
  }
  if (recipient.account !== undefined && recipient.account !== sender.account) {
    history.record(dmConversation(recipient.account, nameKey(sender.name)), sender.name, text, at);
    kept++;
  }
  return kept;
}

/** The conversation `HISTORY @<peer>` reads for the member logged in to account `account`. */
export function dmHistoryOf(account: number, peer: string): string {
  // As names compare: `HISTORY @BOB` reads the conversation with bob.
  return dmConversation(account, nameKey(peer.trim()));
}
