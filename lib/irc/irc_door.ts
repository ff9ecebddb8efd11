/**
 * The IRC listener as a {@linkcode Door}: lines of at most 512 bytes,
 * registration (`CAP`, `NICK`, `USER`) turned into `LOGIN`, and IRC's
 * commands turned into the hub's. What only IRC asks (`CAP`, `MODE`,
 * `TOPIC`, unknown commands) is answered here; everything about users goes
 * through the hub, whose replies the IRC wire words as numerics.
 *
 * @module
 */
import type { Door, DoorClient, Framer } from "../door.ts";
import type { HubEvent } from "../hub.ts";
import { LineFramer, type LineSink } from "../line_framer.ts";
import { type CloseReason, type Command, IGNORED, sanitizeText } from "../protocol.ts";
import type { Wire } from "../wire.ts";
import { nameOfNick, nickOf } from "./irc_nick.ts";
import { chatText, IRC_LINE_BYTES, type IrcMessage, parseIrcLine } from "./irc_text.ts";
import { type IrcIdentity, ircWire } from "./irc_wire.ts";

const encoder = new TextEncoder();

/** Words of the `ERROR` line a client is closed with, by reason. */
const CLOSING_WORDS: Readonly<Record<CloseReason, string | undefined>> = {
  quit: "Quit",
  eof: undefined,
  reset: undefined,
  error: "Internal error",
  idle: "Ping timeout",
  "slow-consumer": "SendQ exceeded",
  shutdown: "Server shutting down",
  "server-full": "Server full",
  "too-many-connections": "Too many connections from your address",
  "excess-flood": "Excess flood",
  "name-conflict": "Nickname taken on another server",
  "protocol-error": "Protocol error",
  served: undefined,
};

/** What every IRC connection of one server shares. */
interface IrcShared {
  readonly identity: IrcIdentity;
  readonly farewells: Readonly<Record<CloseReason, Uint8Array | undefined>>;
  readonly keepalive: Uint8Array;
}

/**
 * One IRC client: its lines, and where it is with registration. It extends
 * the line framer, as the v1 client does, so an idle one is one object.
 */
class IrcClient extends LineFramer implements Framer, LineSink {
  readonly #client: DoorClient;
  readonly #shared: IrcShared;
  /** The name its last valid `NICK` asked for. */
  #name: string | undefined;
  #userGiven = false;
  /** `CAP LS` or `CAP REQ` came and `CAP END` has not: registration waits. */
  #negotiating = false;
  /** Its `NICK` and `USER` went to the hub as a `LOGIN`. */
  #loginSent = false;
  /** It asked to hear the channel (`JOIN`), and has not left it since. */
  #joined = false;
  /** What this line is answered with here, sent in its turn. */
  #answer = "";

  constructor(client: DoorClient, shared: IrcShared) {
    super(IRC_LINE_BYTES - 2);
    this.#client = client;
    this.#shared = shared;
  }

  override commit(count: number): void {
    super.commit(count, this);
  }

  override resume(): void {
    super.resume(this);
  }

  get finished(): boolean {
    return false;
  }

  /** `PING`, which a client that only reads answers with `PONG`. */
  get keepalive(): Uint8Array {
    return this.#shared.keepalive;
  }

  linger(): void {}

  release(): void {}

  farewell(reason: CloseReason): Uint8Array | undefined {
    return this.#shared.farewells[reason];
  }

  lineTooLong(): void {
    this.#client.notice({ kind: "line-too-long", link: this.#client });
  }

  tooLongLineEnded(): boolean {
    return this.#post(IGNORED);
  }

  line(text: string): boolean {
    const message = parseIrcLine(text);
    if (message === undefined) return this.#post(IGNORED);
    const command = this.#command(message);
    const answer = this.#answer;
    if (answer === "") return this.#post(command ?? IGNORED);
    this.#answer = "";
    // What was answered here goes through the hub too, so that it keeps its place among the replies.
    const bytes = encoder.encode(answer);
    const answered: Command = { kind: "answered", answer: () => bytes };
    if (command === undefined) return this.#post(answered);
    this.#client.notice({ kind: "command", link: this.#client, command: answered });
    return this.#post(command);
  }

  /** The hub's command for a line, or undefined when it was answered here. */
  #command({ command, params }: IrcMessage): Command | undefined {
    switch (command) {
      case "CAP":
        return this.#cap(params);
      case "PASS":
        return undefined;
      case "NICK":
        return this.#nick(params[0]);
      case "USER":
        return this.#user(params);
      case "PING":
        if (params[0] === undefined) return this.#say("409", ":No origin specified");
        return { kind: "ping", token: sanitizeText(params[0]) };
      case "PONG":
        return undefined;
      case "QUIT":
        return { kind: "quit" };
    }
    if (!this.#loginSent) return this.#say("451", ":You have not registered");
    switch (command) {
      case "JOIN":
        return this.#join(params[0]);
      case "PART":
        return this.#part(params[0]);
      case "NAMES":
        return { kind: "who", listing: "names" };
      case "WHO":
        return { kind: "who", listing: "who" };
      case "PRIVMSG":
      case "NOTICE":
        return this.#message(command === "NOTICE", params);
      case "MODE":
        return this.#mode(params);
      case "TOPIC":
        return this.#say("331", `${this.#shared.identity.channel} :No topic is set`);
      case "MOTD":
        return this.#say("422", ":MOTD File is missing");
      case "USERHOST":
        return this.#say("302", ":");
      case "ISON":
        return this.#say("303", ":");
      case "WHOIS":
        return this.#say("318", `${params.at(-1) ?? "*"} :End of /WHOIS list.`);
      case "AWAY":
        return this.#say("305", ":You are no longer marked as being away");
      default:
        return this.#say("421", `${command} :Unknown command`);
    }
  }

  #cap(params: readonly string[]): Command | undefined {
    const sub = params[0]?.toUpperCase();
    const server = this.#shared.identity.server;
    const to = this.#target();
    switch (sub) {
      case "LS":
        this.#negotiating = true;
        this.#send(`:${server} CAP ${to} LS :\r\n`);
        break;
      case "LIST":
        this.#send(`:${server} CAP ${to} LIST :\r\n`);
        break;
      case "REQ":
        this.#negotiating = true;
        this.#send(`:${server} CAP ${to} NAK :${params[1] ?? ""}\r\n`);
        break;
      case "END":
        this.#negotiating = false;
        return this.#register();
      default:
        this.#say("410", `${params[0] ?? ""} :Invalid CAP command`);
    }
    return undefined;
  }

  #nick(nick: string | undefined): Command | undefined {
    if (nick === undefined || nick === "") return this.#say("431", ":No nickname given");
    const name = nameOfNick(nick);
    if (name === undefined) return this.#say("432", `${nick} :Erroneous nickname`);
    // After registration the hub refuses a second LOGIN, in words IRC clients show.
    if (this.#loginSent) return { kind: "login", name };
    this.#name = name;
    return this.#register();
  }

  #user(params: readonly string[]): Command | undefined {
    if (params.length < 4) return this.#say("461", "USER :Not enough parameters");
    if (this.#userGiven) return this.#say("462", ":You may not reregister");
    this.#userGiven = true;
    return this.#register();
  }

  /** `LOGIN` once both `NICK` and `USER` came and capability negotiation is over. */
  #register(): Command | undefined {
    if (this.#name === undefined || !this.#userGiven || this.#negotiating || this.#loginSent) {
      return undefined;
    }
    this.#loginSent = true;
    return { kind: "login", name: this.#name };
  }

  #join(channels: string | undefined): Command | undefined {
    if (channels === undefined) return this.#say("461", "JOIN :Not enough parameters");
    if (channels === "0") return this.#part(this.#shared.identity.channel);
    let command: Command | undefined;
    for (const channel of channels.split(",")) {
      if (this.#isOurs(channel)) {
        this.#joined = true;
        command = { kind: "join" };
      } else this.#say("403", `${channel} :No such channel`);
    }
    return command;
  }

  #part(channels: string | undefined): Command | undefined {
    if (channels === undefined) return this.#say("461", "PART :Not enough parameters");
    let command: Command | undefined;
    for (const channel of channels.split(",")) {
      if (!this.#isOurs(channel)) this.#say("403", `${channel} :No such channel`);
      else if (!this.#joined) this.#say("442", `${channel} :You're not on that channel`);
      else {
        this.#joined = false;
        command = { kind: "part" };
      }
    }
    return command;
  }

  #message(notice: boolean, params: readonly string[]): Command | undefined {
    // A NOTICE is never answered, not even with an error.
    const fail = (code: string, words: string) => notice ? undefined : this.#say(code, words);
    const targets = params[0];
    if (targets === undefined || targets === "") return fail("411", ":No recipient given");
    const raw = params[1];
    if (raw === undefined || raw === "") return fail("412", ":No text to send");
    const text = chatText(raw);
    // Other CTCP requests are dropped rather than relayed as replacement characters.
    if (text === undefined) return undefined;
    const clean = sanitizeText(text);
    let command: Command | undefined;
    for (const target of targets.split(",")) {
      if (this.#isOurs(target)) {
        if (this.#joined) command = { kind: "msg", text: clean, notice };
        else fail("404", `${target} :Cannot send to channel`);
      } else if (target.startsWith("#")) fail("403", `${target} :No such channel`);
      else command = { kind: "dm", target: nameOfNick(target) ?? target, text: clean, notice };
    }
    return command;
  }

  #mode(params: readonly string[]): undefined {
    const target = params[0];
    if (target === undefined) return this.#say("461", "MODE :Not enough parameters");
    const channel = this.#shared.identity.channel;
    if (this.#isOurs(target)) {
      if (params[1]?.includes("b")) this.#say("368", `${channel} :End of channel ban list`);
      else this.#say("324", `${channel} +nt`);
    } else if (target.startsWith("#")) this.#say("403", `${target} :No such channel`);
    else this.#say("221", "+i");
    return undefined;
  }

  /** Same channel name, ASCII case aside (`CASEMAPPING=ascii`). */
  #isOurs(channel: string): boolean {
    return channel.toLowerCase() === this.#shared.identity.channel.toLowerCase();
  }

  #target(): string {
    return this.#name === undefined ? "*" : nickOf(this.#name);
  }

  /** A numeric answered here, to this client. */
  #say(code: string, rest: string): undefined {
    this.#send(`:${this.#shared.identity.server} ${code} ${this.#target()} ${rest}\r\n`);
    return undefined;
  }

  #send(line: string): void {
    this.#answer += line;
  }

  /** Every line costs a token and counts as activity, answered here or not. */
  #post(command: Command): boolean {
    const event: HubEvent = { kind: "command", link: this.#client, command };
    return this.#client.message(event);
  }
}

/** The IRC door for `identity` (its server name and channel). */
export function ircDoor(identity: IrcIdentity): Door {
  const farewells = Object.fromEntries(
    Object.entries(CLOSING_WORDS).map(([reason, words]) => [
      reason,
      words === undefined ? undefined : encoder.encode(`ERROR :Closing link: ${words}\r\n`),
    ]),
  ) as Record<CloseReason, Uint8Array | undefined>;
  const shared: IrcShared = {
    identity,
    farewells,
    keepalive: encoder.encode(`PING :${identity.server}\r\n`),
  };
  const wire: Wire = ircWire(identity);
  return {
    maxMessageBytes: IRC_LINE_BYTES,
    wire,
    forwarding: "proxy-header",
    framer: (client) => new IrcClient(client, shared),
  };
}
