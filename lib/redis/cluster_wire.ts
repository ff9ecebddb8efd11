/**
 * What instances say to each other through Redis pub/sub, and how a name's
 * holder is stored. Pure: no I/O. (The key layout is `keys.ts`'s.)
 *
 * A message is a batch: the sending instance's id on the first line, then one
 * line per event. Fields are split on single spaces, and the last field (a
 * chat text) takes the rest of the line. No field can hold a line feed:
 * texts are sanitized and names hold no whitespace at all.
 *
 * @module
 */

/** One event that an instance publishes for the others. */
export type WireEvent =
  /**
   * A user's `MSG`; `id` when it is also in the chat's history (the history's
   * script writes that line, with the id Redis gave it).
   */
  | { readonly kind: "msg"; readonly sender: string; readonly text: string; readonly id?: string }
  /**
   * A user's `DM` to `target` (a name key), sent only to the instance that
   * has them; `id` when it is kept in the history (`dm_scripts.ts` writes
   * those lines, `I <id>` then `D <target> <sender> <text>`, with the id it
   * gave: an instance of an older version skips the `I` line and still
   * delivers the `D`).
   */
  | {
    readonly kind: "dm";
    readonly target: string;
    readonly sender: string;
    readonly text: string;
    readonly id?: string;
  }
  /** A user logged in on the sending instance, with their login number. */
  | { readonly kind: "joined"; readonly seq: number; readonly name: string }
  /** A user of the sending instance left. */
  | { readonly kind: "left"; readonly seq: number; readonly name: string }
  /**
   * The words of the departure of login `seq` of the sending instance (IRC's
   * `QUIT`), published just before its `left`: a line of its own, which an
   * older instance skips, so that its `left` reads the same to every version.
   */
  | { readonly kind: "words"; readonly seq: number; readonly why: string }
  /** An IRC user of the sending instance parted the channel, with the `reason` it gave. */
  | { readonly kind: "part"; readonly name: string; readonly reason?: string | undefined }
  /** An IRC user of the sending instance joined the channel again after a part. */
  | { readonly kind: "rejoin"; readonly name: string }
  /**
   * The chat's history has reached `id`: the sending instance wrote messages
   * there without publishing them (they were held while Redis was away).
   */
  | { readonly kind: "mark"; readonly id: string }
  /**
   * The one order of ids has reached `id`, a direct message's: kept by the
   * sending instance in its own streams (see `dm_scripts.ts`), published
   * after the message itself, so that reads of it reach it from now on.
   */
  | { readonly kind: "order"; readonly id: string }
  /**
   * A takeover: the sending instance has checked an account's password for
   * the name key `key`, which the receiving instance holds; it ends its
   * session there (`ERR session-replaced`) and answers `freed`.
   */
  | { readonly kind: "replace"; readonly key: string }
  /** The name key `key` that the receiving instance asked to `replace` is free in Redis now. */
  | { readonly kind: "freed"; readonly key: string };

/** A batch of events from one instance. */
export interface WireBatch {
  /** The instance that published the batch. */
  readonly from: string;
  /** Its events, in the order they happened. */
  readonly events: readonly WireEvent[];
}

/**
 * The first character of each event's line. `kept`: a `MSG` with its history
 * id (`H <id> <sender> <text>`); `dmId`, the id of the `DM` on the next line (`I <id>`). `mark`: how far the chat's history has come
 * (`S <id>`), which an instance publishes to itself when it joins, and to
 * all after writing messages unpublished. `order`: a direct message's id,
 * published to all after it (`O <id>`).
 */
export const TAG = {
  msg: "M",
  kept: "H",
  dm: "D",
  dmId: "I",
  joined: "J",
  left: "L",
  words: "W",
  part: "E",
  rejoin: "N",
  mark: "S",
  order: "O",
  replace: "R",
  freed: "F",
} as const;

/** A history id as Redis writes it. */
const ID = /^\d{1,16}-\d{1,16}$/;
/** How the line of a kept DM's id begins (made once, not for every line decoded). */
const DM_ID_START = `${TAG.dmId} `;

/** One event as a line of a batch. */
export function encodeEvent(event: WireEvent): string {
  switch (event.kind) {
    case "msg":
      return event.id === undefined
        ? `${TAG.msg} ${event.sender} ${event.text}`
        : `${TAG.kept} ${event.id} ${event.sender} ${event.text}`;
    case "dm":
      return event.id === undefined
        ? `${TAG.dm} ${dmBody(event)}`
        : `${TAG.dmId} ${event.id}\n${TAG.dm} ${dmBody(event)}`;
    case "joined":
      return `${TAG.joined} ${event.seq} ${event.name}`;
    case "left":
      return `${TAG.left} ${event.seq} ${event.name}`;
    case "words":
      return `${TAG.words} ${event.seq} ${event.why}`;
    case "part":
      return event.reason === undefined
        ? `${TAG.part} ${event.name}`
        : `${TAG.part} ${event.name} ${event.reason}`;
    case "rejoin":
      return `${TAG.rejoin} ${event.name}`;
    case "mark":
    case "order":
      return `${TAG[event.kind]} ${event.id}`;
    case "replace":
    case "freed":
      return `${TAG[event.kind]} ${event.key}`;
  }
}

/** A `DM` line after its tag (and id): `<target> <sender> <text>`. */
export function dmBody(event: { target: string; sender: string; text: string }): string {
  return `${event.target} ${event.sender} ${event.text}`;
}

/** The tags of the lines that must reach the other instances even when chat lines are dropped. */
const PRESENCE_TAGS: ReadonlySet<string> = new Set([
  TAG.joined,
  TAG.left,
  TAG.replace,
  TAG.freed,
]);

/**
 * True when a line made by {@linkcode encodeEvent} is a login, a departure
 * or a takeover's step: what must reach the other instances even when chat
 * lines are dropped.
 */
export function isPresenceLine(line: string): boolean {
  return PRESENCE_TAGS.has(line[0]!);
}

/** A batch from lines made by {@linkcode encodeEvent}. */
export function encodeBatch(from: string, lines: readonly string[]): string {
  return `${from}\n${lines.join("\n")}`;
}

const LINE_FEED = 10;

/** True when `payload` is a batch published by `from`: checked before any parsing, and without allocating. */
export function isBatchFrom(payload: string, from: string): boolean {
  return payload.charCodeAt(from.length) === LINE_FEED && payload.startsWith(from);
}

/**
 * What an instance publishes to itself to learn that its subscription still
 * delivers: a batch from it with no event, so that a decoder skips it.
 */
export function encodeProbe(from: string): string {
  return `${from}\nP`;
}

/**
 * The last history id in a batch of kept `MSG`s this instance published,
 * found from the end without decoding the batch; undefined when there is
 * none. A mark is published alone (see {@linkcode markOnly}), never among them.
 */
export function lastOrderMark(payload: string): string | undefined {
  const at = payload.lastIndexOf(`\n${TAG.kept} `);
  if (at === -1) return undefined;
  const start = at + 3;
  const end = payload.indexOf(" ", start);
  const lineEnd = payload.indexOf("\n", start);
  const stop = end === -1 || (lineEnd !== -1 && lineEnd < end) ? lineEnd : end;
  const id = payload.slice(start, stop === -1 ? undefined : stop);
  return ID.test(id) ? id : undefined;
}

/**
 * The id of a batch `from` published that holds only a mark (`<from>\nS <id>`):
 * where the stream stood at its join, or after messages it wrote unpublished.
 */
export function markOnly(payload: string, from: string): string | undefined {
  const start = from.length + 3;
  if (!payload.startsWith(`\n${TAG.mark} `, from.length) || !isBatchFrom(payload, from)) {
    return undefined;
  }
  const id = payload.slice(start);
  return ID.test(id) ? id : undefined;
}

/** The events of a batch; lines that make no sense (from a newer or foreign publisher) are skipped. */
export function decodeBatch(payload: string): WireBatch {
  const lines = payload.split("\n");
  const events: WireEvent[] = [];
  // A kept DM's id comes on a line of its own just before it, which older instances skip.
  let dmId: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(DM_ID_START)) {
      const id = line.slice(DM_ID_START.length);
      dmId = ID.test(id) ? id : undefined;
      continue;
    }
    const event = decodeEvent(line);
    if (event !== undefined) {
      events.push(event.kind === "dm" && dmId !== undefined ? { ...event, id: dmId } : event);
    }
    dmId = undefined;
  }
  return { from: lines[0]!, events };
}

function decodeEvent(line: string): WireEvent | undefined {
  if (line[1] !== " ") return undefined;
  const body = line.slice(2);
  switch (line[0]) {
    case TAG.msg: {
      const [sender, text] = fields(body, 1);
      return text === undefined ? undefined : { kind: "msg", sender: sender!, text };
    }
    case TAG.kept: {
      const [id, sender, text] = fields(body, 2);
      if (text === undefined || !ID.test(id!)) return undefined;
      return { kind: "msg", sender: sender!, text, id: id! };
    }
    case TAG.dm: {
      const [target, sender, text] = fields(body, 2);
      return text === undefined
        ? undefined
        : { kind: "dm", target: target!, sender: sender!, text };
    }
    case TAG.mark:
      return ID.test(body) ? { kind: "mark", id: body } : undefined;
    case TAG.order:
      return ID.test(body) ? { kind: "order", id: body } : undefined;
    case TAG.replace:
      return body === "" || body.includes(" ") ? undefined : { kind: "replace", key: body };
    case TAG.freed:
      return body === "" || body.includes(" ") ? undefined : { kind: "freed", key: body };
    case TAG.joined:
    case TAG.left: {
      const [seqText, name] = fields(body, 1);
      const seq = Number(seqText);
      if (name === undefined || name === "" || !Number.isSafeInteger(seq)) return undefined;
      return { kind: line[0] === TAG.joined ? "joined" : "left", seq, name };
    }
    case TAG.words: {
      const [seqText, why] = fields(body, 1);
      const seq = Number(seqText);
      if (why === undefined || why === "" || !Number.isSafeInteger(seq)) return undefined;
      return { kind: "words", seq, why };
    }
    case TAG.part: {
      const [name, reason] = fields(body, 1);
      if (name === undefined || name === "") return undefined;
      return reason === undefined ? { kind: "part", name } : { kind: "part", name, reason };
    }
    case TAG.rejoin:
      return body === "" || body.includes(" ") ? undefined : { kind: "rejoin", name: body };
    default:
      return undefined;
  }
}

/** The first `count` space-separated fields of `line`, then the rest as one field. */
function fields(line: string, count: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const space = line.indexOf(" ", start);
    if (space === -1) {
      out.push(line.slice(start));
      return out;
    }
    out.push(line.slice(start, space));
    start = space + 1;
  }
  out.push(line.slice(start));
  return out;
}

/** A name's holder as stored in Redis: `<instance> <seq> <name>`. */
export interface NameHolder {
  /** The instance the user is connected to. */
  readonly instance: string;
  /** The user's login number. */
  readonly seq: number;
  /** The name as shown. */
  readonly name: string;
}

/** Whether two holders are the same login: same instance, same login number. */
export function sameHolder(a: NameHolder, b: NameHolder): boolean {
  return a.instance === b.instance && a.seq === b.seq;
}

/** The value stored under a claimed name's key. */
export function encodeHolder(holder: NameHolder): string {
  return `${holder.instance} ${holder.seq} ${holder.name}`;
}

/** A name key's value read back, or undefined when it is not one of ours. */
export function decodeHolder(value: string): NameHolder | undefined {
  const [instance, seqText, name] = fields(value, 2);
  const seq = Number(seqText);
  if (name === undefined || name === "" || !Number.isSafeInteger(seq)) return undefined;
  return { instance: instance!, seq, name };
}
