/**
 * What a door (a transport: the v1 line protocol today, WebSocket and IRC
 * next) brings to a connection: how its bytes are framed into hub events,
 * and its last words. Everything else (the read loop, flood control, the
 * outbox, idle, the one close with its linger) is the connection's, shared
 * by every door.
 *
 * @module
 */
import type { ClientLink } from "./client_link.ts";
import type { HubEvent } from "./hub.ts";
import type { CloseReason } from "./protocol.ts";
import type { Wire } from "./wire.ts";

/**
 * One connection's input framing, driven by its read loop: read into
 * {@linkcode Framer.space}, then {@linkcode Framer.commit}. The framer owns
 * its buffer so that the socket reads straight into it.
 */
export interface Framer {
  /** True once the client ran out of tokens: call {@linkcode Framer.resume}, not another read. */
  readonly paused: boolean;
  /** Where the next read goes. Not while paused. */
  space(): Uint8Array;
  /** Frames `count` bytes just read into {@linkcode Framer.space}, handing on what they complete. */
  commit(count: number): void;
  /** Goes on with what a pause held back. */
  resume(): void;
  /** What nudges a silent client to answer, as of now; undefined: the door has nothing. */
  readonly keepalive: Uint8Array | undefined;
  /** The last bytes for a client closed for `reason`, in its door's words as of now; undefined: none. */
  farewell(reason: CloseReason): Uint8Array | undefined;
  /**
   * True once the peer owes nothing more (its goodbye came, or the door's
   * exchange is over): the socket goes as soon as the last bytes are out.
   */
  readonly finished: boolean;
  /** Bytes that came after the connection was closed: the door may be awaiting the peer's goodbye in them. */
  linger(bytes: Uint8Array): void;
  /** The socket is released: stop any timer of its own. */
  release(): void;
}

/** Where a framer hands what it frames: the connection, which posts it and meters it. */
export interface DoorClient extends ClientLink {
  /** Posts one message's event; false once the client is over its rate (pause before the next). */
  message(event: HubEvent): boolean;
  /** Posts an event that is not a message of its own: it costs no token. */
  notice(event: HubEvent): void;
  /** Ends the connection from the door's side: sends `lastWords` after what is queued, then closes. */
  hangUp(reason: CloseReason, lastWords: Uint8Array | undefined): void;
  /**
   * The client's own address as its request named it (`X-Forwarded-For`),
   * or undefined when it named none. Believed only from a trusted proxy,
   * whose connection joins the hub only now; ignored from anyone else.
   */
  forwardedFor(ip: string | undefined): void;
}

/** How a trusted proxy tells who its client is: a PROXY protocol header first, or an HTTP header. */
export type Forwarding = "proxy-header" | "http-header";

/** A transport's framing and encoding; one object serves every connection of that door. */
export interface Door {
  /** The longest message its framer must hold whole, its end included: flood control's backlog holds one. */
  readonly maxMessageBytes: number;
  /** How the hub's lines are encoded for this door's clients. */
  readonly wire: Wire;
  /** How a trusted proxy in front of this door names its client. */
  readonly forwarding: Forwarding;
  /** A framer for a new connection, handing what it frames to `client`. */
  framer(client: DoorClient): Framer;
}
