/**
 * Just enough HTTP/1.1 for the web port: reading a request's head and
 * writing a whole response. Pure: no I/O, no state. Every response closes
 * its connection, so no keep-alive is ever held open.
 *
 * @module
 */

/** A request's first line and headers. */
export interface RequestHead {
  readonly method: string;
  /** The path, query removed. */
  readonly path: string;
  /** Header names in lower case; a repeated header's values joined with `, `. */
  readonly headers: ReadonlyMap<string, string>;
}

const CR = 0x0d;
const LF = 0x0a;
const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Where the head that starts at `buffer[0]` ends (after its blank line), or -1 if not within `end`. */
export function headEnd(buffer: Uint8Array, from: number, end: number): number {
  // A blank line is LF CR LF or LF LF: look for each LF and what precedes it.
  for (
    let i = buffer.indexOf(LF, Math.max(0, from - 2));
    i !== -1 && i < end;
    i = buffer.indexOf(LF, i + 1)
  ) {
    if (i >= 1 && buffer[i - 1] === LF) return i + 1;
    if (i >= 2 && buffer[i - 1] === CR && buffer[i - 2] === LF) return i + 1;
  }
  return -1;
}

/** Reads a request head (its bytes up to and including the blank line); undefined when malformed. */
export function parseRequestHead(bytes: Uint8Array): RequestHead | undefined {
  const lines = latin1.decode(bytes).split(/\r?\n/);
  const [method, target, version, extra] = (lines[0] ?? "").split(" ");
  if (method === undefined || !TOKEN.test(method) || extra !== undefined) return undefined;
  if (target === undefined || !target.startsWith("/") || !/^HTTP\/1\.[01]$/.test(version ?? "")) {
    return undefined;
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  const query = target.indexOf("?");
  return { method, path: query === -1 ? target : target.slice(0, query), headers };
}

/** True when the comma-separated header `value` lists `token`, in any case. */
export function listsToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(",").some((part) => part.trim().toLowerCase() === token);
}

/** A whole response that closes the connection. */
export function response(
  status: number,
  reason: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array | string = "",
): Uint8Array {
  const content = typeof body === "string" ? encoder.encode(body) : body;
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${content.length}\r\nConnection: close\r\n\r\n`;
  const headBytes = encoder.encode(head);
  const bytes = new Uint8Array(headBytes.length + content.length);
  bytes.set(headBytes);
  bytes.set(content, headBytes.length);
  return bytes;
}

/** A short plain-text error response. */
export function errorResponse(
  status: number,
  reason: string,
  extra: Record<string, string> = {},
): Uint8Array {
  return response(
    status,
    reason,
    { "Content-Type": "text/plain; charset=utf-8", ...extra },
    `${reason}\n`,
  );
}
