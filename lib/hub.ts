/**
 * The hub: the single owner of every piece of shared state (connections,
 * names, login order, last activity). It applies events one at a time,
 * synchronously, and reaches clients only through {@linkcode ClientLink} and
 * users elsewhere only through a {@linkcode Cluster}.
 *
 * @module
 */
import type { ClientLink } from "./client_link.ts";
import { type Cluster, type ClusterEvent, type LocalUser, Standalone } from "./cluster.ts";
import { LineArena } from "./line_arena.ts";
import { type Logger, SILENT_LOGGER } from "./log.ts";
import { nameKey, validateName } from "./names.ts";
import {
  type CloseReason,
  type Command,
  formatDisconnected,
  formatDm,
  formatMsg,
  formatUserList,
  isBlankText,
  REPLY,
} from "./protocol.ts";
import { Stats } from "./stats.ts";

/** Everything that can happen to the hub, in the order it happens. */
export type HubEvent =
  | { readonly kind: "open"; readonly link: ClientLink }
  | { readonly kind: "command"; readonly link: ClientLink; readonly command: Command }
  | { readonly kind: "line-too-long"; readonly link: ClientLink }
  | { readonly kind: "closed"; readonly link: ClientLink; readonly reason: CloseReason }
  | { readonly kind: "tick" }
  | { readonly kind: "shutdown" }
  | ClusterEvent;

/** Lines a client may send while its `LOGIN` waits for the cluster; one more and it is dropped. */
export const MAX_LINES_WHILE_CLAIMING = 1000;
/** Characters of text a client may send while its `LOGIN` waits; past them it is dropped. */
export const MAX_CHARS_WHILE_CLAIMING = 64 * 1024;

/** The text a command holds, in characters: what buffering it costs. */
function commandChars(command: Command): number {
  switch (command.kind) {
    case "login":
      return command.name.length;
    case "msg":
      return command.text.length;
    case "dm":
      return command.target.length + command.text.length;
    default:
      return 0;
  }
}

/** Limits the hub enforces. */
export interface HubOptions {
  /** Open connections at most. */
  readonly maxClients: number;
  /** Open connections from one address at most; 0: no limit. */
  readonly maxClientsPerIp?: number;
  /** True for addresses the per-address limit does not apply to. */
  readonly ipLimitExempt?: (ip: string) => boolean;
  /** Milliseconds without a complete line before a client is closed. */
  readonly idleTimeoutMs: number;
  /** The clock, in milliseconds; injected so tests can move time. */
  readonly now: () => number;
  /** Where logins and disconnects are logged. */
  readonly log?: Logger;
  /** Where the hub counts what it does. */
  readonly stats?: Stats;
  /** Delivery and presence beyond this process; by default there is none. */
  readonly cluster?: Cluster;
}

interface Session {
  readonly link: ClientLink;
  /** Shown name, once logged in. */
  name: string | undefined;
  /** The name's key in the user table, once logged in. */
  key: string;
  /** Chat-wide login number, once logged in. */
  seq: number;
  /** Commands received while a `LOGIN` waits for the cluster's answer, applied once it comes. */
  waiting: Command[] | undefined;
  /** The characters of text in {@linkcode Session.waiting}. */
  waitingChars: number;
  lastSeen: number;
  readonly connectedAt: number;
  /** The address counted against the per-address limit, or undefined when exempt. */
  readonly countedIp: string | undefined;
}

/**
 * Applies {@linkcode HubEvent}s. Feed it with {@linkcode Hub.run} (an async
 * iterable of event batches) or, in tests, {@linkcode Hub.apply}.
 */
export class Hub {
  readonly #options: HubOptions;
  readonly #log: Logger;
  /** Counters for `/metrics`, owned by the hub's single thread of control. */
  readonly stats: Stats;
  readonly #sessions = new Map<ClientLink, Session>();
  /** Open connections by address, for the per-address limit (exempt addresses not counted). */
  readonly #perIp = new Map<string, number>();
  /** Logged-in sessions by name key; insertion order is login order. */
  readonly #users = new Map<string, Session>();
  /** Sessions whose outbox overflowed during the current event; dropped once it is applied. */
  #overflowed: Session[] = [];
  /** Sessions whose link threw during the current event; closed with `error` once it is applied. */
  #faulty: Session[] = [];
  #stopped = false;
  /** Broadcasts are encoded here, back to back, so outboxes can merge them without copying. */
  readonly #arena = new LineArena();
  readonly #encodeShared = (text: string) => this.#arena.encode(text);
  readonly #cluster: Cluster;

  /** A hub enforcing `options`. */
  constructor(options: HubOptions) {
    this.#options = options;
    this.#log = options.log ?? SILENT_LOGGER;
    this.stats = options.stats ?? new Stats();
    this.#cluster = options.cluster ?? new Standalone();
  }

  /** Open connections, logged in or not. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Logged-in users. */
  get userCount(): number {
    return this.#users.size;
  }

  /** Logged-in names of this instance, in login order. */
  get userNames(): string[] {
    return [...this.#users.values()].map((s) => s.name!);
  }

  /** Every logged-in name in the chat, this instance's and the cluster's, in login order. */
  #allUserNames(): string[] {
    const remote = this.#cluster.remoteUsers();
    if (remote.length === 0) return this.userNames;
    const local = [...this.#users.values()];
    const names: string[] = [];
    let r = 0;
    for (const session of local) {
      while (r < remote.length && remote[r]!.seq < session.seq) names.push(remote[r++]!.name);
      names.push(session.name!);
    }
    while (r < remote.length) names.push(remote[r++]!.name);
    return names;
  }

  /** Applies every batch of events until the iterable ends. */
  async run(events: AsyncIterable<readonly HubEvent[]>): Promise<void> {
    for await (const batch of events) {
      for (const event of batch) this.apply(event);
    }
  }

  /**
   * Applies one event, synchronously. A fault while handling one client's
   * event (a bug, a link that throws) closes that client alone, with reason
   * `error`; the hub and everyone else carry on.
   */
  apply(event: HubEvent): void {
    try {
      this.#apply(event);
    } catch (error) {
      this.#contain(event, error);
    }
  }

  #apply(event: HubEvent): void {
    if (this.#stopped) {
      this.#applyStopped(event);
      return;
    }
    switch (event.kind) {
      case "open":
        this.#open(event.link);
        break;
      case "command": {
        const session = this.#sessions.get(event.link);
        if (session === undefined) return;
        session.lastSeen = this.#options.now();
        this.stats.linesReceived[event.command.kind]++;
        this.#command(session, event.command);
        break;
      }
      case "line-too-long": {
        const session = this.#sessions.get(event.link);
        if (session === undefined) return;
        this.stats.linesTooLong++;
        this.#reply(session, REPLY.lineTooLong);
        break;
      }
      case "closed": {
        const session = this.#sessions.get(event.link);
        if (session === undefined) event.link.close(event.reason);
        else this.#disconnect(session, event.reason);
        break;
      }
      case "tick":
        this.#closeIdle();
        break;
      case "shutdown":
        this.#shutdown();
        break;
      case "claimed":
      case "claim-refused":
        this.#claimAnswered(event);
        break;
      case "remote-msg":
        this.#broadcast(formatMsg(event.sender, event.text, this.#encodeShared), undefined);
        break;
      case "remote-dm": {
        const recipient = this.#users.get(event.target);
        if (recipient !== undefined) this.#reply(recipient, formatDm(event.sender, event.text));
        break;
      }
      case "remote-left":
        this.#broadcast(formatDisconnected(event.name, this.#encodeShared), undefined);
        break;
      case "name-lost": {
        const holder = this.#users.get(event.key);
        if (holder !== undefined) this.#disconnect(holder, "name-conflict");
        break;
      }
      default:
        event satisfies never;
    }
    this.#dropOverflowed();
  }

  #contain(event: HubEvent, error: unknown): void {
    const link = "link" in event ? event.link : undefined;
    this.#log.error("event failed", {
      event: event.kind,
      address: link?.remote,
      error: error instanceof Error ? error.stack ?? error.message : String(error),
    });
    if (link !== undefined) this.#closeFaulty(link);
    try {
      this.#dropOverflowed();
    } catch {
      this.#overflowed = [];
      this.#faulty = [];
    }
  }

  #closeFaulty(link: ClientLink): void {
    const session = this.#sessions.get(link);
    try {
      if (session !== undefined) this.#disconnect(session, "error");
      else link.close("error");
    } catch (again) {
      // The link's own close failed too: forget it rather than fail twice.
      if (session !== undefined && this.#sessions.delete(link)) this.#uncount(session);
      if (session?.name !== undefined && this.#users.delete(session.key)) {
        this.#cluster.leave(this.#localUser(session));
      }
      this.#log.error("close failed", { address: link.remote, error: String(again) });
    }
  }

  #open(link: ClientLink): void {
    if (this.#sessions.size >= this.#options.maxClients) {
      this.#refuse(link, "server-full", { maxClients: this.#options.maxClients });
      return;
    }
    const perIpLimit = this.#options.maxClientsPerIp ?? 0;
    let countedIp: string | undefined;
    if (perIpLimit > 0 && !(this.#options.ipLimitExempt?.(link.ip) ?? false)) {
      const open = this.#perIp.get(link.ip) ?? 0;
      if (open >= perIpLimit) {
        this.#refuse(link, "too-many-connections", { maxClientsPerIp: perIpLimit });
        return;
      }
      this.#perIp.set(link.ip, open + 1);
      countedIp = link.ip;
    }
    const now = this.#options.now();
    this.#sessions.set(link, {
      link,
      name: undefined,
      key: "",
      seq: 0,
      waiting: undefined,
      waitingChars: 0,
      lastSeen: now,
      connectedAt: now,
      countedIp,
    });
  }

  #refuse(link: ClientLink, reason: CloseReason, limit: Record<string, number>): void {
    this.stats.disconnects[reason]++;
    this.#log.warn(`refused: ${reason === "server-full" ? "server full" : reason}`, {
      address: link.remote,
      ...limit,
    });
    link.close(reason);
  }

  #command(session: Session, command: Command): void {
    const waiting = session.waiting;
    if (waiting !== undefined) {
      // Pipelined lines keep their order: they are answered after the LOGIN that went before them.
      session.waitingChars += commandChars(command);
      if (
        waiting.length < MAX_LINES_WHILE_CLAIMING &&
        session.waitingChars <= MAX_CHARS_WHILE_CLAIMING
      ) {
        waiting.push(command);
      } else this.#disconnect(session, "excess-flood");
      return;
    }
    switch (command.kind) {
      case "ping":
        this.#reply(session, REPLY.pong);
        return;
      case "quit":
        this.#disconnect(session, "quit");
        return;
      case "ignored":
        return;
      case "login":
        this.#login(session, command.name);
        return;
    }
    const sender = session.name;
    if (sender === undefined) {
      this.#reply(session, REPLY.loginRequired);
      return;
    }
    switch (command.kind) {
      case "msg":
        if (!isBlankText(command.text)) {
          this.#broadcast(formatMsg(sender, command.text, this.#encodeShared), session);
          this.#cluster.broadcast(sender, command.text);
        }
        return;
      case "who": {
        const names = this.#allUserNames();
        this.#reply(session, formatUserList(names), names.length);
        return;
      }
      case "dm":
        this.#directMessage(session, sender, command.target, command.text);
        return;
      default:
        command satisfies never;
    }
  }

  #login(session: Session, raw: string): void {
    if (session.name !== undefined) {
      this.#reply(session, REPLY.alreadyLoggedIn);
      return;
    }
    const name = validateName(raw);
    if (name === undefined) {
      this.#reply(session, REPLY.invalidUsername);
      return;
    }
    const key = nameKey(name);
    if (this.#users.has(key)) {
      this.#reply(session, REPLY.usernameTaken);
      return;
    }
    const seq = this.#cluster.claim(session.link, name, key);
    if (seq === undefined) {
      session.waiting = [];
      session.waitingChars = 0;
    } else this.#admit(session, name, key, seq);
  }

  #admit(session: Session, name: string, key: string, seq: number): void {
    session.name = name;
    session.key = key;
    session.seq = seq;
    this.#users.set(key, session);
    this.#reply(session, REPLY.ok);
    this.#log.info("login", { name, address: session.link.remote });
  }

  #claimAnswered(event: ClusterEvent & { kind: "claimed" | "claim-refused" }): void {
    const session = this.#sessions.get(event.link);
    if (session === undefined || session.waiting === undefined) {
      // The client left while its claim was on its way: the name goes back at once.
      if (event.kind === "claimed") this.#cluster.leave(event);
      return;
    }
    const waiting = session.waiting;
    session.waiting = undefined;
    if (event.kind === "claimed") this.#admit(session, event.name, event.key, event.seq);
    else {
      this.#reply(
        session,
        event.refusal === "username-taken" ? REPLY.usernameTaken : REPLY.clusterUnavailable,
      );
    }
    for (let i = 0; i < waiting.length; i++) {
      if (!this.#sessions.has(session.link)) return;
      const again = session.waiting as Command[] | undefined;
      if (again !== undefined) {
        // A pipelined LOGIN went to the cluster in turn: the rest waits for that answer.
        again.push(...waiting.slice(i));
        return;
      }
      this.#command(session, waiting[i]!);
    }
  }

  #directMessage(session: Session, sender: string, target: string, text: string): void {
    if (isBlankText(text)) return;
    const key = nameKey(target);
    const recipient = this.#users.get(key);
    if (recipient !== undefined) {
      this.#reply(recipient, formatDm(sender, text));
      return;
    }
    switch (this.#cluster.directMessage(sender, key, text)) {
      case "not-found":
        this.#reply(session, REPLY.userNotFound);
        return;
      case "unavailable":
        this.#reply(session, REPLY.clusterUnavailable);
        return;
      case "sent":
        return;
    }
  }

  /** Sends the same bytes to every logged-in session but `except`. */
  #broadcast(bytes: Uint8Array, except: Session | undefined): void {
    let delivered = 0;
    for (const session of this.#users.values()) {
      if (session !== except && this.#send(session, bytes)) delivered++;
    }
    this.stats.linesDelivered += delivered;
  }

  /** Sends `bytes` (holding `lines` lines) to one session. */
  #reply(session: Session, bytes: Uint8Array, lines = 1): void {
    if (this.#send(session, bytes)) this.stats.linesDelivered += lines;
  }

  /** Hands bytes to one link; an overflow or a throw marks that session alone for dropping. */
  #send(session: Session, bytes: Uint8Array): boolean {
    try {
      if (session.link.send(bytes)) return true;
      this.#overflowed.push(session);
    } catch (error) {
      this.#log.error("send failed", { address: session.link.remote, error: String(error) });
      this.#faulty.push(session);
    }
    return false;
  }

  #closeIdle(): void {
    const deadline = this.#options.now() - this.#options.idleTimeoutMs;
    for (const session of this.#sessions.values()) {
      if (session.lastSeen <= deadline) this.#disconnect(session, "idle");
    }
  }

  /** Forgets a session, tells the others if it was logged in, and closes it. */
  #disconnect(session: Session, reason: CloseReason): void {
    if (!this.#sessions.delete(session.link)) return;
    this.#uncount(session);
    session.link.close(reason);
    this.stats.disconnects[reason]++;
    const name = session.name;
    const fields = {
      name,
      address: session.link.remote,
      reason,
      seconds: Math.round(this.#options.now() - session.connectedAt) / 1000,
    };
    // A slow consumer is worth a warning; anonymous comings and goings (health checks, scanners) are detail.
    if (reason === "slow-consumer" || reason === "excess-flood") {
      this.#log.warn("disconnect", fields);
    } else if (name !== undefined) this.#log.info("disconnect", fields);
    else this.#log.debug("disconnect", fields);
    if (name === undefined) return;
    this.#users.delete(session.key);
    this.#cluster.leave(this.#localUser(session));
    this.#broadcast(formatDisconnected(name, this.#encodeShared), undefined);
  }

  #localUser(session: Session): LocalUser {
    return { name: session.name!, key: session.key, seq: session.seq };
  }

  #uncount(session: Session): void {
    const ip = session.countedIp;
    if (ip === undefined) return;
    const open = this.#perIp.get(ip)! - 1;
    if (open === 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, open);
  }

  #dropOverflowed(): void {
    // Dropping one session broadcasts an INFO line, which may overflow others in turn.
    while (this.#overflowed.length > 0 || this.#faulty.length > 0) {
      const overflowed = this.#overflowed;
      const faulty = this.#faulty;
      this.#overflowed = [];
      this.#faulty = [];
      for (const session of overflowed) this.#disconnect(session, "slow-consumer");
      for (const session of faulty) this.#disconnect(session, "error");
    }
  }

  #shutdown(): void {
    this.#stopped = true;
    this.stats.disconnects.shutdown += this.#sessions.size;
    for (const session of this.#sessions.values()) session.link.close("shutdown");
    // The other instances say goodbye to this one's users; those closed here hear nothing more.
    for (const session of this.#users.values()) this.#cluster.leave(this.#localUser(session));
    this.#sessions.clear();
    this.#perIp.clear();
    this.#users.clear();
    this.#overflowed = [];
    this.#faulty = [];
  }

  /** After shutdown every connection still speaking is closed, and nothing else happens. */
  #applyStopped(event: HubEvent): void {
    if (event.kind === "open") event.link.close("shutdown");
    else if (event.kind === "closed") event.link.close(event.reason);
    else if (event.kind === "claimed") this.#cluster.leave(event);
  }
}
