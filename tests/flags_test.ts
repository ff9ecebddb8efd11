/** Unit tests of the strict reading of a command line over @std/cli's parseArgs. */
import { assertEquals, assertThrows } from "@std/assert";
import { FlagError, parseFlags } from "../lib/flags.ts";

const spec = { values: ["port", "host"], switches: ["tls", "help"] } as const;

Deno.test("parseFlags takes --flag=value and --flag value, the last of a repeated flag, and switches", () => {
  assertEquals(parseFlags(["--port=1", "--host", "h", "--port", "2", "--tls"], spec), {
    values: { port: "2", host: "h" },
    switches: { tls: true, help: false },
  });
  assertEquals(parseFlags([], spec), { values: {}, switches: { tls: false, help: false } });
  // A value is kept as written: no number, no boolean.
  assertEquals(parseFlags(["--host=1e3", "--port", "true"], spec).values, {
    host: "1e3",
    port: "true",
  });
});

Deno.test("parseFlags refuses in one line what parseArgs alone would read loosely", () => {
  const refused: [string[], string][] = [
    [["--bogus"], 'unknown flag "--bogus"'],
    [["--bogus=a\nb"], 'unknown flag "--bogus"'],
    [["-p", "1"], 'unknown flag "-p"'],
    [["--no-tls"], 'unknown flag "--no-tls"'],
    [["--no-port=5"], 'unknown flag "--no-port"'],
    [["--tls=no"], "--tls takes no value"],
    [["--tls="], "--tls takes no value"],
    [["--port"], "--port needs a value: --port=<value>"],
    [["--port", ""], "--port needs a value: --port=<value>"],
    [["--port", "--tls"], "--port needs a value: --port=<value>"],
    [["stray"], 'unexpected argument "stray"'],
    [["--port=1", "--", "--tls"], 'unexpected argument "--tls"'],
  ];
  for (const [args, message] of refused) {
    assertEquals(assertThrows(() => parseFlags(args, spec), FlagError).message, message);
  }
});
