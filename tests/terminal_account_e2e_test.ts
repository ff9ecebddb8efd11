/**
 * The terminal client's accounts against a real server with `--data-dir` in
 * a temporary folder (real scrypt hashes, about 0.7 s each): `/register` and
 * the password prompts in a real terminal (tmux), every byte the client
 * wrote to it recorded (`pipe-pane`) and its scrollback read back, so a
 * password is proven never drawn; `--password-stdin` and a takeover over pipes.
 */
import { assert, assertEquals } from "@std/assert";
import { TestClient } from "./helpers.ts";
import type { StartedServer } from "./server_process.ts";
import { tempDir } from "./temp_dir.ts";
import { shellQuote, Tmux } from "./tmux.ts";
import {
  clientCommand,
  has,
  noTmux,
  PipedChat,
  startServer,
  stopServer,
} from "./terminal_harness.ts";

const SECRET = "Zq7secretPW";
const WRONG = "Wr0ngGuess9";

/** alice's client in a tmux window, everything it writes to the terminal copied to `record`. */
async function aliceIn(port: number, record: string): Promise<Tmux> {
  const args = ["--name=alice", "--host=127.0.0.1", `--port=${port}`];
  const tmux = await Tmux.start(await clientCommand(args), 100, 30);
  // The client takes far longer to start than this takes: the record misses none of its output.
  await tmux.run("pipe-pane", "-O", "-t", "chat", `cat >> ${shellQuote(record)}`);
  return tmux;
}

/** Asserts that no password is in the window's screen and scrollback, in what the client wrote, or in the server's log. */
async function neverShown(tmux: Tmux, record: string, server: StartedServer): Promise<void> {
  const scrollback = await tmux.run("capture-pane", "-p", "-S", "-", "-E", "-", "-t", "chat");
  const written = await Deno.readTextFile(record);
  assert(written.includes("Password for alice: "), "the record holds the client's output");
  for (const [what, text] of [["screen", scrollback], ["output", written], ["log", server.log()]]) {
    for (const secret of [SECRET, WRONG]) {
      assert(!text!.includes(secret), `${secret} in the ${what}`);
    }
  }
}

Deno.test({
  name:
    "terminal client: /register asks twice unseen; a restart logs in again at once; a new start asks, a wrong password asks again",
  ignore: noTmux,
  fn: async () => {
    await using dir = await tempDir("chat-term-accounts-");
    const record = `${dir.path}/terminal.out`;
    const dataDir = `${dir.path}/data`;
    await Deno.mkdir(dataDir);
    let server = await startServer(["--data-dir", dataDir]);
    const port = server.port;
    let tmux = await aliceIn(port, record);
    try {
      await tmux.waitFor("the login", has(`* connected to 127.0.0.1:${port} as alice`));
      await tmux.waitForInput("alice>", 7);
      await tmux.type("half typed");
      await tmux.waitForInput("alice> half typed");
      await tmux.keys("C-u");
      await tmux.type("/register");
      await tmux.keys("Enter");
      await tmux.waitForInput("New password:", 14);
      await tmux.type(SECRET);
      await tmux.keys("Enter");
      // The second question came after the first answer: every key of it was read, and none drawn.
      await tmux.waitForInput("Same password again:", 21);
      await tmux.type(SECRET);
      await tmux.keys("Enter");
      await tmux.waitFor(
        "the registration",
        has("* Registered: alice is now your account; its password is asked at each login."),
      );
      await tmux.waitForInput("alice>", 7);

      // The server restarts: the client logs in with the kept password, without asking.
      await stopServer(server);
      server = await startServer(["--port", `${port}`, "--data-dir", dataDir]);
      await tmux.waitFor("the reconnect", has("* reconnected as alice"));
      await tmux.waitForInput("alice>", 7);
      const screen = await tmux.screen();
      assert(!screen.some((row) => row.startsWith("Password")), screen.join("\n"));
      await tmux.keys("C-c");
      await tmux.waitFor("the client's exit", has("[exit 0]"));
      await tmux.kill();

      // A new start knows no password: it asks, unseen; a wrong one is said, and asked again.
      tmux = await aliceIn(port, record);
      await tmux.waitFor(
        "the question",
        has("* alice is an account: type its password (it is not shown)."),
      );
      await tmux.waitForInput("Password for alice:", 20);
      await tmux.type(WRONG);
      await tmux.keys("Enter");
      await tmux.waitFor(
        "the wrong password said",
        has("! Wrong password for alice; try again (Ctrl-C leaves)."),
      );
      await tmux.waitForInput("Password for alice:", 20);
      await tmux.type(SECRET);
      await tmux.keys("Enter");
      await tmux.waitFor("the login", has(`* connected to 127.0.0.1:${port} as alice`));
      await tmux.waitForInput("alice>", 7);
      await neverShown(tmux, record, server);
      await tmux.keys("C-c");
      await tmux.waitFor("the client's exit", has("[exit 0]"));
    } finally {
      await tmux.kill();
      await stopServer(server);
    }
  },
});

Deno.test("terminal client over pipes: --password-stdin logs in; without it a refusal; a takeover ends it, never fought back", async () => {
  await using dir = await tempDir("chat-term-accounts-");
  const server = await startServer(["--data-dir", dir.path]);
  const holder = await TestClient.login(server.port, "carol");
  let bob: TestClient | undefined;
  const args = ["--name=carol", "--host=127.0.0.1", `--port=${server.port}`];
  let chat: PipedChat | undefined;
  let taker: TestClient | undefined;
  try {
    await holder.send(`REGISTER ${SECRET}`);
    await holder.expect("OK registered");
    await holder.send("QUIT");
    await holder.expectClosed();
    bob = await TestClient.login(server.port, "bob");

    // Over pipes nobody can be asked: the client says how to give the password.
    chat = await PipedChat.start(args);
    const refused = await chat.finish();
    assertEquals(refused.code, 1);
    assertEquals(refused.rest, []);
    assertEquals(
      refused.stderr,
      "Cannot log in as carol: That name is an account: its password is needed. " +
        "Over pipes, give it with --password-stdin.\n",
    );

    chat = await PipedChat.start([...args, "--password-stdin"]);
    await chat.write(`${SECRET}\nhello from a script\n`);
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${server.port} as carol`);
    await bob.expect("MSG carol hello from a script");
    assertEquals(await chat.line(), "<carol> hello from a script");

    // The right password elsewhere takes the name over: the client says so and stops.
    taker = await TestClient.connect(server.port);
    await taker.send(`LOGIN carol ${SECRET}`);
    await taker.expect("OK");
    // The input ends only once the takeover is said: a client whose input ended leaves anyway.
    assertEquals(
      await chat.line(),
      "! Another session logged in to this account with its password; this one was closed.",
    );
    const { code, rest, stderr } = await chat.finish();
    assertEquals(rest, []);
    assertEquals(code, 1);
    assertEquals(
      stderr,
      "Another session logged in to the account carol with its password, so this one was closed. " +
        "Not reconnecting: that would take the name back from it.\n",
    );
    await taker.send("PING");
    await taker.expect("PONG");
    assert(!server.log().includes(SECRET), "the password in the server's log");
  } finally {
    await chat?.dispose();
    await taker?.dispose();
    await holder.dispose();
    await bob?.dispose();
    await stopServer(server);
  }
});

Deno.test("terminal client over pipes: /register, /password and /unregister take their answers from the next lines", async () => {
  await using dir = await tempDir("chat-term-accounts-");
  const server = await startServer(["--data-dir", dir.path]);
  const chat = await PipedChat.start(["--name=dave", "--host=127.0.0.1", `--port=${server.port}`]);
  const NEW = "N3wSecretPW";
  try {
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${server.port} as dave`);
    await chat.write(`/register\n${SECRET}\n${SECRET}\n/register\n${SECRET}\n${SECRET}\n`);
    assertEquals(
      await chat.line(),
      "* Registered: dave is now your account; its password is asked at each login.",
    );
    assertEquals(await chat.line(), "! dave is already an account; dave is not registered.");
    await chat.write(`/password\n${WRONG}\n${NEW}\n${NEW}\n/password\n${SECRET}\n${NEW}\n${NEW}\n`);
    assertEquals(await chat.line(), "! Wrong password; the password is unchanged.");
    assertEquals(await chat.line(), "* Password changed.");
    await chat.write(`/unregister\n${SECRET}\n/unregister\n${NEW}\nstill here\n`);
    const { code, rest, stderr } = await chat.finish();
    assertEquals(rest, [
      "! Wrong password; the account is not deleted.",
      "* The account dave is deleted; you stay here as a guest under the same name.",
      "<dave> still here",
    ]);
    assertEquals(code, 0);
    assertEquals(stderr, "");
    for (const secret of [SECRET, WRONG, NEW]) assert(!server.log().includes(secret));
  } finally {
    await chat.dispose();
    await stopServer(server);
  }
});
