/**
 * The terminal chat client as a user runs it (`deno task chat`'s flags,
 * read from deno.json) against a real server process: in a real terminal
 * (tmux, read back with `capture-pane`) and over pipes. Without `tmux` on
 * the PATH the terminal tests are skipped, except in CI (`.ci/run` installs it).
 */
import { assert, assertEquals, assertMatch, assertNotEquals } from "@std/assert";
import type { StartedServer } from "./server_process.ts";
import { TestClient } from "./helpers.ts";
import { Tmux } from "./tmux.ts";
import {
  clientCommand,
  has,
  noTmux,
  PipedChat,
  root,
  startServer,
  stopServer,
} from "./terminal_harness.ts";

Deno.test("deno task chat runs deno with network access and read access only, never -A or env", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  // Read access is for --ca, and the client revokes it once the file is read.
  assertEquals(String(config.tasks.chat).split(/\s+/), [
    "deno",
    "run",
    "--allow-net",
    "--allow-read",
    "lib/terminal/chat.ts",
  ]);
});

Deno.test({
  name:
    "terminal client: an incoming line leaves the half-typed line intact; Enter, history, /msg, /who",
  ignore: noTmux,
  async fn() {
    const server = await startServer();
    const tmux = await Tmux.start(
      await clientCommand(["--name=alice", "--host=127.0.0.1", `--port=${server.port}`]),
    );
    let bob: TestClient | undefined;
    try {
      await tmux.waitFor("the login", has(`* connected to 127.0.0.1:${server.port} as alice`));
      await tmux.waitForInput("alice>", 7);
      bob = await TestClient.login(server.port, "bob");

      await tmux.type("hello wor");
      await tmux.keys("Left", "Left");
      await tmux.waitForInput("alice> hello wor", 14);
      await bob.send("MSG hi alice, how are you?");
      const screen = await tmux.waitFor("bob's message", has("<bob> hi alice, how are you?"));
      // The message went above; the typed text and the cursor are where they were.
      assertEquals(screen.at(-2), "<bob> hi alice, how are you?");
      await tmux.waitForInput("alice> hello wor", 14);

      await tmux.keys("End");
      await tmux.type("ld");
      await tmux.keys("Enter");
      await bob.expect("MSG alice hello world");
      await tmux.waitFor("alice's own line", has("<alice> hello world"));
      await tmux.waitForInput("alice>", 7);

      // Up recalls the line; edited and sent, it is a new message.
      await tmux.keys("Up");
      await tmux.waitForInput("alice> hello world");
      await tmux.keys("BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
      await tmux.type("there");
      await tmux.keys("Enter");
      await bob.expect("MSG alice hello there");
      await tmux.keys("Up", "Up");
      await tmux.waitForInput("alice> hello world");
      await tmux.keys("Down");
      await tmux.waitForInput("alice> hello there");
      await tmux.keys("C-u");
      await tmux.waitForInput("alice>", 7);

      // Wide and accented characters: one arrow press or backspace each, the cursor where they end.
      await tmux.type("日本 é");
      await tmux.waitForInput("alice> 日本 é", 13);
      await tmux.keys("Left", "Left", "Left");
      await tmux.waitForInput("alice> 日本 é", 9);
      await tmux.keys("BSpace");
      await tmux.waitForInput("alice> 本 é", 7);
      await tmux.keys("C-e", "C-u");
      await tmux.waitForInput("alice>", 7);

      await tmux.type("/msg bob psst, a secret");
      await tmux.keys("Enter");
      await bob.expect("DM alice psst, a secret");
      await tmux.waitFor("the DM shown as sent", has("[DM to bob] psst, a secret"));
      await bob.send("DM alice keep it");
      await tmux.waitFor("bob's DM", has("[DM from bob] keep it"));
      await tmux.type("/who");
      await tmux.keys("Enter");
      await tmux.waitFor("the online list", has("* online: alice, bob"));

      // Escape sequences from bob arrive neutralised (by the server here; see the next test).
      await bob.send("MSG \x1b[2J\x1b]2;pwned\x07 \x1b[31mred");
      await tmux.waitFor(
        "the hostile line",
        has("<bob> \uFFFD[2J\uFFFD]2;pwned\uFFFD \uFFFD[31mred"),
      );
      assert(
        (await tmux.screen()).includes("<bob> hi alice, how are you?"),
        "screen not cleared",
      );

      await tmux.keys("C-c");
      await tmux.waitFor("the client's exit", has("[exit 0]"));
      await tmux.waitFor("the terminal restored", has("[stty icanon echo ]"));
      await bob.expect("INFO alice disconnected");
    } finally {
      await tmux.kill();
      await bob?.dispose();
      await stopServer(server);
    }
  },
});

/**
 * A server that speaks just enough protocol to log a client in, sends `lines`
 * as they are, then answers `PING`s.
 */
function hostileServer(lines: string[]): { port: number; done: Promise<void>; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let conn: Deno.Conn | undefined;
  const done = (async () => {
    conn = await listener.accept();
    const buffer = new Uint8Array(4096);
    let seen = "";
    while (!seen.includes("\n")) {
      const count = await conn.read(buffer);
      if (count === null) return;
      seen += new TextDecoder().decode(buffer.subarray(0, count));
    }
    const encoded = new TextEncoder().encode(["OK", ...lines].join("\n") + "\n");
    await conn.write(encoded);
    // Read on until the client hangs up, answering PING as a version 2 server does (it
    // ignores HISTORY): the live lines held back behind the history on connect come out.
    let pending = "";
    while (true) {
      const count = await conn.read(buffer).catch(() => null);
      if (count === null) return;
      const received = (pending + new TextDecoder().decode(buffer.subarray(0, count))).split("\n");
      pending = received.pop()!;
      const pongs = received.filter((line) => line === "PING").map(() => "PONG\n").join("");
      if (pongs !== "") await conn.write(new TextEncoder().encode(pongs)).catch(() => 0);
    }
  })();
  return {
    port: listener.addr.port,
    done,
    close: () => {
      listener.close();
      try {
        conn?.close();
      } catch {
        // Closed already.
      }
    },
  };
}

Deno.test({
  name:
    "terminal client: escape sequences and C1 controls from a server that lets them through are never written raw",
  ignore: noTmux,
  async fn() {
    const server = hostileServer([
      "MSG ev\x1bil \x1b[2J\x1b]2;pwned\x07\x1b[31mred \u009b1;1H here",
      "INFO \x1b[5mblink connected",
      "DM x\rY \x1b[?1049h\x08gone",
      "WEIRD \x1bc",
    ]);
    const tmux = await Tmux.start(
      await clientCommand(["--name=alice", "--host=127.0.0.1", `--port=${server.port}`]),
    );
    try {
      const screen = await tmux.waitFor("the hostile lines", has("* server: WEIRD \uFFFDc"));
      const at = screen.indexOf(`* connected to 127.0.0.1:${server.port} as alice`);
      assert(at !== -1, "screen not cleared");
      assertEquals(screen.slice(at + 1), [
        "<ev\uFFFDil> \uFFFD[2J\uFFFD]2;pwned\uFFFD\uFFFD[31mred \uFFFD1;1H here",
        "* \uFFFD[5mblink joined",
        "[DM from x\uFFFDY] \uFFFD[?1049h\uFFFDgone",
        "* server: WEIRD \uFFFDc",
        "alice>",
      ]);
      const title = await tmux.run("display-message", "-p", "-t", "chat", "#{pane_title}");
      assertNotEquals(title.trim(), "pwned");
    } finally {
      await tmux.kill();
      server.close();
      await server.done.catch(() => {});
    }
  },
});

Deno.test("terminal client over pipes: plain lines in and out, in order, and EOF quits with status 0", async () => {
  const server = await startServer();
  const bob = await TestClient.login(server.port, "bob");
  const chat = await PipedChat.start(["--name=bot", "--host=127.0.0.1", `--port=${server.port}`]);
  try {
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${server.port} as bot`);
    await chat.write("hello, everyone\n");
    await bob.expect("MSG bot hello, everyone");
    assertEquals(await chat.line(), "<bot> hello, everyone");
    await bob.send("MSG hi bot");
    assertEquals(await chat.line(), "<bob> hi bot");
    await bob.send("DM bot a secret");
    assertEquals(await chat.line(), "[DM from bob] a secret");
    await chat.write("/who\n/msg bob yo\n/msg nobody x\n/nope\n/help\n//not a command\n");
    const { code, rest, stderr } = await chat.finish();
    assertEquals(rest, [
      "* online: bob, bot",
      "[DM to bob] yo",
      "! nobody is not online; your message was not delivered.",
      "! Unknown command /nope; /help lists the commands (// sends a line starting with /).",
      "* /msg <name> <text>  send a private message to one user",
      "* /who                list who is online",
      "* /history [n]        show the latest n messages again (default 20, at most 1000)",
      "*                     as [HH:MM] <name> text (local time); the latest 20 show on connect",
      "* /register           make your name an account: asks for a new password, twice",
      "* /password           change the account's password: asks for the current one, then the new",
      "* /unregister         delete your account (you stay, as a guest): asks for its password",
      "*                     passwords are typed at a prompt that shows nothing",
      "* /quit               leave (also Ctrl-C, or Ctrl-D on an empty line)",
      "* /help               this list",
      "* Anything else goes to everyone; start it with // to send a line that begins with /.",
      "<bot> /not a command",
    ]);
    assertEquals(code, 0);
    assertEquals(stderr, "");
    assertEquals(await bob.readLines(3), [
      "DM bot yo",
      "MSG bot /not a command",
      "INFO bot disconnected",
    ]);
  } finally {
    await chat.dispose();
    await bob.dispose();
    await stopServer(server);
  }
});

Deno.test("terminal client over pipes: lines queued before the login go out after it; /quit leaves", async () => {
  const server = await startServer();
  const bob = await TestClient.login(server.port, "bob");
  const chat = await PipedChat.start(["--name=bot", "--host=127.0.0.1", `--port=${server.port}`]);
  try {
    await chat.write("one\ntwo\n/quit\nthree\n");
    const { code, rest, stderr } = await chat.finish();
    assertEquals(rest, [
      `* connected to 127.0.0.1:${server.port} as bot`,
      "<bot> one",
      "<bot> two",
    ]);
    assertEquals(code, 0);
    assertEquals(stderr, "");
    assertEquals(await bob.readLines(3), [
      "MSG bot one",
      "MSG bot two",
      "INFO bot disconnected",
    ]);
  } finally {
    await chat.dispose();
    await bob.dispose();
    await stopServer(server);
  }
});

Deno.test("terminal client: a taken name, a refused connection and bad flags end it with one line", async () => {
  const server = await startServer();
  const bob = await TestClient.login(server.port, "bob");
  try {
    const taken = await PipedChat.start([
      "--name=BOB",
      "--host=127.0.0.1",
      `--port=${server.port}`,
    ]);
    const refused = await taken.finish();
    assertEquals(refused, {
      code: 1,
      rest: [],
      stderr:
        "Cannot log in as BOB: That name is taken: someone online is using it. Choose another with --name.\n",
    });
    const invalid = await PipedChat.start([
      "--name=a\u200bb",
      "--host=127.0.0.1",
      `--port=${server.port}`,
    ]);
    const bad = await invalid.finish();
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, /^Cannot log in as a\u200bb: That name is not allowed: .*\n$/);
  } finally {
    await bob.dispose();
    await stopServer(server);
  }
  // The server has gone: nothing listens on its port any more.
  const nobody = await PipedChat.start(["--name=bot", "--host=127.0.0.1", `--port=${server.port}`]);
  const gone = await nobody.finish();
  assertEquals(gone.code, 1);
  assertEquals(gone.stderr, `Cannot connect to 127.0.0.1:${server.port}: Connection refused\n`);

  const flags = await PipedChat.start(["--name=bot", "--port=nope"]);
  assertEquals(await flags.finish(), {
    code: 2,
    rest: [],
    stderr: `chat: --port must be a port from 1 to 65535, got "nope"\n`,
  });
  const help = await PipedChat.start(["--help"]);
  const usage = await help.finish();
  assertEquals(usage.code, 0);
  assertMatch(usage.rest[0]!, /^Usage: deno task chat --name=<name>/);
});

Deno.test("terminal client: keepalive PINGs keep a client that only reads past the idle timeout", async () => {
  const server = await startServer(["--idle-timeout", "1"]);
  const chat = await PipedChat.start([
    "--name=reader",
    "--host=127.0.0.1",
    `--port=${server.port}`,
    "--ping=0.25",
  ]);
  const silent = await TestClient.login(server.port, "silent");
  try {
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${server.port} as reader`);
    // The silent client, logged in after the reader, is cut off for idling; the reader is not.
    await silent.expect("ERR idle-timeout", 5000);
    // Whether the reader's WATCH or silent's login reached the server first is a race.
    const next = await chat.line();
    if (next === "* silent joined") assertEquals(await chat.line(), "* silent left");
    else assertEquals(next, "* silent left");
    const bob = await TestClient.login(server.port, "bob");
    await bob.send("WHO");
    assertEquals(await bob.readLines(2), ["USER reader", "USER bob"]);
    await bob.send("MSG still there?");
    assertEquals(await chat.line(), "* bob joined");
    assertEquals(await chat.line(), "<bob> still there?");
    await bob.dispose();
    const { code } = await chat.finish();
    assertEquals(code, 0);
  } finally {
    await chat.dispose();
    await silent.dispose();
    await stopServer(server);
  }
});

Deno.test("terminal client: after the server restarts it reconnects and logs in again under its name", async () => {
  const first = await startServer();
  const port = first.port;
  const chat = await PipedChat.start(["--name=bot", "--host=127.0.0.1", `--port=${port}`]);
  let second: StartedServer | undefined;
  try {
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${port} as bot`);
    await stopServer(first);
    const lost = await chat.until(/^! Connection lost; trying again in \d+\.\d s$/);
    assertEquals(lost, [
      "! The server is shutting down.",
      lost.at(-1),
    ]);
    second = await startServer(["--port", `${port}`]);
    const back = await chat.until(/^\* reconnected as bot$/);
    // Attempts that found no server said so; nothing else came in between.
    for (const line of back.slice(0, -1)) {
      assertMatch(
        line,
        /^! Cannot connect to 127\.0\.0\.1:\d+: Connection refused; trying again in/,
      );
    }
    const bob = await TestClient.login(second.port, "bob");
    await chat.write("back again\n");
    await bob.expect("MSG bot back again");
    await bob.dispose();
    const { code } = await chat.finish();
    assertEquals(code, 0);
  } finally {
    await chat.dispose();
    if (second !== undefined) await stopServer(second);
    else await stopServer(first);
  }
});

/**
 * A loopback relay whose connections a test can freeze: nothing passes
 * either way, and when the client side closes the server side stays open, as
 * when a network path dies without a FIN reaching the server.
 */
class FreezableRelay {
  readonly #listener: Deno.TcpListener;
  readonly #target: number;
  readonly #pairs = new Set<{ client: Deno.Conn; server: Deno.Conn; frozen: boolean }>();
  readonly #pumps = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;

  constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** Freezes every connection open now; new ones are relayed. */
  freeze(): void {
    for (const pair of this.#pairs) pair.frozen = true;
  }

  /** Closes everything and waits for the pumps to end. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const pair of this.#pairs) {
      for (const conn of [pair.client, pair.server]) closeQuietly(conn);
    }
    await Promise.all(this.#pumps);
  }

  async #accept(): Promise<void> {
    while (true) {
      let client: Deno.Conn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      const server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
      const pair = { client, server, frozen: false };
      this.#pairs.add(pair);
      for (const [from, to] of [[client, server], [server, client]] as const) {
        const pump = this.#pump(pair, from, to);
        this.#pumps.add(pump);
        pump.finally(() => this.#pumps.delete(pump));
      }
    }
  }

  async #pump(pair: { frozen: boolean }, from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(16384);
    try {
      while (true) {
        const count = await from.read(buffer);
        if (count === null) break;
        if (pair.frozen) continue;
        let data = buffer.subarray(0, count);
        while (data.length > 0) data = data.subarray(await to.write(data));
      }
    } catch {
      // Closed.
    } finally {
      closeQuietly(from);
      if (!pair.frozen) closeQuietly(to);
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

Deno.test("terminal client: a dead connection is noticed by its keepalive; the name is retried until the server lets it go", async () => {
  const server = await startServer(["--idle-timeout", "2"]);
  const relay = new FreezableRelay(server.port);
  const chat = await PipedChat.start([
    "--name=bot",
    "--host=127.0.0.1",
    `--port=${relay.port}`,
    "--ping=0.25",
  ]);
  try {
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${relay.port} as bot`);
    relay.freeze();
    assertMatch(
      await chat.line() ?? "",
      /^! The server stopped answering; trying again in \d\.\d s$/,
    );
    // The server still holds the old login until its idle timeout: the name is taken meanwhile.
    const back = await chat.until(/^\* reconnected as bot$/);
    assert(back.length >= 2, JSON.stringify(back));
    for (const line of back.slice(0, -1)) {
      assertMatch(
        line,
        /^! The name bot is still taken \(the old connection may not be given up yet\); trying again in \d+\.\d s$/,
      );
    }
    const { code, rest } = await chat.finish();
    assertEquals({ code, rest }, { code: 0, rest: [] });
  } finally {
    await chat.dispose();
    await relay.close();
    await stopServer(server);
  }
});

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert(success, `openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

Deno.test("terminal client: --tls with --ca trusts a private CA; without it the certificate is refused", async () => {
  const dir = await Deno.makeTempDir();
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    dir,
    "req",
    "-x509",
    ...key,
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  await openssl(
    dir,
    "req",
    ...key,
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await openssl(
    dir,
    ...[
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
    ],
    ...["-days", "1", "-extfile", "server.ext", "-out", "server.crt"],
  );
  const server = await startServer([
    ...["--tls-cert", `${dir}/server.crt`, "--tls-key", `${dir}/server.key`, "--tls-port", "0"],
  ]);
  const bob = await TestClient.login(server.port, "bob");
  try {
    const target = ["--host=127.0.0.1", `--port=${server.tlsPort}`, "--tls"];
    const chat = await PipedChat.start(["--name=secure", ...target, `--ca=${dir}/ca.crt`]);
    assertEquals(await chat.line(), `* connected to 127.0.0.1:${server.tlsPort} as secure`);
    await chat.write("over TLS\n");
    await bob.expect("MSG secure over TLS");
    assertEquals(await chat.finish(), { code: 0, rest: ["<secure> over TLS"], stderr: "" });

    const untrusted = await (await PipedChat.start(["--name=secure", ...target])).finish();
    assertEquals(untrusted.code, 1);
    assertMatch(
      untrusted.stderr,
      /^Cannot connect to 127\.0\.0\.1:\d+: .*(certificate|UnknownIssuer)/i,
    );

    const missing = await (await PipedChat.start(["--name=x", ...target, `--ca=${dir}/none.crt`]))
      .finish();
    assertEquals(missing, {
      code: 2,
      rest: [],
      stderr: `chat: --ca ${dir}/none.crt: no such file\n`,
    });
  } finally {
    await bob.dispose();
    await stopServer(server);
    await Deno.remove(dir, { recursive: true });
  }
});
