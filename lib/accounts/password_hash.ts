/**
 * Passwords as slow salted hashes, stored as one self-describing string so
 * the cost can be raised later and old hashes still verify. New hashes are
 * PBKDF2-HMAC-SHA256 at OWASP's minimum of 600,000 iterations (WebCrypto);
 * scrypt (`node:crypto`, OWASP's N=2^17, r=8, p=1) hashes verify too. Why
 * PBKDF2: on a 2-core machine scrypt's 0.7 s of a core per check, one login
 * a second, cost workload B 2.6 times its p99; PBKDF2 costs about 80 ms
 * (docs/operations.md, "Passwords").
 *
 * Both run off the calling thread (WebCrypto's and Node's async hashes go to
 * the runtime's blocking pool: measured), so nothing here blocks the hub; how
 * many run at once is bounded by `password_checks.ts`.
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

/** PBKDF2-HMAC-SHA256's cost: its iterations. */
export interface Pbkdf2Params {
  readonly iterations: number;
}

/** Either hash's cost; which one, the fields say. */
export type HashParams = ScryptParams | Pbkdf2Params;

/** What a new hash costs: OWASP's Password Storage Cheat Sheet minimum for PBKDF2-HMAC-SHA256. */
export const CURRENT_PARAMS: Pbkdf2Params = { iterations: 600_000 };

/** The most iterations a stored PBKDF2 hash may ask for: a hostile string must not cost minutes. */
const MAX_ITERATIONS = 10_000_000;

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
function derive(password: string, salt: Uint8Array, params: HashParams): Promise<Uint8Array> {
  const normalized = password.normalize("NFKC");
  if ("iterations" in params) return pbkdf2(normalized, salt, params.iterations);
  const { logN, r, p } = params;
  const options = { N: 2 ** logN, r, p, maxmem: memoryFor(params) };
  return new Promise((resolve, reject) => {
    scrypt(normalized, salt, KEY_BYTES, options, (error, key) => {
      // Node's scrypt errors name parameters, never the password; the caller drops them anyway.
      if (error !== null) reject(error);
      else resolve(key);
    });
  });
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(salt), iterations },
    material,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/**
 * A new hash of `password`: `pbkdf2-sha256$<iterations>$<salt>$<key>`, or
 * with scrypt params `scrypt$<logN>$<r>$<p>$<salt>$<key>` (salt and key in
 * base64). `params` other than {@linkcode CURRENT_PARAMS} are for tests,
 * where each real hash would cost a tenth of a second or more.
 */
export async function hashPassword(
  password: string,
  params: HashParams = CURRENT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  if ("iterations" in params) return `pbkdf2-sha256$${params.iterations}$${b64(salt)}$${b64(key)}`;
  return `scrypt$${params.logN}$${params.r}$${params.p}$${b64(salt)}$${b64(key)}`;
}

/** A stored hash taken apart, or `undefined` when it is not one this module wrote. */
export interface ParsedHash {
  readonly params: HashParams;
  readonly salt: Uint8Array;
  readonly key: Uint8Array;
}

/** Takes a stored hash apart; `undefined` for anything malformed or too costly to check. */
export function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split("$");
  let params: HashParams;
  if (parts.length === 4 && parts[0] === "pbkdf2-sha256") {
    const iterations = /^[1-9]\d{0,7}$/.test(parts[1]!) ? Number(parts[1]) : NaN;
    if (!(iterations >= 1000 && iterations <= MAX_ITERATIONS)) return undefined;
    params = { iterations };
  } else if (parts.length === 6 && parts[0] === "scrypt") {
    const [logN, r, p] = parts.slice(1, 4).map((part) => DIGITS.test(part) ? Number(part) : NaN);
    const scryptParams = { logN: logN!, r: r!, p: p! };
    const { logN: n, r: blocks, p: lanes } = scryptParams;
    if (!(n >= 1 && n <= 24 && blocks >= 1 && lanes >= 1)) return undefined;
    if (memoryFor(scryptParams) > MAX_MEMORY_BYTES || lanes > 16) return undefined;
    params = scryptParams;
  } else {
    return undefined;
  }
  const salt = fromBase64(parts.at(-2)!);
  const key = fromBase64(parts.at(-1)!);
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
 * True when `stored` was not made as {@linkcode CURRENT_PARAMS} make new
 * hashes (another function, fewer iterations, or malformed): after a
 * successful login, hash the password again and store the new hash.
 */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  if (parsed === undefined || !("iterations" in parsed.params)) return true;
  return parsed.params.iterations < CURRENT_PARAMS.iterations;
}
