/**
 * An IRC client for tests: it writes lines as a client would (or raw bytes
 * no client would), and reads the server's lines one by one under a
 * deadline, checking on every one that it ends in `\r\n`, is valid UTF-8
 * and is at most 512 bytes long.
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals, fail } from "@std/assert";
import { type Config, DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatHistory } from "../lib/history/chat_history.ts";
import { MemoryStore } from "../lib/history/memory_store.ts";
import { retentionOf } from "../lib/history/open_history.ts";
import { ChatServer } from "../lib/server.ts";
import { ClientSocket } from "./client_socket.ts";
import { DEADLINE_MS, readLines, withDeadline } from "./helpers.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** The channel and server name a test server uses unless told otherwise. */
export const CHANNEL = "#chat";

/** The `005` tokens the server advertises. */
export const ISUPPORT = "CASEMAPPING=ascii CHANTYPES=# PREFIX=(ov)@+ NICKLEN=256 CHANNELLEN=50 " +
  "NETWORK=chat CHANMODES=b,,,nt CHANLIMIT=#:1 TARGMAX=PRIVMSG:4,NOTICE:4 CHATHISTORY=1000 " +
  "MSGREFTYPES=timestamp,msgid";

/** What `CAP LS` offers. */
export const CAPABILITIES = "server-time message-tags batch echo-message draft/chathistory";

/** The lines that end a registration as `nick`: 001 to 005, then 422. */
export function welcomeLines(nick: string): string[] {
  return [
    `:chat 001 ${nick} :Welcome to the chat network, ${nick}`,
    `:chat 002 ${nick} :Your host is chat, running chat`,
    `:chat 003 ${nick} :This server speaks the chat protocol, version 3`,
    `:chat 004 ${nick} chat chat-3 i bnt`,
    `:chat 005 ${nick} ${ISUPPORT} :are supported by this server`,
    `:chat 422 ${nick} :MOTD File is missing`,
  ];
}

/** The clock of a server's history, which the test sets: ids and their times are known in advance. */
export interface HistoryClock {
  /** Now, in ms since the epoch, for the history and its store. */
  now: number;
}

/** 2026-01-02T03:04:05.678Z: where a {@linkcode HistoryClock} starts. */
export const CLOCK_START = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

/**
 * Runs `body` against a server with an IRC port whose history (in memory,
 * bounded as `overrides` say) reads the time from `clock`; always shut down.
 */
export async function withClockedServer(
  overrides: Partial<Config>,
  body: (server: ChatServer, clock: HistoryClock) => Promise<void>,
): Promise<void> {
  const config = {
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    port: 0,
    rate: 0,
    ircPort: 0,
    ...overrides,
  };
  const clock: HistoryClock = { now: CLOCK_START };
  const now = () => clock.now;
  const store = new MemoryStore(retentionOf(config), now);
  const server = ChatServer.listen(config, { history: new ChatHistory({ store, now }) });
  try {
    await body(server, clock);
  } finally {
    await server.shutdown();
  }
}

/** Where an IRC test client connects: a server's IRC port, or its IRC TLS port with a CA. */
export interface IrcTarget {
  readonly port: number;
  readonly caCert?: string;
}

/** The IRC port of `server` (plain). */
export function ircPort(server: ChatServer): number {
  return server.ircAddr!.port;
}

/** A raw IRC connection that reads the server's lines strictly. */
export class IrcClient {
  readonly conn: Deno.Conn;
  #pending = new Uint8Array(0);
  /** Where the unread part of {@linkcode #pending} starts: lines are taken without copying the rest. */
  #start = 0;
  readonly #socket: ClientSocket;
  #syncs = 0;
  /** Bytes of the last line read, its `\r\n` included. */
  lastLineBytes = 0;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#socket = new ClientSocket(conn);
  }

  /** Connects without sending anything. */
  static async connect(target: ChatServer | IrcTarget): Promise<IrcClient> {
    const { port, caCert } = "port" in target
      ? target
      : { port: ircPort(target), caCert: undefined };
    const conn = caCert === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
    return new IrcClient(conn);
  }

  /**
   * Connects and registers as `nick` (with `CAP LS 302` first when `cap`),
   * asserting the whole welcome; joins the channel too when `join`.
   */
  static async register(
    target: ChatServer | IrcTarget,
    nick: string,
    { cap = false, join = true }: { cap?: boolean; join?: boolean } = {},
  ): Promise<IrcClient> {
    const client = await IrcClient.connect(target);
    if (cap) {
      await client.send("CAP LS 302");
      await client.expect(`:chat CAP * LS :${CAPABILITIES}`);
    }
    await client.send(`NICK ${nick}`);
    await client.send(`USER ${nick} 0 * :${nick}`);
    if (cap) await client.send("CAP END");
    await client.expectLines(welcomeLines(nick));
    if (join) await client.join(nick);
    return client;
  }

  /** Sends `JOIN #chat` and reads the answer up to 366, returning the nicks of the 353 lines. */
  async join(nick: string, channel = CHANNEL): Promise<string[]> {
    await this.send(`JOIN ${channel}`);
    await this.expect(`:${nick}!${nick}@chat JOIN ${channel}`);
    const nicks: string[] = [];
    const head = `:chat 353 ${nick} = ${channel} :`;
    for (let line = await this.readLine();; line = await this.readLine()) {
      if (line === `:chat 366 ${nick} ${channel} :End of /NAMES list.`) return nicks;
      if (line === null || !line.startsWith(head)) {
        fail(`expected 353 or 366, got ${JSON.stringify(line)}`);
      }
      nicks.push(...line.slice(head.length).split(" "));
    }
  }

  /** Sends `text` followed by `\r\n`. */
  async send(text: string): Promise<void> {
    await this.sendRaw(encoder.encode(text + "\r\n"));
  }

  /** Sends bytes as they are. */
  async sendRaw(bytes: Uint8Array | string): Promise<void> {
    await this.#socket.write(bytes);
  }

  /**
   * The next line, without its `\r\n`; null once the server has closed. IRCv3
   * bounds a line's tags apart: what follows them is at most 512 bytes.
   */
  async readLine(ms = DEADLINE_MS): Promise<string | null> {
    const bytes = await this.readRawLine(ms);
    if (bytes === null) return null;
    const tagBytes = bytes[0] === 0x40 ? bytes.indexOf(0x20) + 1 : 0;
    assert(tagBytes <= 4096, `${tagBytes} bytes of tags: ${strictDecoder.decode(bytes)}`);
    assert(
      bytes.length - tagBytes <= 512,
      `a line of ${bytes.length - tagBytes} bytes after its tags: ${strictDecoder.decode(bytes)}`,
    );
    return strictDecoder.decode(bytes.subarray(0, -2));
  }

  /** The next line's bytes, `\r\n` included (asserted), whatever their length; null at the end. */
  async readRawLine(ms = DEADLINE_MS): Promise<Uint8Array | null> {
    const bytes = await withDeadline(this.#nextLine(), ms, "waiting for a line");
    if (bytes === null) return null;
    this.lastLineBytes = bytes.length;
    assertEquals(bytes.at(-2), 0x0d, `a line not ending in \\r\\n: ${strictDecoder.decode(bytes)}`);
    return bytes;
  }

  /** Reads one line and asserts it is `expected`. */
  async expect(expected: string, ms = DEADLINE_MS): Promise<void> {
    assertStrictEquals(await this.readLine(ms), expected);
  }

  /** Reads as many lines as `expected` holds and asserts they are those. */
  async expectLines(expected: readonly string[], ms = DEADLINE_MS): Promise<void> {
    assertEquals(await this.readLines(expected.length, ms), expected);
  }

  /** Reads `count` lines. */
  async readLines(count: number, ms = DEADLINE_MS): Promise<string[]> {
    return await readLines(() => this.readLine(ms), count, ms);
  }

  /** Sends a `PING` with a fresh token and returns the lines before its `PONG`. */
  async sync(ms = DEADLINE_MS): Promise<string[]> {
    const token = `sync-${++this.#syncs}`;
    await this.send(`PING ${token}`);
    const lines: string[] = [];
    const pong = `:chat PONG chat :${token}`;
    await withDeadline(
      (async () => {
        for (let line = await this.readLine(ms); line !== pong; line = await this.readLine(ms)) {
          if (line === null) throw new Error(`Connection closed before PONG; got ${lines}`);
          lines.push(line);
        }
      })(),
      ms,
      "waiting for PONG",
    );
    return lines;
  }

  /** Asserts that the server closes the connection next, with no further line. */
  async expectClosed(ms = DEADLINE_MS): Promise<void> {
    const line = await this.readLine(ms);
    assertEquals(line, null, `expected the connection to close, got line ${JSON.stringify(line)}`);
  }

  /** Closes the socket; safe to call twice, and after the server closed it. */
  close(): void {
    this.#socket.close();
  }

  /** Closes, and waits for a pending read to end so that no op outlives the test. */
  async dispose(): Promise<void> {
    this.close();
    await this.#socket.settle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async #nextLine(): Promise<Uint8Array | null> {
    while (true) {
      const lf = this.#pending.indexOf(0x0a, this.#start);
      if (lf !== -1) {
        const line = this.#pending.slice(this.#start, lf + 1);
        this.#start = lf + 1;
        return line;
      }
      const bytes = await this.#socket.next();
      if (bytes === null) return null;
      const rest = this.#pending.subarray(this.#start);
      const joined = new Uint8Array(rest.length + bytes.length);
      joined.set(rest);
      joined.set(bytes, rest.length);
      this.#pending = joined;
      this.#start = 0;
    }
  }
}

/**
 * Connects and registers `nick` having asked for `caps` (all acknowledged)
 * before `CAP END`; `offered` is the `CAP LS` the server answers (with
 * accounts on, `sasl=PLAIN account-tag` follow).
 */
export async function registerWith(
  server: ChatServer,
  nick: string,
  caps: string,
  offered = CAPABILITIES,
): Promise<IrcClient> {
  const irc = await IrcClient.connect(server);
  await irc.send("CAP LS 302");
  await irc.send(`CAP REQ :${caps}`);
  await irc.send(`NICK ${nick}`);
  await irc.send(`USER ${nick} 0 * :${nick}`);
  await irc.send("CAP END");
  await irc.expectLines([
    `:chat CAP * LS :${offered}`,
    `:chat CAP * ACK :${caps}`,
    ...welcomeLines(nick),
  ]);
  return irc;
}
