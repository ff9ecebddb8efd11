/**
 * How each setting's text becomes a value: one parser per kind of value,
 * each throwing a {@linkcode ConfigError} whose message is the one line
 * shown to the user.
 *
 * @module
 */
import { CidrList, parseCidr } from "./address.ts";

/** A flag or environment value that cannot be used; its message is the one line shown to the user. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Turns a setting's text into its value; `source` names the flag or variable in errors. */
export type Parse = (
  raw: string,
  source: string,
) => number | string | CidrList | readonly string[] | undefined;

/** A host name or address, no spaces. */
export function parseHost(raw: string, source: string): string {
  const host = raw.trim();
  if (host === "" || /\s/.test(host)) {
    throw new ConfigError(`Cannot start: ${source} must be a host name or address, got "${raw}"`);
  }
  return host;
}

/** A port, 0 to 65535. */
export function parsePort(raw: string, source: string): number {
  const port = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`Cannot start: ${source} must be a port from 0 to 65535, got "${raw}"`);
  }
  return port;
}

/** A whole number, 0 or more. */
export function parseNonNegativeInteger(raw: string, source: string): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ConfigError(
      `Cannot start: ${source} must be a whole number, 0 or more, got "${raw}"`,
    );
  }
  return value;
}

/** A comma list of addresses and CIDR networks; empty or `none` for none. */
export function parseCidrList(raw: string, source: string): CidrList {
  const text = raw.trim();
  if (text === "" || text === "none") return new CidrList([]);
  const networks = text.split(",").map((item) => {
    const network = parseCidr(item.trim());
    if (network !== undefined) return network;
    throw new ConfigError(
      `Cannot start: ${source} must be a comma list of addresses or CIDR networks, got "${item.trim()}"`,
    );
  });
  return new CidrList(networks);
}

/** Lines a second, 0 or more, fractions allowed. */
export function parseRate(raw: string, source: string): number {
  const rate = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(rate) || rate < 0) {
    throw new ConfigError(
      `Cannot start: ${source} must be a number of lines a second, 0 or more, got "${raw}"`,
    );
  }
  return rate;
}

/** A `redis://` or `rediss://` URL with a host. */
export function parseRedisUrl(raw: string, source: string): string {
  const text = raw.trim();
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || !["redis:", "rediss:"].includes(url.protocol) || url.hostname === "") {
    throw new ConfigError(
      `Cannot start: ${source} must be a redis:// or rediss:// URL with a host, got "${
        withoutCredentials(raw)
      }"`,
    );
  }
  return text;
}

/** `raw` with whatever stands before an `@` hidden: a refused URL may still carry a password. */
function withoutCredentials(raw: string): string {
  const at = raw.lastIndexOf("@");
  if (at === -1) return raw;
  const scheme = raw.indexOf("//");
  const start = scheme !== -1 && scheme < at ? scheme + 2 : 0;
  return `${raw.slice(0, start)}***${raw.slice(at)}`;
}

/** A file path, not empty. */
export function parsePath(raw: string, source: string): string {
  if (raw.trim() === "") throw new ConfigError(`Cannot start: ${source} must be a file path`);
  return raw;
}

/** A parser accepting one of `choices`. */
export function oneOf(choices: readonly string[]): Parse {
  return (raw, source) => {
    const value = raw.trim();
    if (!choices.includes(value)) {
      throw new ConfigError(
        `Cannot start: ${source} must be one of ${choices.join(", ")}, got "${raw}"`,
      );
    }
    return value;
  };
}

/** A number above 0, fractions allowed, of `unit`. */
function positiveAmount(unit: string): (raw: string, source: string) => number {
  return (raw, source) => {
    const value = /^\s*(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(value) || value <= 0) {
      throw new ConfigError(
        `Cannot start: ${source} must be a number of ${unit} above 0, got "${raw}"`,
      );
    }
    return value;
  };
}

/** Seconds above 0, fractions allowed. */
export const parsePositiveSeconds: (raw: string, source: string) => number = positiveAmount(
  "seconds",
);

/** Days above 0, fractions allowed. */
export const parsePositiveDays: (raw: string, source: string) => number = positiveAmount("days");

/** A whole number above 0. */
export function parsePositiveInteger(raw: string, source: string): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(
      `Cannot start: ${source} must be a whole number above 0, got "${raw}"`,
    );
  }
  return value;
}

/** A comma list of web origins (`scheme://host[:port]`), each as the browser writes it. */
export function parseOrigins(raw: string, source: string): readonly string[] {
  const text = raw.trim();
  if (text === "" || text === "none") return [];
  return text.split(",").map((item) => {
    let url: URL | undefined;
    try {
      url = new URL(item.trim());
    } catch {
      url = undefined;
    }
    if (url === undefined || !["http:", "https:"].includes(url.protocol) || url.origin === "null") {
      throw new ConfigError(
        `Cannot start: ${source} must be a comma list of origins like https://chat.example.com, got "${item.trim()}"`,
      );
    }
    return url.origin;
  });
}

/** An IRC channel name: `#`, then up to 49 characters, none a space, comma, colon or control. */
export function parseChannel(raw: string, source: string): string {
  const channel = raw.trim();
  if (!/^#[^\s,:\p{Cc}]{1,49}$/u.test(channel)) {
    throw new ConfigError(
      `Cannot start: ${source} must be a channel name like #chat, got "${raw}"`,
    );
  }
  return channel;
}

/** A server name for IRC: a hostname-like token of letters, digits, `.` and `-`, at most 63 characters. */
export function parseServerName(raw: string, source: string): string {
  const name = raw.trim();
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62})$/.test(name)) {
    throw new ConfigError(
      `Cannot start: ${source} must be a server name of letters, digits, "." and "-" (at most 63) like irc.example.com, got "${raw}"`,
    );
  }
  return name;
}
