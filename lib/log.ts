/**
 * Operator logs: one line per event on stderr.
 *
 * @module
 */

/** Extra facts about a logged event. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** Where the server reports events an operator cares about. */
export interface Logger {
  /** Normal operation: listening, shutdown. */
  info(message: string, fields?: LogFields): void;
  /** Something went wrong with one client or one accept, and the server carries on. */
  warn(message: string, fields?: LogFields): void;
  /** Something went wrong with the server itself. */
  error(message: string, fields?: LogFields): void;
}

function formatText(level: string, message: string, fields: LogFields | undefined): string {
  let line = `${new Date().toISOString()} ${level} ${message}`;
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) line += ` ${key}=${JSON.stringify(value)}`;
  }
  return line;
}

/** A logger writing `time level message key=value…` lines to stderr. */
export function stderrLogger(): Logger {
  return {
    info: (message, fields) => console.error(formatText("info", message, fields)),
    warn: (message, fields) => console.error(formatText("warn", message, fields)),
    error: (message, fields) => console.error(formatText("error", message, fields)),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const SILENT_LOGGER: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
