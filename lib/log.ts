/**
 * Operator logs: one line per event, as text or JSON, filtered by level.
 *
 * @module
 */

/** Log line formats. */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@linkcode LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];
/** Log levels, least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Extra facts about a logged event. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where the server reports events an operator cares about. */
export interface Logger {
  /** Per-connection detail: anonymous connections opening and closing. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation: listening, logins, disconnects, shutdown. */
  info(message: string, fields?: LogFields): void;
  /** One client or one accept went wrong, or was refused, and the server carries on. */
  warn(message: string, fields?: LogFields): void;
  /** The server itself went wrong. */
  error(message: string, fields?: LogFields): void;
}

/** How a logger writes, and what it leaves out. */
export interface LoggerOptions {
  readonly format: LogFormat;
  readonly level: LogLevel;
  /** Receives each finished line, without its `\n`; stderr when omitted. */
  readonly write?: (line: string) => void;
  /** The clock for timestamps; injected by tests. */
  readonly now?: () => Date;
}

const encoder = new TextEncoder();

/** Log bytes that may wait for a slow stderr before lines are dropped (and counted). */
const MAX_PENDING_LOG_BYTES = 1 << 20;

/**
 * Writes lines to stderr without ever blocking the server: a stderr that
 * backs up (a full pipe nobody reads) delays the log, not the chat. Past
 * {@linkcode MAX_PENDING_LOG_BYTES} waiting, lines are dropped, and how many
 * is said once writing works again.
 */
function stderrWriter(): (line: string) => void {
  const queue: Uint8Array[] = [];
  let pending = 0;
  let dropped = 0;
  let writing = false;
  const drain = async () => {
    writing = true;
    try {
      while (queue.length > 0) {
        const bytes = queue.shift()!;
        let written = 0;
        while (written < bytes.length) written += await Deno.stderr.write(bytes.subarray(written));
        pending -= bytes.length;
        if (dropped > 0 && queue.length === 0) {
          const note = encoder.encode(
            `${new Date().toISOString()} warn ${dropped} log lines dropped\n`,
          );
          dropped = 0;
          queue.push(note);
          pending += note.length;
        }
      }
    } catch {
      // stderr is gone: nothing more can be logged.
      queue.length = 0;
    } finally {
      writing = false;
    }
  };
  return (line) => {
    const bytes = encoder.encode(line + "\n");
    if (pending + bytes.length > MAX_PENDING_LOG_BYTES) {
      dropped++;
      return;
    }
    queue.push(bytes);
    pending += bytes.length;
    if (!writing) drain();
  };
}

function textLine(time: string, level: string, message: string, fields?: LogFields): string {
  let line = `${time} ${level} ${message}`;
  if (fields !== undefined) {
    for (const key in fields) {
      const value = fields[key];
      if (value !== undefined) line += ` ${key}=${JSON.stringify(value)}`;
    }
  }
  return line;
}

function jsonLine(time: string, level: string, message: string, fields?: LogFields): string {
  return JSON.stringify({ time, level, msg: message, ...fields });
}

/** A logger writing `format` lines at `level` and above. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? stderrWriter();
  const now = options.now ?? (() => new Date());
  const format = options.format === "json" ? jsonLine : textLine;
  const threshold = LOG_LEVELS.indexOf(options.level);
  const at = (level: LogLevel) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return () => {};
    return (message: string, fields?: LogFields) =>
      write(format(now().toISOString(), level, message, fields));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const SILENT_LOGGER: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
