/**
 * The soak's clients for each door: one raw link over plain TCP (the line
 * protocol), WebSocket (`GET /ws`, one text frame per line) or IRC, each also
 * over TLS, with no deadline of its own (the soak's clock bounds everything),
 * and what each door's words are for logging in, chatting, syncing and
 * leaving, so that one kind of client can be written once for every door.
 *
 * @module
 */
import { concat } from "@std/bytes/concat";
import {
  clientFrame,
  type ServerFrame,
  splitServerFrame,
  upgradeRequest,
} from "../tests/ws_client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The doors a client can come through: the line protocol on the chat port (`tcp`) and the TLS
 * port (`tls`), WebSocket on the web port (`ws`, or `wss` when the server has TLS files: its web
 * port then serves only HTTPS), and IRC on the IRC port and the IRC TLS port (`irctls`).
 */
export type DoorKind = "tcp" | "tls" | "ws" | "wss" | "irc" | "irctls";

/** What is spoken through a door, whether or not TLS is under it. */
export type Wire = "line" | "ws" | "irc";

/** The wire each door speaks. */
export function wireOf(door: DoorKind): Wire {
  return door === "tcp" || door === "tls" ? "line" : door === "ws" || door === "wss" ? "ws" : "irc";
}

/** True for the doors with TLS under their wire. */
export function isTls(door: DoorKind): boolean {
  return door === "tls" || door === "wss" || door === "irctls";
}

/**
 * The doors of a server without TLS files, in the order clients are dealt to them. An odd count
 * on purpose, as with {@linkcode TLS_DOORS}: a kind that alternates on `i % 2` then alternates
 * on every door.
 */
export const PLAIN_DOORS: readonly DoorKind[] = ["tcp", "ws", "irc"];

/**
 * The doors of a server with TLS files: each wire in plain and over TLS, but WebSocket only over
 * TLS, since with the TLS files the web port serves HTTPS and WSS only.
 */
export const TLS_DOORS: readonly DoorKind[] = ["tcp", "tls", "wss", "irc", "irctls"];

/** The IRC channel every IRC client joins. */
const CHANNEL = "#chat";

/**
 * A connection through one door, read line by line (or text frame by text frame).
 *
 * One hand reader over one byte buffer, not `conn.readable` through `TextDecoderStream` and
 * `TextLineStream`: the WebSocket door reads an HTTP head and then binary frames from the same
 * bytes, so a text line stream would serve only two wires of three; and the soak's own event
 * loop is measured (its lag is in every round's report: a generator that stalls its clients
 * cannot judge the server). With 2,000 idle connections, one pending read each, a reader like
 * this one (a copy, measured alone) cost about 27 KB of RSS per connection and the stream
 * pipeline about 91 KB; with 100 busy connections the pipeline read a third to a fifth as many
 * lines a second.
 */
export class Link {
  readonly door: DoorKind;
  /** What {@linkcode Link.door} speaks. */
  readonly wire: Wire;
  readonly conn: Deno.Conn;
  /** Answer the server's keepalives (WebSocket pings, IRC `PING`); idlers do not. */
  readonly answerPings: boolean;
  #pending: Uint8Array = new Uint8Array(0);
  readonly #buffer = new Uint8Array(16384);
  /** True once this side closed. */
  closed = false;
  /** True once the server closed (end of stream, or a WebSocket close frame). */
  ended = false;
  /** Lines read so far; the last one, and why reading stopped, for a report. */
  linesRead = 0;
  lastLine = "";
  readError: unknown = undefined;
  /** When the last write started and when the last one finished (`performance.now()`). */
  lastWriteStarted = 0;
  lastWriteDone = 0;

  private constructor(door: DoorKind, conn: Deno.Conn, answerPings: boolean) {
    this.door = door;
    this.wire = wireOf(door);
    this.conn = conn;
    this.answerPings = answerPings;
  }

  /**
   * Connects through `door`: over TLS trusting only `caCert` (PEM) for a TLS door, its handshake
   * finished here; a WebSocket is upgraded first. Rejects if the handshake or the upgrade fails.
   */
  static async open(
    door: DoorKind,
    port: number,
    answerPings = true,
    caCert?: string,
  ): Promise<Link> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    // On the TCP socket before TLS goes over it: a TLS connection has no setNoDelay of its own.
    tcp.setNoDelay(true);
    let conn: Deno.Conn = tcp;
    if (isTls(door)) {
      if (caCert === undefined) {
        tcp.close();
        throw new Error(`no CA certificate for the ${door} door`);
      }
      const secure = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [caCert] });
      conn = secure;
      try {
        // Finished before the link is handed out: a client whose handshake failed fails here.
        await secure.handshake();
      } catch (error) {
        secure.close();
        throw error;
      }
    }
    const link = new Link(door, conn, answerPings);
    if (link.wire === "ws") {
      await link.send(upgradeRequest(port));
      const head = await link.#head();
      if (!head.startsWith("HTTP/1.1 101 ")) {
        link.close();
        throw new Error(`WebSocket upgrade refused: ${head.split("\r\n")[0]}`);
      }
    }
    return link;
  }

  /** The bytes that carry one protocol line through this door. */
  frame(line: string): Uint8Array {
    switch (this.wire) {
      case "line":
        return encoder.encode(line + "\n");
      case "ws":
        return clientFrame(line);
      case "irc":
        return encoder.encode(line + "\r\n");
    }
  }

  /** Sends protocol lines, each framed for this door; false once the socket is gone. */
  sendLines(...lines: string[]): Promise<boolean> {
    const frames = lines.map((line) => this.frame(line));
    const bytes = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
    let at = 0;
    for (const f of frames) {
      bytes.set(f, at);
      at += f.length;
    }
    return this.send(bytes);
  }

  /** Writes bytes as they are; false once the socket is gone. */
  async send(data: Uint8Array | string): Promise<boolean> {
    try {
      this.lastWriteStarted = performance.now();
      let bytes = typeof data === "string" ? encoder.encode(data) : data;
      while (bytes.length > 0) bytes = bytes.subarray(await this.conn.write(bytes));
      this.lastWriteDone = performance.now();
      return true;
    } catch {
      return false;
    }
  }

  /** The next line (a text frame's text, for a WebSocket), or null once the server closed. */
  async line(): Promise<string | null> {
    while (true) {
      if (this.wire === "ws") {
        const frame = this.#takeFrame();
        if (frame !== undefined) {
          if (frame.opcode === 1) {
            this.linesRead++;
            return this.lastLine = decoder.decode(frame.payload);
          }
          if (frame.opcode === 8) {
            this.ended = true;
            return null;
          }
          if (frame.opcode === 9 && this.answerPings) {
            await this.send(clientFrame(frame.payload, { opcode: 10 }));
          }
          continue;
        }
      } else {
        const lf = this.#pending.indexOf(10);
        if (lf !== -1) {
          let end = lf;
          if (end > 0 && this.#pending[end - 1] === 13) end--;
          const line = decoder.decode(this.#pending.subarray(0, end));
          this.#pending = this.#pending.subarray(lf + 1);
          if (this.wire === "irc" && line.startsWith("PING ")) {
            if (this.answerPings) await this.sendLines(`PONG ${line.slice(5)}`);
          }
          this.linesRead++;
          return this.lastLine = line;
        }
      }
      if (!await this.#fill()) {
        this.ended = true;
        return null;
      }
    }
  }

  /** Closes the socket; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  async #head(): Promise<string> {
    while (true) {
      const text = decoder.decode(this.#pending);
      const end = text.indexOf("\r\n\r\n");
      if (end !== -1) {
        this.#pending = this.#pending.subarray(encoder.encode(text.slice(0, end + 4)).length);
        return text.slice(0, end + 4);
      }
      if (!await this.#fill()) return text;
    }
  }

  #takeFrame(): ServerFrame | undefined {
    const split = splitServerFrame(this.#pending);
    if (split === undefined) return undefined;
    this.#pending = split.rest;
    return split.frame;
  }

  async #fill(): Promise<boolean> {
    let count: number | null;
    try {
      count = await this.conn.read(this.#buffer);
    } catch (error) {
      this.readError = error;
      count = null;
    }
    if (count === null) return false;
    this.#pending = concat([this.#pending, this.#buffer.subarray(0, count)]);
    return true;
  }
}

/** The lines that log `name` in through `door` (for IRC: register and join the channel). */
export function loginLines(door: DoorKind, name: string): string[] {
  return wireOf(door) === "irc"
    ? [`NICK ${name}`, `USER ${name} 0 * :${name}`, `JOIN ${CHANNEL}`]
    : [`LOGIN ${name}`];
}

/** True for the line that ends a successful login through `door`. */
export function isLoggedIn(door: DoorKind, line: string): boolean {
  return wireOf(door) === "irc" ? / 366 /.test(line) : line === "OK";
}

/** The line that says `text` to everyone through `door`. */
export function sayLine(door: DoorKind, text: string): string {
  return wireOf(door) === "irc" ? `PRIVMSG ${CHANNEL} :${text}` : `MSG ${text}`;
}

/** The sender and text of a chat message as `door` delivers it, or undefined for other lines. */
export function chatOf(door: DoorKind, line: string): [from: string, text: string] | undefined {
  const match = wireOf(door) === "irc"
    ? line.match(/^:([^! ]+)\S* PRIVMSG #chat :(.*)$/)
    : line.match(/^MSG (\S+) (.*)$/);
  return match === null ? undefined : [match[1]!, match[2]!];
}

/** The line that asks `door` for an answer after everything sent before it. */
export function pingLine(door: DoorKind): string {
  return wireOf(door) === "irc" ? "PING :soak" : "PING";
}

/** True for the answer to {@linkcode pingLine}. */
export function isPong(door: DoorKind, line: string): boolean {
  return wireOf(door) === "irc" ? / PONG /.test(line) : line === "PONG";
}

/** The line that lists who is here. */
export function whoLine(door: DoorKind): string {
  return wireOf(door) === "irc" ? `WHO ${CHANNEL}` : "WHO";
}
