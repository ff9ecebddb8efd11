/**
 * Passwords as slow salted hashes: scrypt from `node:crypto`, at OWASP's
 * minimum cost (N=2^17, r=8, p=1), stored as one self-describing string so
 * the cost can be raised later and old hashes still verify.
 *
 * Deno's async `scrypt` runs on a thread of the runtime's blocking pool, not
 * on the calling thread (measured: docs/operations.md, "Passwords"), so
 * nothing here blocks the hub; how many run at once is bounded by
 * `password_checks.ts`, since each holds 128 MiB while it runs.
 *
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt's cost: N = 2^`logN`, block size `r`, parallelism `p`. */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** What a new hash costs: OWASP's Password Storage Cheat Sheet minimum for scrypt. */
export const CURRENT_PARAMS: ScryptParams = { logN: 17, r: 8, p: 1 };

/** Fewest and most code points in a password, as the protocol says. */
export const MIN_PASSWORD_CHARS = 8;
/** Most code points in a password, as the protocol says. */
export const MAX_PASSWORD_CHARS = 128;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/**
 * The most memory a stored hash may make scrypt use: a corrupt or hostile
 * stored string must not make a check allocate gigabytes.
 */
const MAX_MEMORY_BYTES = 512 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DIGITS = /^[1-9]\d{0,2}$/;

/** Why a password is refused at `REGISTER` or `PASSWORD`, or `undefined` when it is acceptable. */
export function passwordProblem(password: string): "weak-password" | undefined {
  let chars = 0;
  for (const _ of password) chars++;
  if (chars < MIN_PASSWORD_CHARS || chars > MAX_PASSWORD_CHARS) return "weak-password";
  if (/\s/u.test(password)) return "weak-password";
  // A lone surrogate would be hashed as U+FFFD, the same as any other lone surrogate.
  if (!password.isWellFormed()) return "weak-password";
  return undefined;
}

/** Bytes scrypt needs for `params` (128·r·(N + p)), plus slack: its `maxmem`. */
function memoryFor(params: ScryptParams): number {
  return 128 * params.r * (2 ** params.logN + params.p) + 1024 * 1024;
}

/**
 * The key for `password`. NFKC first, as NIST SP 800-63B advises: the same
 * password typed on systems that compose accents differently is the same
 * password.
 */
function derive(password: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  const { logN, r, p } = params;
  const options = { N: 2 ** logN, r, p, maxmem: memoryFor(params) };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_BYTES, options, (error, key) => {
      // Node's scrypt errors name parameters, never the password; the caller drops them anyway.
      if (error !== null) reject(error);
      else resolve(key);
    });
  });
}

/**
 * A new hash of `password`, as `scrypt$<logN>$<r>$<p>$<salt>$<key>` (salt and
 * key in base64). `params` other than {@linkcode CURRENT_PARAMS} are for
 * tests, where each real hash would cost half a second.
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = CURRENT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  return `scrypt$${params.logN}$${params.r}$${params.p}$${b64(salt)}$${b64(key)}`;
}

/** A stored hash taken apart, or `undefined` when it is not one this module wrote. */
export interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Uint8Array;
  readonly key: Uint8Array;
}

/** Takes a stored hash apart; `undefined` for anything malformed or too costly to check. */
export function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [logN, r, p] = parts.slice(1, 4).map((part) => DIGITS.test(part) ? Number(part) : NaN);
  const params = { logN: logN!, r: r!, p: p! };
  if (!(params.logN >= 1 && params.logN <= 24 && params.r >= 1 && params.p >= 1)) return undefined;
  if (memoryFor(params) > MAX_MEMORY_BYTES || params.p > 16) return undefined;
  const salt = fromBase64(parts[4]!);
  const key = fromBase64(parts[5]!);
  if (salt === undefined || key === undefined || salt.length < 8 || key.length < 16) {
    return undefined;
  }
  return { params, salt, key };
}

function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/**
 * True when `password` is the one `stored` was made from, compared in
 * constant time. A malformed `stored` is `false`; this never rejects, so no
 * error can carry the password anywhere.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  try {
    const key = await derive(password, parsed.salt, parsed.params);
    return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

/**
 * True when `stored` was made at a lower cost than {@linkcode CURRENT_PARAMS}
 * (or is malformed): after a successful login, hash the password again and
 * store the new hash.
 */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (parsed === undefined) return true;
  const { logN, r, p } = parsed.params;
  return logN < CURRENT_PARAMS.logN || r < CURRENT_PARAMS.r || p < CURRENT_PARAMS.p;
}
