/**
 * The hub: the single owner of every piece of shared state (connections,
 * names, login order, last activity). It applies events one at a time,
 * synchronously, and reaches clients only through {@linkcode ClientLink} and
 * users elsewhere only through a {@linkcode Cluster}. What each command does
 * is in `hub_commands.ts`; every byte for a client leaves through one
 * {@linkcode Delivery}.
 *
 * @module
 */
import { type AccountAnswer, accountAnswered } from "./accounts/account_commands.ts";
import { AddressCounts } from "./address_counts.ts";
import type { ClientLink } from "./client_link.ts";
import { type Cluster, type ClusterEvent, REFUSAL_REPLIES, Standalone } from "./cluster.ts";
import { Delivery } from "./delivery.ts";
import { departureWords } from "./departure.ts";
import { ChatHistory, type HistoryRequest } from "./history/chat_history.ts";
import type { HubEvent, HubOptions } from "./hub_types.ts";
import { type CommandContext, runCommand } from "./hub_commands.ts";
import { applyRemote } from "./hub_remote.ts";
import { type Logger, SILENT_LOGGER } from "./log.ts";
import type { CloseReason, Command, HistoryAsk } from "./protocol.ts";
import {
  ANONYMOUS,
  HEARS_CHAT,
  isMember,
  makeMember,
  type MemberSession,
  type Session,
  startClaim,
  startHold,
} from "./session.ts";
import { Stats } from "./stats.ts";

export type { HubEvent, HubOptions } from "./hub_types.ts";

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
  readonly #addresses: AddressCounts;
  /** Logged-in sessions by name key; insertion order is login order. */
  readonly #users = new Map<string, MemberSession>();
  /** Sessions that sent `WATCH`, logged in or not: they hear of every login. */
  readonly #watchers = new Set<Session>();
  /** The one way out to clients. */
  readonly #delivery: Delivery;
  #stopped = false;
  readonly #cluster: Cluster;
  readonly #history: ChatHistory;
  /** What the command handlers may do here; one object for the hub's life. */
  readonly #commands: CommandContext;
  /** Hands an answer from elsewhere (a store, a password check) back to the hub's loop. */
  readonly #post: (event: HubEvent) => void;

  /** A hub enforcing `options`. */
  constructor(options: HubOptions) {
    this.#options = options;
    this.#log = options.log ?? SILENT_LOGGER;
    this.stats = options.stats ?? new Stats();
    this.#cluster = options.cluster ?? new Standalone();
    this.#addresses = new AddressCounts(options.maxClientsPerIp ?? 0, options.ipLimitExempt);
    this.#history = options.history ?? new ChatHistory({ store: undefined });
    this.#delivery = new Delivery(
      this.#users,
      this.#watchers,
      this.stats,
      this.#log,
      options.maxQueueBytes,
    );
    this.#post = options.post ?? ((event: HubEvent) => this.apply(event));
    this.#commands = {
      desk: options.accounts,
      wait: (session, work) => this.#wait(session, work),
      users: this.#users,
      cluster: this.#cluster,
      delivery: this.#delivery,
      history: this.#history,
      readHistory: (member, request, ask) => this.#readHistory(member, request, ask),
      claim: (session, name, key, account) => this.#claim(session, name, key, account),
      disconnect: (session, reason, said) => this.#disconnect(session, reason, said),
      watch: (session) => this.#watchers.add(session),
      unwatch: (session) => this.#watchers.delete(session),
    };
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
    return [...this.#users.values()].map((member) => member.state.name);
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
        runCommand(this.#commands, session, event.command);
        break;
      }
      case "line-too-long": {
        const session = this.#sessions.get(event.link);
        if (session === undefined) return;
        this.stats.linesTooLong++;
        this.#delivery.reply(session, "lineTooLong");
        break;
      }
      case "closed": {
        const session = this.#sessions.get(event.link);
        if (session === undefined) event.link.close(event.reason);
        else this.#disconnect(session, event.reason);
        break;
      }
      case "tick":
        this.#closeIdle(event.at, event.due);
        break;
      case "shutdown":
        this.#shutdown();
        break;
      case "claimed":
      case "claim-refused":
        this.#claimAnswered(event);
        break;
      case "history-read":
        this.#historyRead(event);
        break;
      case "account-answer":
        this.#accountAnswered(event.link, event.answer);
        break;
      default:
        applyRemote(this.#commands, event);
    }
    this.#dropFailed();
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
      this.#dropFailed();
    } catch {
      this.#delivery.clear();
    }
  }

  #closeFaulty(link: ClientLink): void {
    const session = this.#sessions.get(link);
    try {
      if (session !== undefined) this.#disconnect(session, "error");
      else link.close("error");
    } catch (again) {
      // The link's own close failed too: forget it rather than fail twice.
      if (session !== undefined && this.#sessions.delete(link)) this.#forget(session);
      const state = session?.state;
      if (state?.kind === "member" && this.#users.delete(state.key)) {
        this.#cluster.leave(state);
      }
      this.#log.error("close failed", { address: link.remote, error: String(again) });
    }
  }

  #open(link: ClientLink): void {
    if (this.#sessions.size >= this.#options.maxClients) {
      this.#refuse(link, "server-full", { maxClients: this.#options.maxClients });
      return;
    }
    const counted = this.#addresses.add(link.ip);
    if (counted === "full") {
      this.#refuse(link, "too-many-connections", { maxClientsPerIp: this.#addresses.limit });
      return;
    }
    const now = this.#options.now();
    this.#sessions.set(link, {
      link,
      connectedAt: now,
      countedIp: counted === "counted" ? link.ip : undefined,
      lastSeen: now,
      state: ANONYMOUS,
      hears: link.wire.hearsChatAtLogin ? HEARS_CHAT : 0,
      held: undefined,
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

  /** Claims a name for an anonymous session: it logs in now, or once the cluster answers. */
  #claim(session: Session, name: string, key: string, account: number | undefined): void {
    const seq = this.#cluster.claim(session.link, name, key, account);
    if (seq === undefined) session.state = startClaim(name, account);
    else this.#logIn(session, name, key, seq, account);
  }

  #logIn(session: Session, name: string, key: string, seq: number, account?: number): void {
    const member = makeMember(session, name, key, seq, account);
    this.#users.set(key, member);
    this.#delivery.reply(member, "ok");
    this.#delivery.broadcastConnected(name, member);
    this.#log.info("login", { name, address: session.link.remote });
  }

  #claimAnswered(event: ClusterEvent & { kind: "claimed" | "claim-refused" }): void {
    const session = this.#sessions.get(event.link);
    const claim = session?.state;
    if (session === undefined || claim?.kind !== "claiming") {
      // The client left while its claim was on its way: the name goes back at once.
      if (event.kind === "claimed") this.#cluster.leave(event);
      return;
    }
    if (event.kind === "claimed") {
      this.#logIn(session, event.name, event.key, event.seq, claim.account);
    } else {
      session.state = ANONYMOUS;
      this.#delivery.reply(session, REFUSAL_REPLIES[event.refusal], claim.name);
    }
    this.#replay(session, claim.waiting);
  }

  /**
   * Applies the commands that waited behind a `LOGIN` or a history read, in
   * order. Any of them may end the session or wait again (another `LOGIN`
   * sent to the cluster, another read), so the session is read afresh before each one.
   */
  #replay(session: Session, waiting: readonly Command[]): void {
    for (let i = 0; i < waiting.length; i++) {
      if (!this.#sessions.has(session.link)) return;
      const state = session.state;
      const backlog = state.kind === "claiming" ? state : session.held;
      if (backlog !== undefined) {
        // A pipelined LOGIN or read waits in turn: the rest waits behind it.
        backlog.waiting.push(...waiting.slice(i));
        return;
      }
      runCommand(this.#commands, session, waiting[i]!);
    }
  }

  /**
   * Reads at the cut, now. An answer from the store that comes later is
   * posted back; meanwhile the member's commands and lines wait behind it.
   */
  #readHistory(member: MemberSession, request: HistoryRequest, ask: HistoryAsk): void {
    const answer = this.#history.read(request);
    if (!(answer instanceof Promise)) {
      this.#delivery.history(member, answer, ask);
      return;
    }
    member.held = startHold();
    const link = member.link;
    void answer.then((messages) => this.#post({ kind: "history-read", link, ask, messages }));
  }

  /** Account work started: the session's later commands and lines wait for its answer. */
  #wait(session: Session, work: Promise<AccountAnswer>): void {
    session.held = startHold();
    const link = session.link;
    void work.then((answer) => this.#post({ kind: "account-answer", link, answer }));
  }

  /** The answer (settled even for a session gone meanwhile), then what waited behind it. */
  #accountAnswered(link: ClientLink, answer: AccountAnswer): void {
    const session = this.#sessions.get(link);
    const held = session?.held;
    if (session !== undefined) session.held = undefined;
    accountAnswered(this.#commands, session, answer);
    if (session === undefined || held === undefined) return;
    this.#delivery.release(session, held.lines);
    this.#replay(session, held.waiting);
  }

  /** The store answered: the reply, then what waited behind it. */
  #historyRead(event: HubEvent & { kind: "history-read" }): void {
    const session = this.#sessions.get(event.link);
    const held = session?.held;
    if (session === undefined || held === undefined || !isMember(session)) return;
    session.held = undefined;
    this.#delivery.history(session, event.messages, event.ask);
    this.#delivery.release(session, held.lines);
    this.#replay(session, held.waiting);
  }

  /**
   * Closes the sessions silent for the idle timeout, and nudges those silent
   * for half of it with their door's keepalive (if it has one): a client that only reads
   * answers it and stays; a dead one still goes at the timeout.
   */
  #closeIdle(firedAt: number | undefined, due: number | undefined): void {
    const now = this.#options.now();
    // A timer that fired long after it was due, or a tick applied long after its timer fired,
    // means the server fell behind (or the process was not run): the lines clients sent
    // meanwhile may still wait unread, so nobody is judged idle on this one.
    const slack = this.#options.idleTimeoutMs / 4;
    if (firedAt !== undefined && (now - firedAt > slack || firedAt - (due ?? firedAt) > slack)) {
      return;
    }
    const deadline = now - this.#options.idleTimeoutMs;
    const nudgeBy = now - this.#options.idleTimeoutMs / 2;
    for (const session of this.#sessions.values()) {
      if (session.lastSeen <= deadline) this.#disconnect(session, "idle");
      else if (session.lastSeen <= nudgeBy) session.link.keepalive();
    }
  }

  /** Forgets a session, tells the others if it was logged in (`said`: its `QUIT`'s words), and closes it. */
  #disconnect(session: Session, reason: CloseReason, said?: string): void {
    if (!this.#sessions.delete(session.link)) return;
    this.#forget(session);
    session.link.close(reason);
    this.stats.disconnects[reason]++;
    const state = session.state;
    const user = state.kind === "member" ? state : undefined;
    const fields = {
      name: user?.name,
      address: session.link.remote,
      reason,
      seconds: Math.round(this.#options.now() - session.connectedAt) / 1000,
    };
    // A slow consumer is worth a warning; anonymous comings and goings (health checks, scanners) are detail.
    if (reason === "slow-consumer" || reason === "excess-flood") {
      this.#log.warn("disconnect", fields);
    } else if (user !== undefined) this.#log.info("disconnect", fields);
    else this.#log.debug("disconnect", fields);
    if (user === undefined) return;
    this.#users.delete(user.key);
    const why = departureWords(reason, said);
    this.#cluster.leave(user, why);
    this.#delivery.broadcastDisconnected(user.name, why);
  }

  /** Forgets what the hub keeps about a session beside it: its address's count, its watch. */
  #forget(session: Session): void {
    if (session.countedIp !== undefined) this.#addresses.remove(session.countedIp);
    this.#watchers.delete(session);
  }

  #dropFailed(): void {
    // Dropping one session broadcasts an INFO line, which may overflow others in turn.
    while (this.#delivery.failed) {
      const { overflowed, faulty } = this.#delivery.takeFailures();
      for (const session of overflowed) this.#disconnect(session, "slow-consumer");
      for (const session of faulty) this.#disconnect(session, "error");
    }
  }

  #shutdown(): void {
    this.#stopped = true;
    this.stats.disconnects.shutdown += this.#sessions.size;
    for (const session of this.#sessions.values()) session.link.close("shutdown");
    // The other instances say goodbye to this one's users; those closed here hear nothing more.
    const why = departureWords("shutdown");
    for (const member of this.#users.values()) this.#cluster.leave(member.state, why);
    this.#sessions.clear();
    this.#addresses.clear();
    this.#users.clear();
    this.#watchers.clear();
    this.#delivery.clear();
  }

  /** After shutdown every connection still speaking is closed, and nothing else happens. */
  #applyStopped(event: HubEvent): void {
    if (event.kind === "open") event.link.close("shutdown");
    else if (event.kind === "closed") event.link.close(event.reason);
    else if (event.kind === "claimed") this.#cluster.leave(event);
  }
}
