/**
 * Direct messages kept in Redis, as this instance writes and reads them
 * (the scripts are `dm_scripts.ts`'s). A copy is written at once, by the
 * instance of the sender, in one script with the message's live publish
 * when it goes to another instance: its copies are in Redis before anyone
 * can see it, and are written exactly once in all. Every script goes out on
 * the publishing connection, so a read sent later sees every write before it.
 *
 * @module
 */
import type { Range, Retention, StoredMessage } from "../history/store.ts";
import type { Logger } from "../log.ts";
import { LogThrottle } from "../log_throttle.ts";
import type { KeptDmSender } from "../cluster.ts";
import { type RunScript, runScript } from "./connections.ts";
import { dmBody, type WireEvent } from "./cluster_wire.ts";
import { KEEP_DM, READ_DM } from "./dm_scripts.ts";
import { readArguments, readReply } from "./history_scripts.ts";
import { KEYS } from "./keys.ts";

/** At most one log line a minute about direct messages Redis did not keep. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * One party's copy of a direct message to keep: for account `account`, or
 * for whatever account the name key `accountOf` has (a user of another
 * instance), in the conversation with the name key `peer`.
 */
export type DmParty =
  | { readonly account: number; readonly peer: string }
  | { readonly accountOf: string; readonly peer: string };

/** What a {@linkcode RedisDms} needs. */
export interface RedisDmsOptions {
  /** This instance's id. */
  readonly instance: string;
  /** Key prefix. */
  readonly prefix: string;
  /** The channel every instance hears: where a kept message's mark goes. */
  readonly everyone: string;
  /** `--history-lines` (per conversation) and `--history-days`. */
  readonly retention: Retention;
  /** Runs a script on the current publishing connection. */
  readonly run: RunScript;
  /** The highest id seen, '' for none: ids never go below it. */
  readonly floor: () => string;
  /** An id written: the floor follows it. */
  readonly seen: (id: string) => void;
  /** Where writes that failed are logged. */
  readonly log: Logger;
}

/** Writes and reads direct-message conversations in Redis. */
export class RedisDms {
  /** Direct messages whose copies Redis did not keep (it was away, or refused). */
  failures = 0;
  readonly #options: RedisDmsOptions;
  readonly #failures = new LogThrottle(FAILURE_LOG_INTERVAL_MS);

  /** Direct messages for `options.instance`. */
  constructor(options: RedisDmsOptions) {
    this.#options = options;
  }

  /**
   * Keeps a direct message's copies for `parties`; with `live`, publishes
   * it there too, in the same step. Never rejects: a failure is counted and
   * logged (the message is then neither kept nor, if it had to cross, sent).
   */
  keep(
    parties: readonly DmParty[],
    sender: string,
    text: string,
    live?: { readonly channel: string; readonly body: string },
  ): Promise<void> {
    const { instance, prefix, everyone, retention } = this.#options;
    const args = [
      String(retention.lines),
      this.#options.floor(),
      `${instance}:dm`,
      sender,
      text,
      KEYS.history(prefix, ""),
      KEYS.dmIndex(prefix, ""),
      KEYS.accountKeys(prefix),
      KEYS.account(prefix, ""),
      live?.channel ?? "",
      live?.body ?? "",
      everyone,
      instance,
      String(Math.max(1, Math.ceil(retention.maxAgeMs))),
    ];
    for (const party of parties) {
      if ("account" in party) args.push(String(party.account), "", party.peer);
      else args.push("", party.accountOf, party.peer);
    }
    return this.#run(KEEP_DM, [KEYS.history(prefix, "chat")], args).then((id) => {
      if (typeof id === "string" && id !== "") this.#options.seen(id);
    }, (error: unknown) => {
      this.failures++;
      const failures = this.#failures.count();
      if (failures > 0) {
        this.#options.log.error("direct message not kept", { failures, error: String(error) });
      }
    });
  }

  /**
   * A DM to a user of another instance: keeps the sender's copy (when it
   * has an account) and the receiver's (when its name has one now), and
   * publishes it on `channel`, that instance's, in one step.
   */
  send(channel: string, event: Extract<WireEvent, { kind: "dm" }>, sender: KeptDmSender): void {
    const parties: DmParty[] = [{ accountOf: event.target, peer: sender.key }];
    if (sender.account !== undefined) {
      parties.unshift({ account: sender.account, peer: event.target });
    }
    void this.keep(parties, event.sender, event.text, { channel, body: dmBody(event) });
  }

  /**
   * The messages of `range` (a conversation of `dm_keys.ts`), oldest first:
   * another instance's only up to `range.ownAbove`, this one's all.
   */
  async read(range: Range): Promise<StoredMessage[]> {
    const { prefix, instance, retention } = this.#options;
    const reply = await this.#run(READ_DM, [KEYS.history(prefix, range.conversation)], [
      ...readArguments(range, retention),
      range.ownAbove ?? "0-0",
      `${instance}:`,
    ]);
    return readReply(reply);
  }

  #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.#options.run, script, keys, args);
  }
}
