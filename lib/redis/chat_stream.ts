/**
 * The chat's history in Redis streams, as this instance writes and reads
 * them: the script that writes and publishes a batch holding kept messages
 * (the publisher's, in the order of everything the instance sends), the
 * writes of messages that were not published, reads within the retention,
 * and what joining does: ids raised above the last one seen, the mark that
 * tells the instance where the order stands, and the check that Redis keeps
 * anything across a restart. Loaded only with `--redis-url`.
 *
 * @module
 */
import { compareIds } from "../history/message_id.ts";
import { CHAT, type Range, type Retention, type StoredMessage } from "../history/store.ts";
import type { Logger } from "../log.ts";
import { type RunScript, runScript } from "./connections.ts";
import {
  APPEND_PUBLISH,
  BACKFILL,
  MARK,
  READ,
  readArguments,
  readReply,
  TRIM,
} from "./history_scripts.ts";
import { type Slot, SlotBook } from "./history_slots.ts";
import { KEYS } from "./keys.ts";
import { RecentChat } from "./recent_chat.ts";
import { RedisDms } from "./redis_dms.ts";

/** Between two trims of the stream by age (reads enforce the age bound exactly meanwhile). */
const TRIM_INTERVAL_MS = 60_000;
/** Longest the connections outlive the cluster's leaving, for the history's last writes. */
const LINGER_MS = 1000;

/** What a {@linkcode ChatStream} needs. */
export interface ChatStreamOptions {
  /** This instance's id: the first line of what it publishes. */
  readonly instance: string;
  /** Key prefix. */
  readonly prefix: string;
  /** This instance's own channel, where its mark goes when it joins. */
  readonly ownChannel: string;
  /** The channel every instance hears: where a mark goes after messages written unpublished. */
  readonly everyone: string;
  /** `--history-lines` and `--history-days`. */
  readonly retention: Retention;
  /** Where a failed check or trim is logged, and the persistence warning. */
  readonly log: Logger;
  /** Runs a script on the current publishing connection. */
  readonly run: RunScript;
  /** Sends one command on the same connection (`CONFIG GET`, `SCRIPT LOAD`, `EVALSHA`). */
  readonly command: (args: string[]) => Promise<unknown>;
  /** Publishes what the publisher holds, now: a read must follow the writes before it. */
  readonly flush: () => void;
  /** The clock for the trim interval; `performance.now` unless a test moves it. */
  readonly now?: () => number;
}

/** The streams' writes, reads and upkeep, and this instance's messages on their way in. */
export class ChatStream {
  /** This instance's messages between the hub and Redis. */
  readonly slots: SlotBook = new SlotBook();
  /** The chat's latest messages, for reads that need not go to Redis. */
  readonly recent: RecentChat;
  /** Direct messages, in streams of their own whose ids follow the chat's. */
  readonly dms: RedisDms;
  readonly #options: ChatStreamOptions;
  /** The highest id seen (written, published, read): ids never go below it, even after Redis loses them. */
  #lastSeen: string | undefined;
  #joins = 0;
  /** The hash of the write-and-publish script, once loaded in this Redis (at each join). */
  #appendSha: string | undefined;
  #lastTrim = -Infinity;
  #drop: (() => void) | undefined;
  #dropTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** A stream for `options.instance`; nothing is sent until used. */
  constructor(options: ChatStreamOptions) {
    this.#options = options;
    this.recent = new RecentChat(options.retention);
    const { instance, prefix, everyone, retention, run, log } = options;
    this.dms = new RedisDms({
      instance,
      prefix,
      everyone,
      retention,
      run,
      log,
      floor: () => this.#floor(),
      seen: (id) => this.seen(id),
    });
  }

  /** The highest id this instance has seen, if any. */
  get lastSeen(): string | undefined {
    return this.#lastSeen;
  }

  /** An id seen on the channel or in an answer. */
  seen(id: string): void {
    if (this.#lastSeen === undefined || compareIds(id, this.#lastSeen) > 0) this.#lastSeen = id;
  }

  /**
   * Writes the kept messages among `items` and publishes them all on
   * `channel`, in one script: the publisher's way out for such a batch.
   * Settles when Redis has answered; the slots settle with it.
   */
  publish(channel: string, items: readonly (string | Slot)[]): Promise<unknown> {
    const { retention, instance } = this.#options;
    let kinds = "";
    const lines: string[] = [];
    const kept: Slot[] = [];
    for (const item of items) {
      if (typeof item === "string") {
        kinds += "L";
        lines.push(item);
      } else {
        kinds += "H";
        lines.push(this.#origin(item), item.sender, item.text);
        kept.push(item);
      }
    }
    const key = this.#key(CHAT);
    const args = [channel, String(retention.lines), instance, kinds, ...lines];
    // By its hash once loaded: the script's text is not sent, nor hashed by Redis, every batch.
    const sha = this.#appendSha;
    const reply = sha === undefined
      ? this.#run(APPEND_PUBLISH, [key], args)
      : this.#send(["EVALSHA", sha, "1", key, ...args]);
    reply.then(
      (ids) => this.#written(kept, ids, true),
      (error: unknown) => {
        // Redis forgot its scripts (SCRIPT FLUSH): by its text until the next join loads it again.
        if (String(error).includes("NOSCRIPT") && this.#appendSha === sha) {
          this.#appendSha = undefined;
        }
        for (const slot of kept) this.slots.unwritten(slot);
      },
    ).catch((error: unknown) =>
      this.#options.log.error("history write answer not understood", { error: String(error) })
    );
    return reply;
  }

  /** Writes `slots` (each paired with its entry) without publishing them; their ids follow. */
  async backfill(slots: readonly Slot[]): Promise<void> {
    const byConversation = new Map<string, Slot[]>();
    for (const slot of slots) {
      const conversation = slot.entry?.conversation ?? CHAT;
      const group = byConversation.get(conversation);
      if (group === undefined) byConversation.set(conversation, [slot]);
      else group.push(slot);
    }
    const { retention, instance, everyone } = this.#options;
    await Promise.all([...byConversation].map(([conversation, group]) => {
      // Written before, if at all, after the earliest id seen when one of them went out.
      let since: string | undefined;
      for (const { sentAfter } of group) {
        if (sentAfter !== undefined && (since === undefined || compareIds(sentAfter, since) < 0)) {
          since = sentAfter;
        }
      }
      const args = [
        String(retention.lines),
        this.#floor(),
        // The chat's order moves past them on every instance; a direct conversation has none.
        conversation === CHAT ? everyone : "",
        instance,
        since ?? "",
      ];
      for (const slot of group) args.push(this.#origin(slot), slot.sender, slot.text);
      return this.#run(BACKFILL, [this.#key(conversation)], args)
        .then((ids) => this.#written(group, ids, conversation === CHAT));
    }));
  }

  /**
   * The messages of `range` within the retention, oldest first. What the
   * publisher holds goes out first, so the read sees every write before it.
   */
  async read(range: Range): Promise<StoredMessage[]> {
    this.#options.flush();
    const reply = await this.#run(
      READ,
      [this.#key(range.conversation)],
      readArguments(
        range,
        this.#options.retention,
      ),
    );
    const messages = readReply(reply);
    if (messages.length > 0) this.seen(messages.at(-1)!.id);
    return messages;
  }

  /**
   * Joining (again): the stream is raised above the last id seen (Redis may
   * have lost it), and the mark of where it stands is published to this
   * instance. The first time, Redis's persistence is checked too.
   */
  async join(): Promise<void> {
    const { instance, ownChannel } = this.#options;
    // Whole again from the mark, which comes on the subscription after whatever came before it.
    this.recent.uncover();
    // Redis may have restarted since the last join, its scripts gone with it. A Redis that refuses
    // SCRIPT (an ACL) still runs the script by its text.
    const [sha, last] = await Promise.all([
      this.#send(["SCRIPT", "LOAD", APPEND_PUBLISH]).catch(() => undefined),
      this.#run(MARK, [this.#key(CHAT)], [this.#floor(), ownChannel, instance]),
    ]);
    this.#appendSha = typeof sha === "string" ? sha : undefined;
    if (typeof last === "string") this.seen(last);
    if (this.#joins++ === 0) void this.#checkPersistence();
  }

  /** Trims the chat's stream by age now and then; called at each heartbeat while joined. */
  tick(): void {
    const now = this.#options.now?.() ?? performance.now();
    if (now - this.#lastTrim < TRIM_INTERVAL_MS) return;
    this.#lastTrim = now;
    this.#run(TRIM, [this.#key(CHAT)], [String(this.#options.retention.maxAgeMs)])
      .catch((error: unknown) => {
        this.#options.log.debug("history trim failed", { error: String(error) });
      });
  }

  /**
   * The cluster has left: `drop` its connections once the store has closed
   * (its last writes done), or after a second at most.
   */
  leave(drop: () => void): void {
    if (this.#closed) {
      drop();
      return;
    }
    this.#drop = drop;
    this.#dropTimer = setTimeout(() => this.#release(), LINGER_MS);
  }

  /** The store has closed: nothing more is written. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#release();
    return Promise.resolve();
  }

  #release(): void {
    clearTimeout(this.#dropTimer);
    const drop = this.#drop;
    this.#drop = undefined;
    drop?.();
  }

  #key(conversation: string): string {
    return KEYS.history(this.#options.prefix, conversation);
  }

  /** What ids must stay above, for a script: '' when nothing was seen. */
  #floor(): string {
    const last = this.#lastSeen;
    return last === undefined || last === "0-0" ? "" : last;
  }

  /** A script run whose failure to even start is a rejection too. */
  #run(script: string, keys: string[], args: string[]): Promise<unknown> {
    return runScript(this.#options.run, script, keys, args);
  }

  /** A command whose failure to even start is a rejection too. */
  #send(args: string[]): Promise<unknown> {
    try {
      return this.#options.command(args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `<instance>:<seq>`, noting what had been seen when its first write went out. */
  #origin(slot: Slot): string {
    slot.sentAfter ??= this.#lastSeen ?? "0-0";
    return `${this.#options.instance}:${slot.seq}`;
  }

  #written(slots: readonly Slot[], reply: unknown, chat: boolean): void {
    if (!Array.isArray(reply) || reply.length !== slots.length) {
      // Not what the script returns: nothing is known of these writes.
      for (const slot of slots) this.slots.unwritten(slot);
      throw new Error(`Cannot read the history's ids: ${JSON.stringify(reply)}`);
    }
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const id = String(reply[i]);
      this.slots.written(slot, id);
      if (chat) this.recent.add(id, slot.sender, slot.text);
    }
    if (reply.length > 0) this.seen(String(reply.at(-1)));
  }

  async #checkPersistence(): Promise<void> {
    const log = this.#options.log;
    try {
      const [appendonly, save] = (await Promise.all([
        this.#send(["CONFIG", "GET", "appendonly"]),
        this.#send(["CONFIG", "GET", "save"]),
      ])).map(configValue);
      if (appendonly === undefined || save === undefined) throw new Error("unexpected reply");
      if (appendonly === "no" && save === "") {
        log.warn("Redis persists nothing: the chat's history is lost when it restarts", {
          appendonly,
          save,
        });
      }
    } catch (error) {
      log.warn("could not tell whether Redis persists the chat's history", {
        error: String(error),
      });
    }
  }
}

/** The value in a `CONFIG GET` reply: `[name, value]` (RESP2) or `{ name: value }` (RESP3). */
function configValue(reply: unknown): string | undefined {
  const value = Array.isArray(reply)
    ? reply[1]
    : reply !== null && typeof reply === "object"
    ? Object.values(reply)[0]
    : undefined;
  return typeof value === "string" ? value : undefined;
}
