/**
 * The chat client's life: connect, log in, watch, relay what the user types
 * and what the server sends, keep the connection alive, and come back after
 * it drops. What the user sees goes through a {@linkcode ChatView}, so the
 * same client serves the terminal and plain pipes.
 *
 * @module
 */
import { AccountLogin, type LoginLink, type SecretAsker } from "./account_login.ts";
import { accountAnswer, type AccountRequest, askAccount, requestLine } from "./account_prompts.ts";
import { type Action, DEFAULT_HISTORY, HELP, parseInput } from "./commands.ts";
import { ConnectionWatch } from "./connection_watch.ts";
import { ConnectError, ServerConnection, type Target } from "./connection.ts";
import { Earlier } from "./earlier.ts";
import { type ChatEvent, describeError } from "./format.ts";
import { CLOSING_ERRORS } from "../web/page/closing_errors.js";
import { giveUpMessage, ReconnectPolicy, retryReason, type SessionEnd } from "./reconnect.ts";
import { type Awaited, Replies } from "./replies.ts";
import { parseServerLine, type ServerLine } from "./server_line.ts";

/** Where the connection stands, for a view that shows it (the terminal's prompt). */
export type ConnectionState = "connecting" | "online" | "offline";

/** Where a client shows things, and asks for passwords. */
export interface ChatView extends SecretAsker {
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
  /** A password given up front (`--password-stdin`), used if the name turns out to be an account. */
  readonly password?: string | undefined;
  /** Whether the view may ask for the login's password (a terminal, not pipes). */
  readonly promptLogin?: boolean;
}

/** How {@linkcode ChatClient.run} ended: the exit status, and why when it failed. */
export interface Ending {
  readonly code: number;
  readonly message?: string;
}

/** How long a `QUIT` may take to be honoured before the client closes the connection itself. */
export const QUIT_GRACE_MS = 2_000;

/**
 * How long live lines wait behind the history asked on connect (the server
 * answers within about a second) before they are shown without it.
 */
export const HISTORY_WAIT_MS = 3_000;

/** Lines typed while offline that are kept to send later; more are refused. */
export const MAX_QUEUED = 1000;

/** What waits to be sent: a typed line's action, or an account command with its passwords. */
type Queued =
  | Exclude<Action, { kind: "account" }>
  | { readonly kind: "account-request"; readonly request: AccountRequest };

/** A chat client for one user name. */
export class ChatClient {
  readonly #options: ClientOptions;
  readonly #view: ChatView;
  readonly #policy: ReconnectPolicy;
  readonly #replies = new Replies();
  /** History replies, and the live events held back while the one asked on connect comes. */
  readonly #earlier: Earlier;
  /** Sends waiting for the connection (or for a WHO or DM to be answered). */
  readonly #queue: Queued[] = [];
  readonly #login: AccountLogin;
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
    this.#login = new AccountLogin(options.name, view, {
      password: options.password,
      prompt: options.promptLogin ?? false,
    });
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
      case "account":
        askAccount(action.command, this.#view, (request) => {
          this.#enqueue({ kind: "account-request", request });
        });
        return;
      case "say":
      case "dm":
      case "who":
      case "history":
        this.#enqueue(action);
        return;
      default: {
        const unhandled: never = action;
        return unhandled;
      }
    }
  }

  /** Queues something to send, and sends it now if it can go. */
  #enqueue(queued: Queued): void {
    if (this.#queue.length >= MAX_QUEUED) {
      return this.#view.show({
        kind: "warning",
        text: "Too many lines waiting to be sent; not sent.",
      });
    }
    if (this.#reconnecting) {
      this.#view.show({ kind: "notice", text: "Not connected: this will be sent on reconnect." });
    }
    this.#queue.push(queued);
    this.#pump();
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
        await this.#retry(error.message, decision.delayMs);
        continue;
      }
      if (this.#quitting) {
        conn.close();
        break;
      }
      const end = await this.#session(conn);
      // Said even if the user was leaving meanwhile: once the name is taken over, that is the news.
      if (end.kind === "replaced") return { code: 1, message: giveUpMessage(end, name, where) };
      // The input has ended and all of it went out: nothing is left to come back for.
      if (this.#inputEnded && this.#queue.length === 0 && this.#policy.everOnline) this.quit();
      if (this.#quitting) break;
      this.#view.state("offline");
      const decision = this.#policy.after(end, Date.now());
      if (decision.kind === "give-up") return { code: 1, message: giveUpMessage(end, name, where) };
      await this.#retry(retryReason(end, name), decision.delayMs);
    }
    return { code: 0 };
  }

  /** One connection, from `LOGIN` to its end. */
  async #session(conn: ServerConnection): Promise<SessionEnd> {
    this.#conn = conn;
    let why: string | undefined;
    let refusal: string | undefined;
    let replaced = false;
    let wasOnline = false;
    const watch = new ConnectionWatch({
      ping: () => this.#ask(conn, undefined, { kind: "keepalive" }),
      close: () => conn.close(),
    }, this.#options.pingMs);
    const link: LoginLink = {
      send: (line) => {
        conn.send(line);
        watch.awaitLogin();
      },
      asking: () => watch.loginAnswered(),
      cancelled: () => this.quit(),
    };
    let historyWait: ReturnType<typeof setTimeout> | undefined;
    try {
      this.#login.start(link);
      for await (const line of conn.lines()) {
        watch.heard();
        const parsed = parseServerLine(line);
        if (this.#online) {
          if (parsed.kind === "err" && parsed.code === "session-replaced") replaced = true;
          this.#handle(parsed);
          continue;
        }
        if (parsed.kind === "ok") {
          watch.loginAnswered();
          this.#login.ok();
          wasOnline = true;
          historyWait = setTimeout(() => this.#earlier.release(), HISTORY_WAIT_MS);
          this.#loggedIn(conn);
        } else if (parsed.kind === "pong") {
          this.#replies.pong();
        } else if (parsed.kind === "err") {
          if (CLOSING_ERRORS.has(parsed.code)) {
            why = describeError(parsed.code);
            continue;
          }
          const step = this.#login.error(parsed.code);
          if (step.kind === "continue") continue;
          refusal = step.code;
          break;
        }
      }
    } catch (error) {
      why = `Connection failed: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.#login.end();
      watch.stop();
      clearTimeout(historyWait);
      clearTimeout(this.#quitTimer);
      conn.close();
      this.#conn = undefined;
      this.#online = false;
      this.#earlier.reset();
      for (const warning of this.#replies.reset()) this.#view.show(warning);
    }
    if (replaced) return { kind: "replaced" };
    return refusal === undefined
      ? { kind: "lost", wasOnline, why: why ?? watch.why }
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
    this.#ask(conn, `HISTORY ${limit}`, { kind: "history" });
    this.#earlier.asked(onConnect);
  }

  /** Sends `line` (if any) and a `PING`, whose `PONG` ends its answer. */
  #ask(conn: ServerConnection, line: string | undefined, awaited: Awaited): void {
    if (line !== undefined) conn.send(line);
    conn.send("PING");
    this.#replies.sent(awaited);
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
        if (this.#accountAnswer(line)) return;
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
        this.#accountAnswer(line);
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
        this.#ask(conn, `DM ${action.to} ${action.text}`, action);
      } else if (action.kind === "who") {
        this.#ask(conn, "WHO", action);
      } else if (action.kind === "account-request") {
        this.#ask(conn, requestLine(action.request), { kind: "account", request: action.request });
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

  /** Takes `line` as the answer to the account command in flight, if it is one; true if so. */
  #accountAnswer(line: { kind: "ok"; text: string } | { kind: "err"; code: string }): boolean {
    const head = this.#replies.head;
    if (head?.kind !== "account") return false;
    const answer = accountAnswer(head.request, line, this.#options.name);
    if (answer === undefined) return false;
    if (answer.done && head.request.kind === "unregister") this.#login.forget();
    else if (answer.done) this.#login.keep(head.request.password);
    this.#earlier.event(answer.event);
    return true;
  }

  #showLocal(action: Queued): void {
    if (action.kind === "help") {
      for (const text of HELP) this.#view.show({ kind: "notice", text });
    } else if (action.kind === "misuse") {
      this.#view.show({ kind: "warning", text: action.text });
    }
  }

  /** Says `why` the client is offline, then waits `ms` (less if the user quits meanwhile). */
  async #retry(why: string, ms: number): Promise<void> {
    this.#view.state("offline");
    this.#view.show({
      kind: "warning",
      text: `${why}; trying again in ${(ms / 1000).toFixed(1)} s`,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      this.#wake = resolve;
    });
    clearTimeout(timer);
    this.#wake = undefined;
  }
}
