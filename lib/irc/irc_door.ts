/**
 * The IRC listener as a {@linkcode Door}: lines of at most 512 bytes
 * after their IRCv3 tags, registration (`CAP`, `NICK`, `USER`) turned into
 * `LOGIN`, and IRC's commands turned into the hub's. What only IRC asks
 * (`CAP`, `MODE`, `TOPIC`, a malformed `CHATHISTORY`, unknown commands) is
 * answered here; everything about users and history goes through the hub,
 * whose replies the IRC wire words as numerics, tagged lines and batches.
 *
 * @module
 */
import type { Door, DoorClient, Framer } from "../door.ts";
import type { Wire } from "../wire.ts";
import { LineFramer, type LineSink } from "../line_framer.ts";
import { validateName } from "../names.ts";
import { type CloseReason, type Command, IGNORED, sanitizeText } from "../protocol.ts";
import {
  type Answer,
  answerQuery,
  closingLines,
  memberLine,
  memberNumeric,
  numeric,
  render,
} from "./irc_answers.ts";
import {
  capabilityNames,
  fitsIrcBounds,
  MAX_CLIENT_LINE_BYTES,
  OFFERED,
  requestCaps,
} from "./irc_caps.ts";
import { parseChatHistory } from "./irc_chathistory.ts";
import { nameOfNick, sameNick } from "./irc_nick.ts";
import { chatText, fitLine, type IrcMessage, parseIrcLine, shown } from "./irc_text.ts";
import { type IrcIdentity, ircWires, MAX_TARGETS, NICKLEN } from "./irc_wire.ts";

const encoder = new TextEncoder();

/** What every IRC connection of one server shares. */
interface IrcShared {
  readonly identity: IrcIdentity;
  /** The wire for a set of capabilities. */
  readonly wires: (caps: number) => Wire;
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
  /** The name its last valid `NICK` before registration asked for. */
  #name: string | undefined;
  #userGiven = false;
  /** `CAP LS` or `CAP REQ` came and `CAP END` has not: registration waits. */
  #negotiating = false;
  /** The capabilities it was acknowledged, as its lines were read (the hub switches wires in turn). */
  #caps = 0;
  /** Its `NICK` and `USER` went to the hub as a `LOGIN`. */
  #loginSent = false;
  /** It asked to hear the channel (`JOIN`), and has not left it since. */
  #joined = false;
  /** This line's first command for the hub, and (rarely: several targets) the ones after it. */
  #first: Command | undefined;
  #more: Command[] | undefined;
  /** What this line is answered with here so far, to go in its turn among the commands. */
  #answers: Answer[] | undefined;

  constructor(client: DoorClient, shared: IrcShared) {
    // Room for a client's tags in front of its 512 bytes; each part's bound is checked per line.
    super(MAX_CLIENT_LINE_BYTES - 2);
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
    if (!fitsIrcBounds(text)) {
      this.lineTooLong();
      return this.tooLongLineEnded();
    }
    const message = parseIrcLine(text);
    if (message !== undefined) this.#handle(message);
    this.#endAnswers();
    const first = this.#first;
    const more = this.#more;
    this.#first = undefined;
    this.#more = undefined;
    if (first === undefined) return this.#post(IGNORED);
    if (more === undefined) return this.#post(first);
    // One line costs one token, however many commands it makes: all but the last come free.
    this.#client.notice({ kind: "command", link: this.#client, command: first });
    for (let i = 0; i < more.length - 1; i++) {
      this.#client.notice({ kind: "command", link: this.#client, command: more[i]! });
    }
    return this.#post(more.at(-1)!);
  }

  #handle({ command, params }: IrcMessage): void {
    switch (command) {
      case "CAP":
        return this.#cap(params);
      case "PASS":
      case "PONG":
        return;
      case "NICK":
        return this.#nick(params[0]);
      case "USER":
        return this.#user(params);
      case "PING":
        if (params[0] === undefined) return this.#say("461", "PING :Not enough parameters");
        if (params[0] === "") return this.#say("409", ":No origin specified");
        return this.#emit({ kind: "ping", token: sanitizeText(params[0]) });
      case "QUIT":
        return this.#emit({ kind: "quit" });
    }
    if (!this.#loginSent) {
      // Not even a NOTICE before registration is answered.
      if (command !== "NOTICE") this.#say("451", ":You have not registered");
      return;
    }
    this.#registered(command, params);
  }

  /** A command that needs registration, once the `LOGIN` went (the hub tells if it failed). */
  #registered(command: string, params: readonly string[]): void {
    switch (command) {
      case "PRIVMSG":
      case "NOTICE":
        return this.#message(command === "NOTICE", params);
      case "JOIN":
        return this.#join(params[0]);
      case "PART":
        return this.#part(params[0]);
      case "NAMES":
        return this.#names(params[0]);
      case "WHO":
        return this.#who(params[0]);
      case "CHATHISTORY":
        return this.#chatHistory(params);
      case "TAGMSG":
        // Only client tags ride on it, and those are not relayed: accepted, and dropped.
        if (params[0] === undefined || params[0] === "") {
          return this.#sayMember("461", "TAGMSG :Not enough parameters");
        }
        return;
      case "WHOIS":
        // WHOIS [server] <nick>: whether the nick is on is the hub's to say.
        if (params.length === 0) return this.#sayMember("431", ":No nickname given");
        return this.#emit({ kind: "who", listing: "whois", about: params.at(-1)! });
      default:
        return this.#answer(answerQuery(this.#shared.identity, command, params));
    }
  }

  #cap(params: readonly string[]): void {
    const server = this.#shared.identity.server;
    switch (params[0]?.toUpperCase()) {
      case undefined:
        return this.#say("461", "CAP :Not enough parameters");
      case "LS":
        // Registration waits until CAP END.
        if (!this.#loginSent) this.#negotiating = true;
        return this.#answer((nick) => `:${server} CAP ${nick} LS :${OFFERED}\r\n`);
      case "LIST": {
        const names = capabilityNames(this.#caps);
        return this.#answer((nick) => `:${server} CAP ${nick} LIST :${names}\r\n`);
      }
      case "REQ":
        if (!this.#loginSent) this.#negotiating = true;
        return this.#request(params[1] ?? "");
      case "END":
        this.#negotiating = false;
        return this.#register();
      default:
        return this.#say("410", `${shown(params[0]!)} :Invalid CAP command`);
    }
  }

  /**
   * `CAP REQ`: all of it or none. The new wire is taken in the hub's turn,
   * with the `ACK`: every line after it is encoded for the new set.
   */
  #request(asked: string): void {
    const server = this.#shared.identity.server;
    const shownAsked = sanitizeText(asked);
    const caps = requestCaps(this.#caps, asked);
    if (caps === undefined) {
      return this.#answer((nick) => fitLine(`:${server} CAP ${nick} NAK :`, shownAsked));
    }
    this.#caps = caps;
    const wire = this.#shared.wires(caps);
    this.#answer((nick) => {
      this.#client.wire = wire;
      return fitLine(`:${server} CAP ${nick} ACK :`, shownAsked);
    });
  }

  /** `CHATHISTORY`: a history read for the hub, or a `FAIL` answered here. */
  #chatHistory(params: readonly string[]): void {
    const request = parseChatHistory(params, this.#shared.identity.channel);
    if (request.fail === undefined) return this.#emit({ kind: "history", ask: request.ask });
    const server = this.#shared.identity.server;
    this.#answer(memberLine(server, `FAIL CHATHISTORY ${request.fail}`));
  }

  #nick(nick: string | undefined): void {
    if (nick === undefined || nick === "") return this.#say("431", ":No nickname given");
    const name = nick.length <= NICKLEN ? nameOfNick(nick) : undefined;
    // Only the nick of a valid name as it stands: the client is then known by the nick it asked for.
    if (name === undefined || validateName(name) !== name) {
      return this.#say("432", `${shown(nick)} :Erroneous nickname`);
    }
    // Again after a refusal, a new try; after a login, the hub refuses it in words IRC clients show.
    if (this.#loginSent) return this.#emit({ kind: "login", name });
    this.#name = name;
    this.#register();
  }

  #user(params: readonly string[]): void {
    if (params.length < 4) return this.#say("461", "USER :Not enough parameters");
    if (this.#userGiven) return this.#say("462", ":You may not reregister");
    this.#userGiven = true;
    this.#register();
  }

  /** `LOGIN` once both `NICK` and `USER` came and capability negotiation is over. */
  #register(): void {
    if (this.#name === undefined || !this.#userGiven || this.#negotiating || this.#loginSent) {
      return;
    }
    this.#loginSent = true;
    this.#emit({ kind: "login", name: this.#name });
  }

  #join(channels: string | undefined): void {
    if (channels === undefined || channels === "") {
      return this.#sayMember("461", "JOIN :Not enough parameters");
    }
    // JOIN 0 leaves every channel.
    if (channels === "0") return this.#joined ? this.#leave() : undefined;
    for (const channel of channels.split(",")) {
      if (!this.#isOurs(channel)) this.#sayMember("403", `${shown(channel)} :No such channel`);
      else if (!this.#joined) {
        // Joining again what it is on is no news: IRC servers say nothing.
        this.#joined = true;
        this.#emit({ kind: "join" });
        // Made in the hub's turn, this tells whether the JOIN took (a refused login: 451), so a
        // JOIN after the next login is not taken for a second one.
        this.#answer((_nick, member) => {
          if (!member) this.#joined = false;
          return "";
        });
      }
    }
  }

  #part(channels: string | undefined): void {
    if (channels === undefined || channels === "") {
      return this.#sayMember("461", "PART :Not enough parameters");
    }
    for (const channel of channels.split(",")) {
      if (!this.#isOurs(channel)) this.#sayMember("403", `${shown(channel)} :No such channel`);
      else if (!this.#joined) {
        this.#sayMember("442", `${this.#shared.identity.channel} :You're not on that channel`);
      } else this.#leave();
    }
  }

  #leave(): void {
    this.#joined = false;
    this.#emit({ kind: "part" });
  }

  #names(channels: string | undefined): void {
    if (channels === undefined || channels === "") {
      return this.#emit({ kind: "who", listing: "names" });
    }
    let listed = false;
    for (const channel of channels.split(",")) {
      if (!this.#isOurs(channel)) this.#sayMember("366", `${shown(channel)} :End of /NAMES list.`);
      else if (!listed) {
        listed = true;
        this.#emit({ kind: "who", listing: "names" });
      }
    }
  }

  #who(mask: string | undefined): void {
    // Another channel has nobody; a nick is that user alone; our channel, `*` or none, everyone.
    if (mask !== undefined && mask.startsWith("#") && !this.#isOurs(mask)) {
      return this.#sayMember("315", `${shown(mask)} :End of /WHO list.`);
    }
    const everyone = mask === undefined || mask === "*" || mask === "0" || this.#isOurs(mask);
    this.#emit(
      everyone ? { kind: "who", listing: "who" } : { kind: "who", listing: "who", about: mask },
    );
  }

  #message(notice: boolean, params: readonly string[]): void {
    const targets = params[0];
    if (targets === undefined || targets === "") {
      return this.#fail(notice, "411", `:No recipient given (${notice ? "NOTICE" : "PRIVMSG"})`);
    }
    const raw = params[1];
    if (raw === undefined || raw === "") return this.#fail(notice, "412", ":No text to send");
    const text = chatText(raw);
    // Other CTCP messages are dropped rather than relayed as replacement characters.
    if (text === undefined) return;
    if (!targets.includes(",")) return this.#messageTo(targets, text, notice);
    const list = targets.split(",");
    for (let i = 0; i < list.length; i++) {
      if (i === MAX_TARGETS) {
        return this.#fail(notice, "407", `${shown(list[i]!)} :Too many targets`);
      }
      this.#messageTo(list[i]!, text, notice);
    }
  }

  #messageTo(target: string, text: string, notice: boolean): void {
    if (this.#isOurs(target)) {
      if (this.#joined) return this.#emit({ kind: "msg", text, notice });
      return this.#fail(notice, "404", `${this.#shared.identity.channel} :Cannot send to channel`);
    }
    // Any other channel, or what is no nick, is nobody: only a name's own nick reaches it.
    const name = target.length <= NICKLEN ? nameOfNick(target) : undefined;
    if (name === undefined) {
      return this.#fail(notice, "401", `${shown(target)} :No such nick/channel`);
    }
    this.#emit({ kind: "dm", target: name, text, notice });
  }

  /** A `NOTICE` is never answered, not even with an error. */
  #fail(notice: boolean, code: string, rest: string): void {
    if (!notice) this.#sayMember(code, rest);
  }

  /** Same channel name, ASCII case aside (`CASEMAPPING=ascii`). */
  #isOurs(channel: string): boolean {
    return sameNick(channel, this.#shared.identity.channel);
  }

  /** A numeric answered here, to this client. */
  #say(code: string, rest: string): void {
    this.#answer(numeric(this.#shared.identity.server, code, rest));
  }

  /** A numeric answered here to a member (451 if the hub refused its login). */
  #sayMember(code: string, rest: string): void {
    this.#answer(memberNumeric(this.#shared.identity.server, code, rest));
  }

  #answer(answer: Answer): void {
    (this.#answers ??= []).push(answer);
  }

  /** A command for the hub, after what was answered here before it. */
  #emit(command: Command): void {
    this.#endAnswers();
    if (this.#first === undefined) this.#first = command;
    else (this.#more ??= []).push(command);
  }

  /** What was answered here goes through the hub too, so that it keeps its place among the replies. */
  #endAnswers(): void {
    const answers = this.#answers;
    if (answers === undefined) return;
    this.#answers = undefined;
    this.#emit({ kind: "answered", answer: render(answers) });
  }

  /** Every line costs a token and counts as activity, answered here or not. */
  #post(command: Command): boolean {
    return this.#client.message({ kind: "command", link: this.#client, command });
  }
}

/** The IRC door for `identity` (its server name and channel). */
export function ircDoor(identity: IrcIdentity): Door {
  const wires = ircWires(identity);
  const shared: IrcShared = {
    identity,
    wires,
    farewells: closingLines(),
    keepalive: encoder.encode(`PING :${identity.server}\r\n`),
  };
  return {
    maxMessageBytes: MAX_CLIENT_LINE_BYTES,
    wire: wires(0),
    forwarding: "proxy-header",
    framer: (client) => new IrcClient(client, shared),
  };
}
