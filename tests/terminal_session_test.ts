/** Unit tests of the client's bookkeeping: replies matched to PINGs, reconnect decisions, options. */
import { assert, assertEquals, assertMatch, assertStrictEquals, assertThrows } from "@std/assert";
import { Replies } from "../lib/terminal/replies.ts";
import {
  backoffDelay,
  CLUSTER_PATIENCE_MS,
  MAX_DELAY_MS,
  ReconnectPolicy,
  TAKEN_PATIENCE_MS,
} from "../lib/terminal/reconnect.ts";
import { parseOptions, UsageError } from "../lib/terminal/options.ts";

Deno.test("Replies ends a WHO list at the PONG of the PING sent after it", () => {
  const replies = new Replies();
  replies.sent({ kind: "keepalive" });
  replies.sent({ kind: "who" });
  assertEquals(replies.busy, true);
  assertEquals(replies.pong(), undefined);
  replies.user("a");
  replies.user("b");
  assertEquals(replies.pong(), { kind: "online", names: ["a", "b"] });
  assertEquals(replies.busy, false);
});

Deno.test("Replies confirms a DM at its PONG, or names its target on ERR user-not-found", () => {
  const replies = new Replies();
  replies.sent({ kind: "dm", to: "bob", text: "hi" });
  replies.sent({ kind: "dm", to: "zed", text: "yo" });
  assertEquals(replies.pong(), { kind: "dm-out", to: "bob", text: "hi" });
  assertEquals(replies.userNotFound(), {
    kind: "error",
    code: "user-not-found",
    target: "zed",
  });
  assertEquals(replies.pong(), undefined);
  assertEquals(replies.userNotFound(), { kind: "error", code: "user-not-found" });
});

Deno.test("Replies warns about DMs in flight when the connection is lost", () => {
  const replies = new Replies();
  replies.sent({ kind: "keepalive" });
  replies.sent({ kind: "dm", to: "bob", text: "hi" });
  const warnings = replies.reset();
  assertEquals(warnings.length, 1);
  assertMatch(warnings[0]!.kind === "warning" ? warnings[0]!.text : "", /bob/);
  assertEquals(replies.busy, false);
  assertEquals(replies.pong(), undefined);
});

Deno.test("backoffDelay doubles from 0.5 s to 15 s, spread by a quarter either way", () => {
  const middle = () => 0.5;
  assertEquals([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, middle)), [
    500,
    1000,
    2000,
    4000,
    8000,
    15000,
    15000,
    15000,
  ]);
  assertEquals(backoffDelay(0, () => 0), 375);
  assertEquals(backoffDelay(0, () => 1), 625);
  assertStrictEquals(backoffDelay(10, () => 1), MAX_DELAY_MS);
});

Deno.test("ReconnectPolicy gives up on a first connection that fails or is refused", () => {
  for (const code of ["username-taken", "invalid-username", "server-full"]) {
    assertEquals(new ReconnectPolicy(() => 0.5).refused(code, 0), { kind: "give-up" });
  }
  assertEquals(new ReconnectPolicy(() => 0.5).failed(), { kind: "give-up" });
});

Deno.test("ReconnectPolicy retries with growing waits once it has been online, from 0.5 s after each login", () => {
  const policy = new ReconnectPolicy(() => 0.5);
  policy.online();
  assertEquals(policy.failed(), { kind: "retry", delayMs: 500 });
  assertEquals(policy.failed(), { kind: "retry", delayMs: 1000 });
  assertEquals(policy.refused("server-full", 0), { kind: "retry", delayMs: 2000 });
  policy.online();
  assertEquals(policy.failed(), { kind: "retry", delayMs: 500 });
  assertEquals(policy.refused("invalid-username", 0), { kind: "give-up" });
});

Deno.test("ReconnectPolicy waits for a taken name on reconnect, for a while", () => {
  const policy = new ReconnectPolicy(() => 0.5);
  policy.online();
  assertEquals(policy.refused("username-taken", 1000).kind, "retry");
  assertEquals(policy.refused("username-taken", 1000 + TAKEN_PATIENCE_MS - 1).kind, "retry");
  assertEquals(policy.refused("username-taken", 1000 + TAKEN_PATIENCE_MS).kind, "give-up");
  // A login in between starts the patience again.
  policy.online();
  assertEquals(policy.refused("username-taken", 500_000).kind, "retry");
});

Deno.test("ReconnectPolicy retries an unavailable cluster even before the first login", () => {
  const policy = new ReconnectPolicy(() => 0.5);
  assertEquals(policy.refused("cluster-unavailable", 0).kind, "retry");
  assertEquals(policy.refused("cluster-unavailable", CLUSTER_PATIENCE_MS).kind, "give-up");
});

Deno.test("parseOptions reads the flags, with the server's ports as defaults", () => {
  assertEquals(parseOptions(["--name=bob"]), {
    kind: "run",
    options: {
      name: "bob",
      host: "localhost",
      port: 4000,
      tls: false,
      ca: undefined,
      pingSeconds: 20,
      passwordStdin: false,
    },
  });
  assertEquals(
    parseOptions(["--name", "bob", "--host=chat.example", "--tls", "--ca=ca.pem", "--ping=0.5"]),
    {
      kind: "run",
      options: {
        name: "bob",
        host: "chat.example",
        port: 4001,
        tls: true,
        ca: "ca.pem",
        pingSeconds: 0.5,
        passwordStdin: false,
      },
    },
  );
  assertEquals(parseOptions(["--name=bob", "--port=5000", "--tls"]).kind, "run");
  assertEquals(parseOptions(["--help"]), { kind: "help" });
  assertEquals(parseOptions(["--name=x", "--help"]), { kind: "help" });
});

Deno.test("parseOptions refuses bad flags with one line", () => {
  const bad = [
    [],
    ["--name="],
    ["--name=bob", "--port=0"],
    ["--name=bob", "--port=70000"],
    ["--name=bob", "--port=4e3"],
    ["--name=bob", "--ping=0"],
    ["--name=bob", "--ping=soon"],
    ["--name=bob", "--ca=x.pem"],
    ["--name=bob", "--bogus"],
    ["--name=bob", "stray"],
    ["--name=bob", "--host="],
    ["--name"],
    ["--name=bob", "--port"],
    ["--name=bob", "--", "a\nb"],
  ];
  for (const args of bad) {
    const error = assertThrows(() => parseOptions(args), UsageError, undefined, args.join(" "));
    assert(!error.message.includes("\n") && error.message.startsWith("chat: "), error.message);
  }
});

Deno.test("parseOptions names an unknown flag, a stray argument or a flag without its value", () => {
  const refused: [string[], string][] = [
    [["--name=bob", "--bogus"], 'chat: unknown flag "--bogus" (see --help)'],
    [["--name=bob", "-h"], 'chat: unknown flag "-h" (see --help)'],
    [["--name=bob", "--no-tls"], 'chat: unknown flag "--no-tls" (see --help)'],
    [["--name=bob", "--no-tls=1"], 'chat: unknown flag "--no-tls" (see --help)'],
    [["--name=bob", "--tls=no"], "chat: --tls takes no value (see --help)"],
    [["--name=bob", "stray"], 'chat: unexpected argument "stray" (see --help)'],
    [["--name=bob", "--", "x"], 'chat: unexpected argument "x" (see --help)'],
    [["--name"], "chat: --name needs a value: --name=<value> (see --help)"],
    [["--name", "--tls"], "chat: --name needs a value: --name=<value> (see --help)"],
    [["--name=bob", "--port"], "chat: --port needs a value: --port=<value> (see --help)"],
    [["--name=bob", "--port="], 'chat: --port must be a port from 1 to 65535, got ""'],
    [["--name=bob", "--host="], 'chat: --host must be a host name or address, got ""'],
    [["--name=bob", "--ping="], 'chat: --ping must be a number of seconds above 0, got ""'],
    [["--name=bob", "--tls", "--ca="], "chat: --ca needs a file name"],
  ];
  for (const [args, message] of refused) {
    assertEquals(assertThrows(() => parseOptions(args), UsageError).message, message);
  }
});

Deno.test("parseOptions takes --flag value as --flag=value", () => {
  const request = parseOptions(["--name", "bob", "--host", "h", "--port", "5", "--ping", "2"]);
  assertEquals(request, parseOptions(["--name=bob", "--host=h", "--port=5", "--ping=2"]));
  assertEquals(request.kind === "run" && request.options, {
    name: "bob",
    host: "h",
    port: 5,
    tls: false,
    ca: undefined,
    pingSeconds: 2,
    passwordStdin: false,
  });
});
