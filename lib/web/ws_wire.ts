/**
 * The hub's lines as WebSocket text frames: each v1 line, without its `\n`,
 * is one frame. Broadcasts are framed once into the shared arena.
 *
 * @module
 */
import type { LineArena, WriteHeader } from "../line_arena.ts";
import { type CloseReason, closingLine, formatHist, HIST_END, REPLY } from "../protocol.ts";
import type { Reply, Wire } from "../wire.ts";
import {
  CLOSE_CODE,
  closeFrame,
  frame,
  OPCODE,
  serverHeaderBytes,
  textFrame,
  writeHeader,
} from "./ws_frames.ts";

const writeTextHeader: WriteHeader = (buffer, at, bytes) =>
  writeHeader(buffer, at, OPCODE.text, bytes);

/** The v1 lines as frames: each line's bytes without its `\n`. */
const REPLY_FRAMES = Object.fromEntries(
  Object.entries(REPLY).map(([name, line]) => [name, frame(OPCODE.text, line.subarray(0, -1))]),
) as Record<Reply, Uint8Array>;

/** Frames one line, with room for its header computed from the worst case. */
function framedInArena(arena: LineArena, text: string): Uint8Array {
  return arena.encodeFramed(text, serverHeaderBytes(text.length * 3), writeTextHeader);
}

const HIST_END_FRAME = textFrame(HIST_END);

/** What the server sends a WebSocket that has been silent: a ping, whose pong counts as activity. */
export const KEEPALIVE_PING: Uint8Array = frame(OPCODE.ping, new Uint8Array(0));

/** Every v1 line as one text frame. */
export const WS_WIRE: Wire = {
  slot: 1,
  hearsChatAtLogin: true,
  reply: (reply) => REPLY_FRAMES[reply],
  userList(names) {
    const frames = names.map((name) => textFrame(`USER ${name}`));
    const block = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
    let at = 0;
    for (const f of frames) {
      block.set(f, at);
      at += f.length;
    }
    return block;
  },
  dm: (sender, text) => textFrame(`DM ${sender} ${text}`),
  parted: () => undefined,
  msg: (sender, text, _notice, arena) => framedInArena(arena, `MSG ${sender} ${text}`),
  connected: (name, arena) => framedInArena(arena, `INFO ${name} connected`),
  disconnected: (name, arena) => framedInArena(arena, `INFO ${name} disconnected`),
  history: (messages) => ({
    lines: messages.map((m) => textFrame(formatHist(m.id, m.sender, m.text))),
    end: HIST_END_FRAME,
  }),
};

/** The close code that goes with each reason the hub closes a WebSocket for. */
export const CLOSE_CODES: Readonly<Record<CloseReason, number>> = {
  quit: CLOSE_CODE.normal,
  eof: CLOSE_CODE.normal,
  reset: CLOSE_CODE.normal,
  served: CLOSE_CODE.normal,
  "name-conflict": CLOSE_CODE.normal,
  "session-replaced": CLOSE_CODE.normal,
  shutdown: CLOSE_CODE.goingAway,
  idle: CLOSE_CODE.policyViolation,
  "slow-consumer": CLOSE_CODE.policyViolation,
  "excess-flood": CLOSE_CODE.policyViolation,
  "server-full": CLOSE_CODE.tryAgainLater,
  "too-many-connections": CLOSE_CODE.tryAgainLater,
  "protocol-error": CLOSE_CODE.protocolError,
  error: CLOSE_CODE.internalError,
};

/** `ERR <reason>` (if the reason has a line) then a close frame, for a WebSocket closed for `reason`. */
function socketFarewell(reason: CloseReason): Uint8Array {
  const line = closingLine(reason);
  const close = closeFrame(CLOSE_CODES[reason], reason);
  if (line === undefined) return close;
  const text = textFrame(new TextDecoder().decode(line.subarray(0, -1)));
  const bytes = new Uint8Array(text.length + close.length);
  bytes.set(text);
  bytes.set(close, text.length);
  return bytes;
}

/** The last frames for a WebSocket closed for each reason. */
export const SOCKET_FAREWELLS = Object.fromEntries(
  Object.keys(CLOSE_CODES).map((reason) => [reason, socketFarewell(reason as CloseReason)]),
) as Record<CloseReason, Uint8Array>;
