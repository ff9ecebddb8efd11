/**
 * Lines from the server, as the client reads them: version 1's replies and
 * events, version 2's `INFO <name> connected` and version 3's `HIST` lines.
 * Pure.
 *
 * @module
 */

/** One line from the server, understood. */
export type ServerLine =
  /** `OK`, and what follows it (`registered`, `password-changed`…), empty for a plain `OK`. */
  | { readonly kind: "ok"; readonly text: string }
  | { readonly kind: "pong" }
  | { readonly kind: "msg"; readonly from: string; readonly text: string }
  | { readonly kind: "dm"; readonly from: string; readonly text: string }
  | { readonly kind: "joined"; readonly name: string }
  | { readonly kind: "left"; readonly name: string }
  | { readonly kind: "user"; readonly name: string }
  | { readonly kind: "err"; readonly code: string }
  /** One message of a history reply: `HIST <id> <sender> <text>`. */
  | { readonly kind: "hist"; readonly id: string; readonly from: string; readonly text: string }
  /** The end of a history reply: `HIST END`. */
  | { readonly kind: "hist-end" }
  /** Anything else (a newer server's line): shown as it is, never acted on. */
  | { readonly kind: "unknown"; readonly line: string };

/** Splits `rest` at its first space: a name (names have no spaces), then the text after it. */
function nameAndText(rest: string): [string, string] | undefined {
  const space = rest.indexOf(" ");
  return space <= 0 ? undefined : [rest.slice(0, space), rest.slice(space + 1)];
}

// `<ms>-<seq>`, as the server writes ids (the client reads the time from `<ms>`).
const MESSAGE_ID = /^\d{1,16}-\d{1,16}$/;

/** Parses one server line (its `\n`, and a `\r` before it, already removed). */
export function parseServerLine(line: string): ServerLine {
  const space = line.indexOf(" ");
  const word = space === -1 ? line : line.slice(0, space);
  const rest = space === -1 ? "" : line.slice(space + 1);
  switch (word) {
    case "OK":
      return { kind: "ok", text: rest };
    case "PONG":
      return { kind: "pong" };
    case "MSG":
    case "DM": {
      const parts = nameAndText(rest);
      if (parts === undefined) break;
      return { kind: word === "MSG" ? "msg" : "dm", from: parts[0], text: parts[1] };
    }
    case "INFO": {
      const parts = nameAndText(rest);
      if (parts?.[1] === "connected") return { kind: "joined", name: parts[0] };
      if (parts?.[1] === "disconnected") return { kind: "left", name: parts[0] };
      break;
    }
    case "USER":
      if (rest !== "") return { kind: "user", name: rest };
      break;
    case "ERR":
      return { kind: "err", code: rest };
    case "HIST": {
      if (rest === "END") return { kind: "hist-end" };
      const space = rest.indexOf(" ");
      const id = rest.slice(0, space);
      const parts = nameAndText(rest.slice(space + 1));
      if (space === -1 || !MESSAGE_ID.test(id) || parts === undefined) break;
      return { kind: "hist", id, from: parts[0], text: parts[1] };
    }
  }
  return { kind: "unknown", line };
}
