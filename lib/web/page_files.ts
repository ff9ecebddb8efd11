/**
 * The browser client's files, read once at startup (the running server keeps
 * no read permission) and turned into whole HTTP responses.
 *
 * @module
 */
import { response } from "./http_request.ts";

/** The page's directory; `deno compile` must `--include` it. */
export const PAGE_DIR = new URL("./page/", import.meta.url);

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Nothing from another host, no inline script, no framing by other sites. */
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** Response bytes by request path: `/` is `index.html`, every other file is served by its name. */
export type PageResponses = ReadonlyMap<string, Uint8Array>;

/** Reads every file of `dir` (not its subdirectories) into ready responses. */
export function loadPage(dir: URL = PAGE_DIR): PageResponses {
  const pages = new Map<string, Uint8Array>();
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isFile) continue;
    const dot = entry.name.lastIndexOf(".");
    const type = TYPES[dot === -1 ? "" : entry.name.slice(dot)];
    if (type === undefined) continue;
    const body = Deno.readFileSync(new URL(entry.name, dir));
    const bytes = response(200, "OK", { "Content-Type": type, ...SECURITY_HEADERS }, body);
    pages.set(`/${entry.name}`, bytes);
    if (entry.name === "index.html") pages.set("/", bytes);
  }
  return pages;
}
