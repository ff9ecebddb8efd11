/**
 * The keys under which direct messages are kept: one conversation per
 * account and peer, `dm:<account id>:<peer's name key>`. The account id
 * comes first so that all of an account's conversations are one range of
 * the store's key (deleted at once with the account), and an id is never
 * given twice, so a later account of the same name starts with none. Pure.
 *
 * @module
 */

const PREFIX = "dm:";

/** The conversation in which account `account` keeps its direct messages with the name whose key is `peerKey`. */
export function dmConversation(account: number, peerKey: string): string {
  return `${PREFIX}${account}:${peerKey}`;
}

/**
 * The range of keys that holds every conversation of account `account`:
 * from `low` (included) to `high` (excluded), as the store compares text.
 */
export function dmRange(account: number): { readonly low: string; readonly high: string } {
  // ";" follows ":" in every encoding used here: nothing else starts with the low bound.
  return { low: `${PREFIX}${account}:`, high: `${PREFIX}${account};` };
}

/** The account a direct-message conversation belongs to; undefined for the chat or another key. */
export function dmAccount(conversation: string): number | undefined {
  if (!conversation.startsWith(PREFIX)) return undefined;
  const end = conversation.indexOf(":", PREFIX.length);
  if (end < 0) return undefined;
  const digits = conversation.slice(PREFIX.length, end);
  return /^[1-9]\d{0,15}$/.test(digits) ? Number(digits) : undefined;
}
