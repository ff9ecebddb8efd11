/**
 * The IRC listener as a {@linkcode Door}: lines of at most 512 bytes
 * after their IRCv3 tags, registration (`CAP`, `NICK`, `USER`, and `PASS`
 * or SASL for an account) turned into `LOGIN`, and IRC's commands turned
 * into the hub's. What only IRC asks
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
import { NICKSERV_PHASE, REGISTER_PHASE, SASL_PHASE } from "./irc_account_replies.ts";
import {
  type Answer,
  answerQuery,
  closingLines,
  memberLine,
  numeric,
  render,
} from "./irc_answers.ts";
import {
  ACCOUNT_CAPS,
  ALL_CAPS,
  capabilityNames,
  fitsIrcBounds,
  MAX_CLIENT_LINE_BYTES,
  offered,
  requestCaps,
} from "./irc_caps.ts";
import { join, part, reasonField } from "./irc_channel.ts";
import { parseChatHistory } from "./irc_chathistory.ts";
import { nameOfNick } from "./irc_nick.ts";
import { nickServ } from "./irc_nickserv.ts";
import { saslAfterRegistration, SaslExchange } from "./irc_sasl.ts";
import { type IrcOut, message, names, sayMember, who } from "./irc_targets.ts";
import { cleanIdent, fitLine, type IrcMessage, parseIrcLine, shown } from "./irc_text.ts";
import { type IrcIdentity, ircWires, NICKLEN } from "./irc_wire.ts";

const encoder = new TextEncoder();

/** What every IRC connection of one server shares. */
interface IrcShared {
  readonly identity: IrcIdentity;
  /** The wire for a set of capabilities. */
  readonly wires: (caps: number) => Wire;
  readonly farewells: Readonly<Record<CloseReason, Uint8Array | undefined>>;
  readonly keepalive: Uint8Array;
  /** The capabilities offered: all of them, or all but the accounts' where accounts are off. */
  readonly allowed: number;
}

/**
 * One IRC client: its lines, and where it is with registration. It extends
 * the line framer, as the v1 client does, so an idle one is one object.
 */
class IrcClient extends LineFramer implements Framer, LineSink, IrcOut {
  readonly #client: DoorClient;
  readonly #shared: IrcShared;
  /** The name its last valid `NICK` before registration asked for. */
  #name: string | undefined;
  /** Its `PASS`: the password of the nick's account, tried at every login of registration. */
  #pass: string | undefined;
  /** Made at its first `AUTHENTICATE`. */
  #sasl: SaslExchange | undefined;
  #userGiven = false;
  /** `CAP LS` or `CAP REQ` came and `CAP END` has not: registration waits. */
  #negotiating = false;
  /** The capabilities it was acknowledged, as its lines were read (the hub switches wires in turn). */
  #caps = 0;
  /** Its `NICK` and `USER` went to the hub as a `LOGIN`. */
  #loginSent = false;
  /** It asked to hear the channel (`JOIN`), and has not left it since. */
  joined = false;
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

  get identity(): IrcIdentity {
    return this.#shared.identity;
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
        return this.#password(params[0]);
      case "AUTHENTICATE":
        return this.#authenticate(params[0]);
      case "PONG":
        return;
      case "NICK":
        return this.#nick(params[0]);
      case "USER":
        return this.#user(params);
      case "PING":
        if (params[0] === undefined) return this.#say("461", "PING :Not enough parameters");
        if (params[0] === "") return this.#say("409", ":No origin specified");
        return this.emit({ kind: "ping", token: sanitizeText(params[0]) });
      case "QUIT":
        return this.emit({ kind: "quit", ...reasonField(params[0]) });
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
        return message(this, command === "NOTICE", params, this.joined);
      case "JOIN":
        return join(this, params[0]);
      case "PART":
        return part(this, params[0], params[1]);
      case "NAMES":
        return names(this, params[0]);
      case "WHO":
        return who(this, params[0]);
      case "CHATHISTORY":
        return this.#chatHistory(params);
      case "TAGMSG":
        // Only client tags ride on it, and those are not relayed: accepted, and dropped.
        if (params[0] === undefined || params[0] === "") {
          return sayMember(this, "461", "TAGMSG :Not enough parameters");
        }
        return;
      case "WHOIS":
        // WHOIS [server] <nick>: whether the nick is on is the hub's to say.
        if (params.length === 0) return sayMember(this, "431", ":No nickname given");
        return this.emit({ kind: "who", listing: "whois", about: params.at(-1)! });
      default:
        return this.answer(answerQuery(this.#shared.identity, command, params));
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
        return this.answer((nick) => {
          const caps = offered(this.#shared.allowed, Number(params[1]) >= 302);
          return `:${server} CAP ${nick} LS :${caps}\r\n`;
        });
      case "LIST": {
        const names = capabilityNames(this.#caps);
        return this.answer((nick) => `:${server} CAP ${nick} LIST :${names}\r\n`);
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
    const caps = requestCaps(this.#caps, asked, this.#shared.allowed);
    if (caps === undefined) {
      return this.answer((nick) => fitLine(`:${server} CAP ${nick} NAK :`, shownAsked));
    }
    this.#caps = caps;
    const wire = this.#shared.wires(caps);
    this.answer((nick) => {
      this.#client.wire = wire;
      return fitLine(`:${server} CAP ${nick} ACK :`, shownAsked);
    });
  }

  /** `CHATHISTORY`: a history read for the hub, or a `FAIL` answered here. */
  #chatHistory(params: readonly string[]): void {
    const request = parseChatHistory(params, this.#shared.identity.channel);
    if (request.fail === undefined) return this.emit({ kind: "history", ask: request.ask });
    const server = this.#shared.identity.server;
    this.answer(memberLine(server, `FAIL CHATHISTORY ${request.fail}`));
  }

  #nick(nick: string | undefined): void {
    if (nick === undefined || nick === "") return this.#say("431", ":No nickname given");
    const name = nick.length <= NICKLEN ? nameOfNick(nick) : undefined;
    // Only the nick of a valid name as it stands: the client is then known by the nick it asked for.
    if (name === undefined || validateName(name) !== name) {
      return this.#say("432", `${shown(nick)} :Erroneous nickname`);
    }
    // Again after a refusal, a new try; after a login, the hub refuses it in words IRC clients show.
    if (this.#loginSent) return this.#login(name);
    this.#name = name;
    this.#register();
  }

  /** `PASS`, before registration only; ignored where accounts are off, as servers without a password do. */
  #password(pass: string | undefined): void {
    if (this.#loginSent) return this.#say("462", ":You may not reregister");
    if (pass === undefined || pass === "") return this.#say("461", "PASS :Not enough parameters");
    if (this.#shared.allowed === ALL_CAPS) this.#pass = pass;
  }

  /** `LOGIN`'s rest for `name`: with the `PASS` password after it, if one came. */
  #withPass(name: string): string {
    return this.#pass === undefined ? name : `${name} ${this.#pass}`;
  }

  /** `LOGIN` as `name`; once one succeeds, the `PASS` password is dropped, not kept for the connection's life. */
  #login(name: string): void {
    this.emit({ kind: "login", name: this.#withPass(name) });
    if (this.#pass === undefined) return;
    this.answer((_nick, member) => {
      this.#forgetPassIf(member);
      return "";
    });
  }

  /** Drops the `PASS` password once logged in: it is needed for no later command. */
  #forgetPassIf(member: boolean): void {
    if (member) this.#pass = undefined;
  }

  /** `AUTHENTICATE`: a step of SASL PLAIN before registration; 907 or 904 after it. */
  #authenticate(param: string | undefined): void {
    const server = this.#shared.identity.server;
    if (this.#shared.allowed !== ALL_CAPS) return this.#say("904", ":SASL authentication failed");
    if (this.#loginSent) return this.answer(saslAfterRegistration(server, this.#sasl));
    const sasl = this.#sasl ??= new SaslExchange(server);
    const step = sasl.step(param);
    if (step.kind === "answer") {
      return step.answer === undefined ? undefined : this.answer(step.answer);
    }
    this.#inPhase(
      SASL_PHASE,
      { kind: "login", name: `${step.account} ${step.password}` },
      (in_) => {
        sasl.settle(in_);
      },
    );
  }

  /** Text for NickServ: an account command for the hub, answered in NickServ's words, or its answer. */
  nickServ(text: string): void {
    const work = nickServ(text);
    if ("answer" in work) return this.answer(work.answer);
    this.#inPhase(NICKSERV_PHASE, work.command);
  }

  /**
   * `command` with the wire of `phase`, whose replies it alone gets: the hub
   * holds later commands until an account command's answer, so the wire is
   * switched back, and `after` told whether the client is logged in, once it came.
   */
  #inPhase(phase: number, command: Command, after?: (member: boolean) => void): void {
    const wires = this.#shared.wires;
    const caps = this.#caps;
    this.answer(() => {
      this.#client.wire = wires(caps | phase);
      return "";
    });
    this.emit(command);
    this.answer((_nick, member) => {
      this.#client.wire = wires(caps);
      after?.(member);
      return "";
    });
  }

  #user(params: readonly string[]): void {
    if (params.length < 4) return this.#say("461", "USER :Not enough parameters");
    if (this.#userGiven) return this.#say("462", ":You may not reregister");
    this.#userGiven = true;
    // Read by the hub only once logged in, which comes after this line.
    this.#client.ident = cleanIdent(params[0]!, params[3]!);
    this.#register();
  }

  /** `LOGIN` once both `NICK` and `USER` came and capability negotiation is over. */
  #register(): void {
    if (this.#name === undefined || !this.#userGiven || this.#negotiating || this.#loginSent) {
      return;
    }
    this.#loginSent = true;
    const aborted = this.#sasl?.end();
    if (aborted !== undefined) this.answer(aborted);
    // After a SASL login, this one gets "already logged in", which this phase words as the welcome.
    if (this.#sasl?.tried === true) {
      this.#inPhase(
        REGISTER_PHASE,
        { kind: "login", name: this.#withPass(this.#name) },
        (member) => this.#forgetPassIf(member),
      );
    } else this.#login(this.#name);
  }

  /** A numeric answered here, to this client. */
  #say(code: string, rest: string): void {
    this.answer(numeric(this.#shared.identity.server, code, rest));
  }

  /** Lines answered here, to go out in their turn among the hub's replies. */
  answer(answer: Answer): void {
    (this.#answers ??= []).push(answer);
  }

  /** A command for the hub, after what was answered here before it. */
  emit(command: Command): void {
    this.#endAnswers();
    if (this.#first === undefined) this.#first = command;
    else (this.#more ??= []).push(command);
  }

  /** What was answered here goes through the hub too, so that it keeps its place among the replies. */
  #endAnswers(): void {
    const answers = this.#answers;
    if (answers === undefined) return;
    this.#answers = undefined;
    this.emit({ kind: "answered", answer: render(answers) });
  }

  /** Every line costs a token and counts as activity, answered here or not. */
  #post(command: Command): boolean {
    return this.#client.message({ kind: "command", link: this.#client, command });
  }
}

/** The IRC door for `identity` (its server name and channel); `accounts`: accounts are on. */
export function ircDoor(identity: IrcIdentity, accounts = false): Door {
  const wires = ircWires(identity);
  const shared: IrcShared = {
    identity,
    wires,
    farewells: closingLines(),
    keepalive: encoder.encode(`PING :${identity.server}\r\n`),
    allowed: accounts ? ALL_CAPS : ALL_CAPS & ~ACCOUNT_CAPS,
  };
  return {
    maxMessageBytes: MAX_CLIENT_LINE_BYTES,
    wire: wires(0),
    forwarding: "proxy-header",
    framer: (client) => new IrcClient(client, shared),
  };
}
