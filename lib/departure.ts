/**
 * Why a user left, in the words IRC users expect in a `QUIT` (ircds'
 * words), and the cleaning of what a user says when it goes or parts. The
 * hub words a departure once; doors that say it (IRC) show these words,
 * the others (v1, WebSocket) keep their `INFO <name> disconnected`.
 *
 * @module
 */
import { type CloseReason, sanitizeText } from "./protocol.ts";

/** The longest `QUIT` or `PART` reason kept, in code points: the relayed line cuts it further to 512 bytes. */
export const MAX_REASON_CHARS = 300;

const WORDS: Readonly<Record<CloseReason, string>> = {
  quit: "Quit",
  eof: "Remote host closed the connection",
  reset: "Connection reset by peer",
  idle: "Ping timeout",
  "slow-consumer": "SendQ exceeded",
  "excess-flood": "Excess Flood",
  "name-conflict": "Nick collision",
  "session-replaced": "Session replaced",
  "protocol-error": "Protocol error",
  shutdown: "Server shutting down",
  error: "Error",
  // Never a member's departure: refused, or a one-shot HTTP answer.
  "server-full": "Quit",
  "too-many-connections": "Quit",
  served: "Quit",
};

/**
 * The words of a departure for `reason`; a `QUIT` with a reason the user
 * gave is `Quit: <said>`, as ircds prefix it (so nobody fakes a server's words).
 */
export function departureWords(reason: CloseReason, said?: string): string {
  if (reason === "quit" && said !== undefined && said !== "") return `Quit: ${said}`;
  return WORDS[reason];
}

/**
 * A reason a client gave (`QUIT`, `PART`): control characters replaced,
 * cut to {@linkcode MAX_REASON_CHARS}; undefined when nothing is left.
 */
export function cleanReason(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const clean = [...sanitizeText(raw)].slice(0, MAX_REASON_CHARS).join("").trim();
  return clean === "" ? undefined : clean;
}
