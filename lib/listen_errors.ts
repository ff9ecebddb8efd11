/**
 * Listen and accept errors: the one the server throws when a port cannot be
 * had (its own module so that the entry point can name it without the whole
 * server), and which accept errors are one peer's doing.
 *
 * @module
 */
/** A listener could not be opened; `address` says which, `cause` why. */
export class ListenError extends Error {
  override name = "ListenError";
  /** The `host:port` that could not be listened on. */
  readonly address: string;

  /** Wraps what `Deno.listen` or `Deno.serve` threw for `address`. */
  constructor(address: string, cause: unknown) {
    const reason = cause instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super(`Cannot listen on ${address}: ${reason}`, { cause });
    this.address = address;
  }
}

/** True for accept errors caused by one peer (it reset or vanished first), not by the server. */
export function peerGaveUp(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected;
}
