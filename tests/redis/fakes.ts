/** Fakes for the Redis adapter's unit tests: a logger that records, a Redis whose scripts the test answers, and a client. */
import type { LogFields, Logger } from "../../lib/log.ts";
import type { RedisClient, RunScript, ScriptArgs } from "../../lib/redis/connections.ts";

/** One logged line. */
export interface LoggedLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: LogFields | undefined;
}

/** A logger that keeps every line. */
export class RecordingLogger implements Logger {
  /** Every line, in order. */
  readonly lines: LoggedLine[] = [];

  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: "debug", message, fields });
  }

  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: "info", message, fields });
  }

  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", message, fields });
  }

  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: "error", message, fields });
  }

  /** The messages logged at `level`. */
  messages(level: LoggedLine["level"]): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

/** One script run, with the reply the test gives it. */
export interface ScriptCall {
  readonly script: string;
  readonly keys: readonly string[];
  readonly arguments: readonly string[];
  readonly reply: PromiseWithResolvers<unknown>;
}

/** A Redis whose every script run waits for the test to answer it. */
export class FakeRedis {
  /** Every run, in order. */
  readonly calls: ScriptCall[] = [];

  /** What the code under test calls. */
  readonly run: RunScript = (script: string, args: ScriptArgs) => {
    const reply = Promise.withResolvers<unknown>();
    this.calls.push({ script, keys: args.keys, arguments: args.arguments, reply });
    return reply.promise;
  };

  /** The only run not yet taken by an earlier call to this; fails when there is none. */
  take(): ScriptCall {
    const call = this.calls.shift();
    if (call === undefined) throw new Error("Cannot take a script run: none was made");
    return call;
  }
}

/** A client that does what the test says, and records what it was asked. */
export class FakeClient implements RedisClient {
  isReady = false;
  readonly listeners = new Map<string, ((error?: unknown) => void)[]>();
  readonly subscribes: { channels: string[]; listener: (message: string) => void }[] = [];
  readonly subscribeReplies: PromiseWithResolvers<void>[] = [];
  readonly published: [string, string][] = [];
  publishReply: Promise<unknown> = Promise.resolve(1);
  readonly connected = Promise.withResolvers<unknown>();
  destroyed = 0;
  neverConnected = false;

  on(event: "error" | "ready", listener: (error?: unknown) => void): void {
    this.listeners.set(event, [...this.listeners.get(event) ?? [], listener]);
  }

  emit(event: "error" | "ready", error?: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener(error);
  }

  connect(): Promise<unknown> {
    return this.connected.promise;
  }

  subscribe(channels: string[], listener: (message: string) => void): Promise<void> {
    this.subscribes.push({ channels, listener });
    const reply = Promise.withResolvers<void>();
    this.subscribeReplies.push(reply);
    return reply.promise;
  }

  publish(channel: string, message: string): Promise<unknown> {
    this.published.push([channel, message]);
    return this.publishReply;
  }

  /** Scripts run on this client, each waiting for the test's answer. */
  readonly scripts = new FakeRedis();

  eval(script: string, args: ScriptArgs): Promise<unknown> {
    return this.scripts.run(script, args);
  }

  /** Commands sent as they are, in order, each answered by `commandReply`. */
  readonly commands: string[][] = [];
  commandReply: (args: string[]) => Promise<unknown> = () => Promise.resolve(null);

  sendCommand(args: string[]): Promise<unknown> {
    this.commands.push(args);
    return this.commandReply(args);
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }

  destroy(): void {
    this.destroyed++;
    if (this.neverConnected) throw new Error("The client is closed");
  }

  /** Delivers a message on the channels subscribed last. */
  deliver(message: string): void {
    this.subscribes.at(-1)!.listener(message);
  }
}

/** Settles until `done()` holds; throws after 2 s, naming `what`. */
export async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await settle();
  }
}

/** Lets every pending promise callback and microtask run (a timer of 0 ms comes after them). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
