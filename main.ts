/**
 * Entry point: configuration from flags and environment, then the server
 * until SIGINT or SIGTERM.
 *
 * @module
 */
import { ConfigError, parseConfig, usage } from "./lib/config.ts";
import { createLogger } from "./lib/log.ts";
import { ChatServer, ListenError } from "./lib/server.ts";

function fail(message: string, status: number): never {
  console.error(message);
  Deno.exit(status);
}

async function main(): Promise<void> {
  let request;
  try {
    request = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
  if (request.kind === "help") {
    console.log(usage());
    return;
  }

  const { config } = request;
  // Signals are watched before the "listening" line, so a supervisor that
  // stops the server as soon as it sees that line still gets a clean exit.
  let server: ChatServer | undefined;
  let stopRequested = false;
  const stop = () => {
    stopRequested = true;
    server?.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    server = ChatServer.listen(config, {
      log: createLogger({ format: config.logFormat, level: config.logLevel }),
    });
  } catch (error) {
    if (error instanceof ListenError) fail(error.message, 1);
    throw error;
  }
  if (stopRequested) server.shutdown();
  await server.finished;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
}

if (import.meta.main) {
  await main();
}
