/**
 * What the subscription brings, turned into the hub's events: another
 * instance's batch decoded (presence to the roster, lines to the hub, each
 * with its history id when it has one), and this instance's own batch,
 * coming back, reduced to where it stands in the chat's one order.
 *
 * @module
 */
import type { ClusterEvent } from "../cluster.ts";
import type { ChatStream } from "./chat_stream.ts";
import { decodeBatch, isBatchFrom, lastOrderMark, markOnly } from "./cluster_wire.ts";
import type { Presence } from "./presence.ts";

/** What an {@linkcode Inbound} needs. */
export interface InboundOptions {
  /** This instance's id. */
  readonly instance: string;
  /** Whether this instance has joined (and so announced every instance it hears lines from). */
  readonly joined: () => boolean;
  /** Who is elsewhere: told of presence, asked who is announced. */
  readonly presence: Pick<Presence, "announces" | "announcesAny" | "heard">;
  /** The chat's history, when it is kept: told of every id seen. */
  readonly stream: ChatStream | undefined;
  /** Hands an event to the hub. */
  readonly post: (event: ClusterEvent) => void;
  /** Another instance (`from`) asks for the name key `key` (a takeover), or says it is `freed`. */
  readonly takeover: (step: "replace" | "freed", key: string, from: string) => void;
}

/** Reads each message of the subscription, in order. */
export class Inbound {
  readonly #options: InboundOptions;
  /** The last departure's words heard from each instance, until its `left` comes. */
  readonly #words = new Map<string, { readonly seq: number; readonly why: string }>();

  /** A reader for `options.instance`. */
  constructor(options: InboundOptions) {
    this.#options = options;
  }

  /** One message of the subscription (the probe excepted). */
  receive(message: string): void {
    const { instance, presence, stream, post } = this.#options;
    // Every instance hears its own batches on the shared channel: they are not delivered again, but
    // mark where it stands in the chat's one order (a read's cut), found without decoding the batch.
    if (isBatchFrom(message, instance)) {
      if (stream === undefined) return;
      // Its join's mark (or its own, after writing unpublished), published alone: the recent
      // messages are whole from there, for all that comes later comes after it.
      const mark = markOnly(message, instance);
      if (mark !== undefined) stream.recent.reset(mark);
      const id = mark ?? lastOrderMark(message);
      if (id !== undefined) {
        stream.seen(id);
        post({ kind: "observed", id });
      }
      return;
    }
    const batch = decodeBatch(message);
    // A user's login is published before their lines, on the one connection that publishes, and
    // read here in that order on the one subscription (a DM's channel included), so the hub hears
    // of them first. Not so where this instance has not announced the sender's instance: before
    // the join's snapshot is in, and for an instance given up for dead whose users' lines, written
    // during its stall, arrive now. There each line's sender is checked, and a line from a user
    // not announced here is dropped, as lines published during an outage are. Once joined, this
    // costs one lookup per batch and none per line.
    const check = !this.#options.joined() || !presence.announcesAny(batch.from);
    let last: string | undefined;
    for (const event of batch.events) {
      switch (event.kind) {
        case "msg": {
          const { sender, text, id } = event;
          if (id !== undefined) {
            last = id;
            // Kept even when not delivered below: it is in the stream all the same.
            stream?.recent.add(id, sender, text);
          }
          if (check && !presence.announces(batch.from, sender)) break;
          post({ kind: "remote-msg", sender, text, ...(id === undefined ? {} : { id }) });
          break;
        }
        case "dm": {
          const { target, sender, text, id } = event;
          // Its place in the one order is reached whether or not it is delivered here.
          if (id !== undefined) last = id;
          if (check && !presence.announces(batch.from, sender)) {
            if (id !== undefined) post({ kind: "observed", id });
            break;
          }
          post({ kind: "remote-dm", target, sender, text, ...(id === undefined ? {} : { id }) });
          break;
        }
        case "mark":
          // Messages written unpublished, up to here: reads may include them from now on.
          last = event.id;
          // Those messages never came here: what is recent is whole only after them.
          stream?.recent.reset(event.id);
          post({ kind: "observed", id: event.id });
          break;
        case "order":
          // A direct message's id: its live delivery came before this, wherever it went.
          last = event.id;
          post({ kind: "observed", id: event.id });
          break;
        case "replace":
        case "freed":
          this.#options.takeover(event.kind, event.key, batch.from);
          break;
        case "part":
        case "rejoin":
          // The channel's comings and goings are chat lines: from users announced here only.
          if (check && !presence.announces(batch.from, event.name)) break;
          post(
            event.kind === "rejoin"
              ? { kind: "remote-rejoin", name: event.name }
              : { kind: "remote-part", name: event.name, reason: event.reason },
          );
          break;
        case "words":
          // For the `left` right behind it; one per instance, so this holds no more than they are.
          this.#words.set(batch.from, event);
          break;
        case "joined":
        case "left":
          presence.heard({
            joined: event.kind === "joined",
            holder: { instance: batch.from, seq: event.seq, name: event.name },
            why: event.kind === "left" ? this.#wordsFor(batch.from, event.seq) : undefined,
          });
          break;
      }
    }
    // Ids only grow within a batch: the last one is the highest.
    if (last !== undefined) stream?.seen(last);
  }

  /** The words `from` published for its login `seq`'s departure, if they were the last it said. */
  #wordsFor(from: string, seq: number): string | undefined {
    const words = this.#words.get(from);
    if (words === undefined) return undefined;
    this.#words.delete(from);
    return words.seq === seq ? words.why : undefined;
  }
}
