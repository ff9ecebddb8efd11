/**
 * Process guards: an unhandled rejection or an uncaught error in some
 * callback is logged, never allowed to end the server.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** Installs the guards on `globalThis`; returns a function that removes them. */
export function installProcessGuards(log: Logger): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    log.error("unhandled rejection", { error: describe(event.reason) });
  };
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    log.error("uncaught error", { error: describe(event.error ?? event.message) });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return () => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  };
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.stack ?? reason.message : String(reason);
}
