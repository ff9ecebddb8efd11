/**
 * The chat client's life: connect, log in, watch, relay what the user types
 * and what the server sends, keep the connection alive, and come back after
 * it drops. What the user sees goes through a {@linkcode ChatView}, so the
 * same client serves the terminal and plain pipes.
 *
 * @module
 */
import { type Action, DEFAULT_HISTORY, HELP, parseInput } from "./commands.ts";
import { ConnectError, ServerConnection, type Target } from "./connection.ts";
import { Earlier } from "./earlier.ts";
import { type ChatEvent, describeError } from "./format.ts";
import { CLOSING_ERRORS } from "../web/page/closing_errors.js";
import { ReconnectPolicy } from "./reconnect.ts";
import { Replies } from "./replies.ts";
import { parseServerLine, type ServerLine } from "./server_line.ts";

/** Where the connection stands, for a view that shows it (the terminal's prompt). */
export type ConnectionState = "connecting" | "online" | "offline";

/** Where a client shows things. */
export interface ChatView {
  /** Shows one event. */
  show(event: ChatEvent): void;
  /** Shows events together (a history reply), in order. */
  showAll(events: readonly ChatEvent[]): void;
  /** The connection's state changed. */
  state(state: ConnectionState): void;
}

/** How a client connects and behaves. */
export interface ClientOptions {
  readonly target: Target;
  /** The name to log in as. */
  readonly name: string;
  /** Milliseconds between keepalive `PING`s. */
  readonly pingMs: number;
  /** Randomness for the reconnect jitter (tests pass their own). */
  readonly random?: () => number;
}

/** How {@linkcode ChatClient.run} ended: the exit status, and why when it failed. */
export interface Ending {
  readonly code: number;
  readonly message?: string;
}

/** How long the server may take to answer `LOGIN` (it waits up to 3 s for Redis) before the try counts as failed. */
export const LOGIN_TIMEOUT_MS = 10_000;

/** How long a `QUIT` may take to be honoured before the client closes the connection itself. */
export const QUIT_GRACE_MS = 2_000;

/**
 * How long live lines wait behind the history asked on connect (the server
 * answers within about a second) before they are shown without it.
 */
export const HISTORY_WAIT_MS = 3_000;

/** Lines typed while offline that are kept to send later; more are refused. */
export const MAX_QUEUED = 1000;

/** How one connection ended. */
type SessionEnd =
  | { readonly kind: "refused"; readonly code: string }
  | { readonly kind: "lost"; readonly wasOnline: boolean; readonly why: string | undefined };

/** A chat client for one user name. */
export class ChatClient {
  readonly #options: ClientOptions;
  readonly #view: ChatView;
  readonly #policy: ReconnectPolicy;
  readonly #replies = new Replies();
  /** History replies, and the live events held back while the one asked on connect comes. */
  readonly #earlier: Earlier;
  /** Sends waiting for the connection (or for a WHO or DM to be answered). */
  readonly #queue: Action[] = [];
  #conn: ServerConnection | undefined;
  #online = false;
  #quitting = false;
  #inputEnded = false;
  #quitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Ends a wait between attempts early (the user quit). */
  #wake: (() => void) | undefined;

  /** A client that shows everything on `view`; {@linkcode run} starts it. */
  constructor(options: ClientOptions, view: ChatView) {
    this.#options = options;
    this.#view = view;
    this.#policy = new ReconnectPolicy(options.random);
    this.#earlier = new Earlier((events) => view.showAll(events));
  }

  /** A line the user typed: a command, or text for everyone. */
  input(line: string): void {
    const action = parseInput(line);
    switch (action.kind) {
      case "none":
        return;
      case "help":
      case "misuse":
        // Shown in turn: after the replies to lines typed before it, as a script expects.
        if (this.#queue.length === 0 && !this.#replies.busy) this.#showLocal(action);
        else this.#queue.push(action);
        return;
      case "quit":
        // In turn after lines typed before it, unless they wait for a reconnect that may never come.
        if ((this.#queue.length > 0 || this.#replies.busy) && !this.#reconnecting) {
          this.#queue.push(action);
        } else {
          this.quit();
        }
        return;
      case "say":
      case "dm":
      case "who":
      case "history":
        if (this.#queue.length >= MAX_QUEUED) {
          this.#view.show({
            kind: "warning",
            text: "Too many lines waiting to be sent; not sent.",
          });
          return;
        }
        if (this.#reconnecting) {
          this.#view.show({
            kind: "notice",
            text: "Not connected: this will be sent on reconnect.",
          });
        }
        this.#queue.push(action);
        this.#pump();
        return;
      default: {
        const unhandled: never = action;
        return unhandled;
      }
    }
  }

  /**
   * The user's input ended (end of file): leave once everything typed has been
   * sent and answered. A first login is still awaited, so that a refused one
   * ends the process with its reason and status 1.
   */
  endOfInput(): void {
    this.#inputEnded = true;
    if (this.#queue.length === 0 && !this.#replies.busy && (this.#online || this.#reconnecting)) {
      this.quit();
    }
  }

  /** True while offline after having been online: lines typed now may wait long. */
  get #reconnecting(): boolean {
    return !this.#online && this.#policy.everOnline;
  }

  /** Leaves: `QUIT` when logged in (the server then closes), otherwise stop trying at once. */
  quit(): void {
    if (this.#quitting) return;
    this.#quitting = true;
    this.#wake?.();
    const conn = this.#conn;
    if (conn === undefined) return;
    if (!this.#online) {
      conn.close();
      return;
    }
    conn.send("QUIT");
    this.#quitTimer = setTimeout(() => conn.close(), QUIT_GRACE_MS);
  }

  /** Runs until the user quits (status 0) or the client gives up (status 1, with the reason). */
  async run(): Promise<Ending> {
    const { target, name } = this.#options;
    const where = `${target.host}:${target.port}`;
    while (!this.#quitting) {
      this.#view.state("connecting");
      let conn: ServerConnection;
      try {
        conn = await ServerConnection.open(target);
      } catch (error) {
        if (!(error instanceof ConnectError)) throw error;
        if (this.#quitting) break;
        const decision = this.#policy.failed();
        if (decision.kind === "give-up") return { code: 1, message: error.message };
        this.#view.state("offline");
        this.#view.show({
          kind: "warning",
          text: `${error.message}; ${retrying(decision.delayMs)}`,
        });
        await this.#sleep(decision.delayMs);
        continue;
      }
      if (this.#quitting) {
        conn.close();
        break;
      }
      const end = await this.#session(conn);
      // The input has ended and all of it went out: nothing is left to come back for.
      if (this.#inputEnded && this.#queue.length === 0 && this.#policy.everOnline) this.quit();
      if (this.#quitting) break;
      this.#view.state("offline");
      const decision = end.kind === "refused"
        ? this.#policy.refused(end.code, Date.now())
        : this.#policy.failed();
      if (decision.kind === "give-up") {
        if (end.kind === "lost") {
          return { code: 1, message: end.why ?? `The server at ${where} closed the connection.` };
        }
        const hint = end.code === "username-taken" || end.code === "invalid-username"
          ? " Choose another with --name."
          : "";
        return { code: 1, message: `Cannot log in as ${name}: ${describeError(end.code)}${hint}` };
      }
      const reason = end.kind === "refused" && end.code === "username-taken"
        ? `The name ${name} is still taken (the old connection may not be given up yet)`
        : end.kind === "refused"
        ? describeError(end.code).replace(/\.$/, "")
        : end.wasOnline
        ? (end.why ?? "Connection lost").replace(/\.$/, "")
        : (end.why ?? "The server closed the connection").replace(/\.$/, "");
      this.#view.show({ kind: "warning", text: `${reason}; ${retrying(decision.delayMs)}` });
      await this.#sleep(decision.delayMs);
    }
    return { code: 0 };
  }

  /** One connection, from `LOGIN` to its end. */
  async #session(conn: ServerConnection): Promise<SessionEnd> {
    this.#conn = conn;
    conn.send(`LOGIN ${this.#options.name}`);
    let why: string | undefined;
    let refusal: string | undefined;
    let wasOnline = false;
    const loginTimer = setTimeout(() => {
      why = "The server did not answer the login.";
      conn.close();
    }, LOGIN_TIMEOUT_MS);
    let keepalive: ReturnType<typeof setInterval> | undefined;
    let historyWait: ReturnType<typeof setTimeout> | undefined;
    // The keepalive notes when it pings; a ping with no line at all from the server
    // before the next one means the connection is dead (a server gone without a FIN).
    let heard = true;
    try {
      for await (const line of conn.lines()) {
        heard = true;
        const parsed = parseServerLine(line);
        if (this.#online) {
          this.#handle(parsed);
          continue;
        }
        if (parsed.kind === "ok") {
          clearTimeout(loginTimer);
          wasOnline = true;
          keepalive = setInterval(() => {
            if (!heard) {
              why = "The server stopped answering.";
              conn.close();
              return;
            }
            heard = false;
            conn.send("PING");
            this.#replies.sent({ kind: "keepalive" });
          }, this.#options.pingMs);
          historyWait = setTimeout(() => this.#earlier.release(), HISTORY_WAIT_MS);
          this.#loggedIn(conn);
        } else if (parsed.kind === "err") {
          if (CLOSING_ERRORS.has(parsed.code)) {
            why = describeError(parsed.code);
            continue;
          }
          refusal = parsed.code;
          break;
        }
      }
    } catch (error) {
      why = `Connection failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      clearTimeout(loginTimer);
      clearInterval(keepalive);
      clearTimeout(historyWait);
      clearTimeout(this.#quitTimer);
      conn.close();
      this.#conn = undefined;
      this.#online = false;
      this.#earlier.reset();
      for (const warning of this.#replies.reset()) this.#view.show(warning);
    }
    return refusal === undefined
      ? { kind: "lost", wasOnline, why }
      : { kind: "refused", code: refusal };
  }

  #loggedIn(conn: ServerConnection): void {
    const { target, name } = this.#options;
    const again = this.#policy.everOnline;
    this.#policy.online();
    this.#online = true;
    // Join and leave notices (protocol version 2); a version 1 server ignores the line.
    conn.send("WATCH");
    this.#view.state("online");
    this.#view.show({
      kind: "notice",
      text: again
        ? `reconnected as ${name}`
        : `connected to ${target.host}:${target.port} as ${name}`,
    });
    // The latest messages (on a reconnect, those not shown yet) before anything live or typed.
    this.#askHistory(conn, DEFAULT_HISTORY, true);
    this.#pump();
  }

  /**
   * Sends `HISTORY limit` and a `PING`: the reply ends at `HIST END`, and a
   * server before version 3, which ignores the command, answers just `PONG`.
   */
  #askHistory(conn: ServerConnection, limit: number, onConnect: boolean): void {
    conn.send(`HISTORY ${limit}`);
    conn.send("PING");
    this.#replies.sent({ kind: "history" });
    this.#earlier.asked(onConnect);
  }

  /** A server line while logged in. */
  #handle(line: ServerLine): void {
    switch (line.kind) {
      case "msg":
        this.#earlier.event({ kind: "message", from: line.from, text: line.text, own: false });
        return;
      case "dm":
        this.#earlier.event({ kind: "dm-in", from: line.from, text: line.text });
        return;
      case "joined":
      case "left":
        this.#earlier.event(line);
        return;
      case "hist":
        if (!this.#earlier.hist(line)) {
          const raw = `HIST ${line.id} ${line.from} ${line.text}`;
          this.#earlier.event({ kind: "unknown", line: raw });
        }
        return;
      case "hist-end":
        if (!this.#earlier.end()) this.#earlier.event({ kind: "unknown", line: "HIST END" });
        return;
      case "user":
        this.#replies.user(line.name);
        return;
      case "pong": {
        const history = this.#replies.head?.kind === "history";
        const event = this.#replies.pong();
        if (history) this.#earlier.answered();
        if (event !== undefined) this.#earlier.event(event);
        this.#pump();
        return;
      }
      case "err":
        this.#earlier.event(
          line.code === "user-not-found"
            ? this.#replies.userNotFound()
            : { kind: "error", code: line.code },
        );
        return;
      case "unknown":
        this.#earlier.event(line);
        return;
      case "ok":
        return;
      default: {
        const unhandled: never = line;
        return unhandled;
      }
    }
  }

  /** Sends what is queued, stopping after a WHO or DM until its answer is in. */
  #pump(): void {
    const conn = this.#conn;
    if (!this.#online || conn === undefined || this.#quitting) return;
    while (this.#queue.length > 0 && !this.#replies.busy) {
      const action = this.#queue.shift()!;
      if (action.kind === "say") {
        conn.send(`MSG ${action.text}`);
        this.#earlier.event({
          kind: "message",
          from: this.#options.name,
          text: action.text,
          own: true,
        });
      } else if (action.kind === "dm") {
        conn.send(`DM ${action.to} ${action.text}`);
        conn.send("PING");
        this.#replies.sent({ kind: "dm", to: action.to, text: action.text });
      } else if (action.kind === "who") {
        conn.send("WHO");
        conn.send("PING");
        this.#replies.sent({ kind: "who" });
      } else if (action.kind === "history") {
        this.#askHistory(conn, action.limit, false);
      } else if (action.kind === "quit") {
        this.quit();
        return;
      } else {
        this.#showLocal(action);
      }
    }
    if (this.#inputEnded && this.#queue.length === 0 && !this.#replies.busy) this.quit();
  }

  #showLocal(action: Action): void {
    if (action.kind === "help") {
      for (const text of HELP) this.#view.show({ kind: "notice", text });
    } else if (action.kind === "misuse") {
      this.#view.show({ kind: "warning", text: action.text });
    }
  }

  /** Waits `ms`, or less if the user quits meanwhile. */
  async #sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      this.#wake = resolve;
    });
    clearTimeout(timer);
    this.#wake = undefined;
  }
}

function retrying(ms: number): string {
  return `trying again in ${(ms / 1000).toFixed(1)} s`;
}
