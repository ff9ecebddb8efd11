/**
 * TLS material: the certificate and key files, read once at startup.
 *
 * @module
 */
import { readPemFile } from "./pem_file.ts";

/** A TLS file that cannot be read or is not PEM; its message is the one line shown to the user. */
export class TlsFileError extends Error {
  override name = "TlsFileError";
}

/** A PEM certificate chain and its private key. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/**
 * Reads the two PEM files: a missing or unreadable one, or a pair that is not
 * a certificate chain and its key, is a {@linkcode TlsFileError}.
 */
export function readTlsMaterial(certPath: string, keyPath: string): TlsMaterial {
  const material = { cert: readPem(certPath, "--tls-cert"), key: readPem(keyPath, "--tls-key") };
  checkPair(material);
  return material;
}

/**
 * Throws unless `material` is a certificate chain and its key. `node:tls`,
 * which serves the TLS ports, takes anything here and fails every handshake
 * later; Deno's own TLS client parses and matches the pair now.
 */
function checkPair(material: TlsMaterial): void {
  try {
    Deno.createHttpClient({ cert: material.cert, key: material.key }).close();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TlsFileError(`Cannot start: the TLS certificate and key cannot be used: ${reason}`);
  }
}

function readPem(path: string, source: string): string {
  const pem = readPemFile(path);
  if ("problem" in pem) throw new TlsFileError(`Cannot start: ${source} ${path}: ${pem.problem}`);
  return pem.text;
}
