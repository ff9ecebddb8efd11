/**
 * The HTTP half of the web port: what a request is answered with (the
 * page's files, a refusal, or the WebSocket upgrade), and what a client is
 * told when closed while still speaking HTTP. Pure: no I/O, no state.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { canonicalIp } from "../address.ts";
import type { CloseReason } from "../protocol.ts";
import { errorResponse, listsToken, type RequestHead } from "./http_request.ts";
import type { PageResponses } from "./page_files.ts";

const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY = /^[A-Za-z0-9+/]{22}==$/;
const encoder = new TextEncoder();

/** What a client still speaking HTTP is told when closed for a reason. */
export const HTTP_FAREWELLS: Partial<Record<CloseReason, Uint8Array>> = {
  idle: errorResponse(408, "Request Timeout"),
  shutdown: errorResponse(503, "Service Unavailable"),
  "server-full": errorResponse(503, "Service Unavailable", { "Retry-After": "5" }),
  "too-many-connections": errorResponse(429, "Too Many Requests", { "Retry-After": "5" }),
  error: errorResponse(500, "Internal Server Error"),
};

/** A request that is not HTTP as the web port speaks it. */
export const BAD_REQUEST: Uint8Array = errorResponse(400, "Bad Request");
/** A request head over the limit. */
export const HEAD_TOO_LARGE: Uint8Array = errorResponse(431, "Request Header Fields Too Large");

/** What a request gets: the upgrade to a WebSocket, or a response that ends the connection. */
export type Answer =
  | { readonly kind: "upgrade"; readonly response: Uint8Array }
  | { readonly kind: "respond"; readonly reason: CloseReason; readonly response: Uint8Array };

/**
 * Answers one request: `GET /ws` upgrades (when it is a valid WebSocket
 * handshake from an allowed origin), `GET` of a page file serves it, and
 * anything else is refused.
 */
export function answer(
  head: RequestHead,
  pages: PageResponses,
  origins: readonly string[],
): Answer {
  if (head.method !== "GET") {
    return refuse("served", errorResponse(405, "Method Not Allowed", { Allow: "GET" }));
  }
  if (head.path !== "/ws") {
    return refuse("served", pages.get(head.path) ?? errorResponse(404, "Not Found"));
  }
  const headers = head.headers;
  const key = headers.get("sec-websocket-key") ?? "";
  if (
    !listsToken(headers.get("upgrade"), "websocket") ||
    !listsToken(headers.get("connection"), "upgrade") || !KEY.test(key)
  ) {
    return refuse("protocol-error", BAD_REQUEST);
  }
  if (headers.get("sec-websocket-version") !== "13") {
    const refusal = errorResponse(426, "Upgrade Required", { "Sec-WebSocket-Version": "13" });
    return refuse("protocol-error", refusal);
  }
  if (!originAllowed(headers.get("origin"), headers.get("host"), origins)) {
    return refuse("served", errorResponse(403, "Forbidden"));
  }
  const accept = createHash("sha1").update(key + WS_GUID).digest("base64");
  return {
    kind: "upgrade",
    response: encoder.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    ),
  };
}

function refuse(reason: CloseReason, response: Uint8Array): Answer {
  return { kind: "respond", reason, response };
}

/**
 * No `Origin` (not a browser), the server's own (the same host and port as
 * the request's `Host`, whatever the scheme, so that a TLS-terminating proxy
 * in front changes nothing), or one listed in `--web-origins`.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  origins: readonly string[],
): boolean {
  if (origin === undefined) return true;
  const named = origin.toLowerCase().replace(/\/$/, "");
  if (origins.includes(named)) return true;
  return host !== undefined && originHost(named) === host.toLowerCase();
}

/** The host (and port) an `Origin` names, lower case; undefined when it is not a URL. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The client a proxy names last in `X-Forwarded-For` (the one it saw), if that is an address. */
export function lastForwarded(value: string | undefined): string | undefined {
  const last = value?.split(",").at(-1)?.trim();
  if (last === undefined || last === "") return undefined;
  const bare = last.startsWith("[") ? last.slice(1, last.indexOf("]")) : last;
  return /^[0-9a-fA-F:.]+$/.test(bare) ? canonicalIp(bare) : undefined;
}
