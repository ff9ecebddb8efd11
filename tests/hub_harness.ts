/** Fake client links and a hub harness with a clock the test moves, for the hub's unit tests. */
import { assert, assertEquals } from "@std/assert";
import type { ClientLink } from "../lib/client_link.ts";
import { Hub, type HubOptions } from "../lib/hub.ts";
import { type CloseReason, parseLine } from "../lib/protocol.ts";
import { LINE_WIRE, type Wire } from "../lib/wire.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A client link that records what the hub sends and how it closes it. */
export class FakeLink implements ClientLink {
  /** One entry per send() call, decoded. */
  readonly sends: string[] = [];
  /** One entry per send() call: the very bytes the hub handed over, not a copy. */
  readonly sent: Uint8Array[] = [];
  /** Every close() call's reason, in order. */
  readonly closes: CloseReason[] = [];
  /** When true, send() refuses, as an outbox over its byte budget does. */
  refuse = false;
  /** When true, send() throws, as a transport with a bug might. */
  throwOnSend = false;

  constructor(readonly label: string) {}

  get remote(): string {
    return `${this.label}:1`;
  }

  readonly ip = "192.0.2.1";
  /** How the hub encodes for it: v1 lines unless a test makes it another kind of client. */
  wire: Wire = LINE_WIRE;

  send(bytes: Uint8Array): boolean {
    if (this.throwOnSend) throw new Error("a bug in this client's transport");
    if (this.refuse) return false;
    this.sent.push(bytes);
    this.sends.push(decoder.decode(bytes));
    return true;
  }

  /** Times the hub nudged it for being silent. */
  keepalives = 0;

  keepalive(): void {
    this.keepalives++;
  }

  close(reason: CloseReason): void {
    this.closes.push(reason);
  }

  /** The lines received since the last call, and forgets them. */
  take(): string[] {
    this.sent.length = 0;
    const text = this.sends.splice(0).join("");
    if (text === "") return [];
    assert(
      text.endsWith("\n"),
      `${this.label} got an unterminated line: ${JSON.stringify(text)}`,
    );
    return text.slice(0, -1).split("\n");
  }
}

/** A hub with a clock held in `clock.now`, and helpers to drive it. */
export class Harness {
  readonly clock = { now: 0 };
  readonly hub: Hub;

  constructor(options: Partial<Omit<HubOptions, "now">> = {}) {
    this.hub = new Hub({
      maxClients: 100,
      idleTimeoutMs: 60_000,
      ...options,
      now: () => this.clock.now,
    });
  }

  open(label: string): FakeLink {
    const link = new FakeLink(label);
    this.hub.apply({ kind: "open", link });
    return link;
  }

  /** Opens a link and logs it in as `name`, expecting OK. */
  login(name: string): FakeLink {
    const link = this.open(name);
    this.send(link, `LOGIN ${name}`);
    assertEquals(link.take(), ["OK"], `login of ${name}`);
    return link;
  }

  /** Applies `line` as a command from `link`. */
  send(link: FakeLink, line: string): void {
    this.hub.apply({ kind: "command", link, command: parseLine(line) });
  }
}
