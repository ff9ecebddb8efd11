/**
 * The terminal client's earlier messages against a real server: the latest
 * 20 on connect and `/history [n]`, dimmed in a real terminal (tmux, read
 * back with `capture-pane -e`), plain `[HH:MM] <name> text` lines over pipes,
 * and after a reconnect only what was missed.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { TestClient } from "./helpers.ts";
import { TcpRelay } from "./tcp_relay.ts";
import { Tmux } from "./tmux.ts";
import {
  clientCommand,
  has,
  noTmux,
  PipedChat,
  startServer,
  stopServer,
} from "./terminal_harness.ts";

/** `HH:MM` of the id's milliseconds on a clock `offsetMinutes` behind UTC (as `Date` counts). */
function clock(id: string, offsetMinutes: number): string {
  const ms = Number(id.slice(0, id.indexOf("-")));
  return new Date(ms - offsetMinutes * 60_000).toISOString().slice(11, 16);
}

/**
 * `sender` says each of `texts` to everyone; then the chat's latest messages
 * as the server stores them, `[id, sender, text]` each, oldest first.
 */
async function say(sender: TestClient, texts: string[]): Promise<[string, string, string][]> {
  for (const text of texts) await sender.send(`MSG ${text}`);
  await sender.send("HISTORY 1000");
  const lines = await sender.sync();
  assertEquals(lines.at(-1), "HIST END");
  return lines.slice(0, -1).map((line) => {
    const match = /^HIST (\S+) (\S+) (.*)$/.exec(line);
    assert(match !== null, `not a HIST line: ${line}`);
    const [, id, from, text] = match;
    return [id!, from!, text!];
  });
}

/** How the client writes an earlier message in plain style, at the id's time on that clock. */
function earlierLine([id, from, text]: [string, string, string], offsetMinutes: number): string {
  return `[${clock(id, offsetMinutes)}] <${from}> ${text}`;
}

// An SGR sequence (ESC "[" codes "m"), as a part to split at and as a whole part.
const SGR_PART = new RegExp(String.raw`(\x1b\[[0-9;]*m)`);
const SGR_WHOLE = new RegExp(String.raw`^\x1b\[([0-9;]*)m$`);

/** A screen captured with `capture-pane -e`: each row's text, and whether all its text is dim. */
function dimRows(captured: string): { text: string; dim: boolean | undefined }[] {
  let dim = false;
  return captured.split("\n").map((row) => {
    let text = "";
    let allDim: boolean | undefined;
    // tmux writes an attribute when it changes, so dimming set on one row carries on to the next.
    for (const part of row.split(SGR_PART)) {
      const sgr = SGR_WHOLE.exec(part);
      if (sgr === null) {
        text += part;
        if (part.trim() !== "") allDim = (allDim ?? true) && dim;
        continue;
      }
      const codes = sgr[1]!.split(";").map((code) => Number(code || "0"));
      for (let i = 0; i < codes.length; i++) {
        const code = codes[i]!;
        if (code === 38 || code === 48) i += codes[i + 1] === 5 ? 2 : 4;
        else if (code === 0 || code === 22) dim = false;
        else if (code === 2) dim = true;
      }
    }
    return { text: text.trimEnd(), dim: allDim };
  });
}

/** The screen with each row's dimming. */
async function capture(tmux: Tmux): Promise<{ text: string; dim: boolean | undefined }[]> {
  return dimRows(await tmux.run("capture-pane", "-e", "-p", "-t", "chat"));
}

/** A server (with `serverArgs`) and bob logged in to it, for `work`; both end with it. */
async function withBob(
  serverArgs: string[],
  work: (port: number, bob: TestClient) => Promise<void>,
): Promise<void> {
  const server = await startServer(serverArgs);
  const bob = await TestClient.login(server.port, "bob");
  try {
    await work(server.port, bob);
  } finally {
    await bob.dispose();
    await stopServer(server);
  }
}

/** alice's client in a `rows`-row tmux window, with `env`, for `work`; the window ends with it. */
async function withAlice(
  port: number,
  env: Record<string, string>,
  rows: number,
  work: (tmux: Tmux) => Promise<void>,
): Promise<void> {
  const args = ["--name=alice", "--host=127.0.0.1", `--port=${port}`];
  const tmux = await Tmux.start(await clientCommand(args, env), 100, rows);
  try {
    await work(tmux);
  } finally {
    await tmux.kill();
  }
}

/** bot's client over pipes to `port`, with `env`, for `work`; stopped if `work` left it running. */
async function withBot(
  port: number,
  env: Record<string, string>,
  work: (chat: PipedChat) => Promise<void>,
): Promise<void> {
  const chat = await PipedChat.start(["--name=bot", "--host=127.0.0.1", `--port=${port}`], env);
  try {
    await work(chat);
  } finally {
    await chat.dispose();
  }
}

// India keeps UTC+5:30 all year (Date's offset -330): a clock the test machine is unlikely to use.
const INDIA = { TZ: "Asia/Kolkata" };
const INDIA_OFFSET = -330;

Deno.test({
  name:
    "terminal client: the latest 20 messages dimmed on connect, /history 5 above the line being typed",
  ignore: noTmux,
  fn: () =>
    withBob([], async (port, bob) => {
      const stored = await say(bob, Array.from({ length: 25 }, (_, i) => `message ${i + 1}`));
      assertEquals(stored.length, 25);
      await withAlice(port, INDIA, 32, async (tmux) => {
        const connected = `* connected to 127.0.0.1:${port} as alice`;
        const latest = stored.slice(-20).map((message) => earlierLine(message, INDIA_OFFSET));
        await tmux.waitFor("the earlier messages", has(latest.at(-1)!));
        await tmux.waitForInput("alice>", 7);
        let rows = await capture(tmux);
        const at = rows.findIndex((row) => row.text === connected);
        assert(at !== -1, JSON.stringify(rows));
        assertEquals(rows.slice(at + 1, at + 22).map((row) => row.text), [...latest, "alice>"]);
        assertEquals(rows.slice(at + 1, at + 21).map((row) => row.dim), Array(20).fill(true));

        // A live message is not dimmed.
        const [live] = (await say(bob, ["live now"])).slice(-1);
        await tmux.waitFor("bob's live message", has("<bob> live now"));
        rows = await capture(tmux);
        assertEquals(rows.find((row) => row.text === "<bob> live now")?.dim, false);

        // /history 5, and a line typed meanwhile: it stays on the bottom line as it was.
        await tmux.type("/history 5");
        await tmux.keys("Enter");
        await tmux.type("draft");
        const five = [...stored.slice(-4), live!].map((message) =>
          earlierLine(message, INDIA_OFFSET)
        );
        await tmux.waitFor(
          "the latest five again",
          (screen) => screen.slice(-6, -1).join("\n") === five.join("\n"),
        );
        await tmux.waitForInput("alice> draft");
        rows = await capture(tmux);
        const bottom = rows.findLastIndex((row) => row.text !== "");
        assertEquals(rows.slice(bottom - 6, bottom + 1).map((row) => row.text), [
          "<bob> live now",
          ...five,
          "alice> draft",
        ]);
        assertEquals(rows.slice(bottom - 6, bottom).map((row) => row.dim), [
          false,
          true,
          true,
          true,
          true,
          true,
        ]);
        await tmux.keys("C-c");
        await tmux.waitFor("the client's exit", has("[exit 0]"));
      });
    }),
});

Deno.test({
  name: "terminal client: with NO_COLOR set, earlier messages come without any escape sequence",
  ignore: noTmux,
  fn: () =>
    withBob([], async (port, bob) => {
      const lines = (await say(bob, ["one", "two"])).map((message) => earlierLine(message, 0));
      await withAlice(port, { NO_COLOR: "1", TZ: "UTC" }, 20, async (tmux) => {
        await tmux.waitFor("the earlier messages", has(lines.at(-1)!));
        await tmux.waitForInput("alice>", 7);
        const captured = await tmux.run("capture-pane", "-e", "-p", "-t", "chat");
        assert(!captured.includes("\x1b"), JSON.stringify(captured));
        const screen = captured.split("\n").map((row) => row.trimEnd()).filter((row) => row);
        assertEquals(screen, [`* connected to 127.0.0.1:${port} as alice`, ...lines, "alice>"]);
      });
    }),
});

// UTC-3 all year (the POSIX sign is the other way round): Date's offset 180.
const MINUS_THREE = { TZ: "Etc/GMT+3" };

Deno.test("terminal client over pipes: earlier messages as [HH:MM] <name> text lines, then /history", () =>
  withBob([], async (port, bob) => {
    const stored = await say(bob, ["first", "tab\there \x1b[31mred"]);
    const [first, second] = stored.map((message) => earlierLine(message, 180));
    // The server made ESC U+FFFD; the client makes a tab a space.
    assertMatch(second!, /^\[\d\d:\d\d\] <bob> tab\there \uFFFD\[31mred$/);
    const shown = second!.replace("\t", " ");
    await withBot(port, MINUS_THREE, async (chat) => {
      assertEquals(await chat.line(), `* connected to 127.0.0.1:${port} as bot`);
      assertEquals(await chat.line(), first);
      assertEquals(await chat.line(), shown);
      await chat.write("/history 1\n/history 0\nhello\n/history\n");
      await bob.expect("MSG bot hello");
      const [, , hello] = await say(bob, []);
      const { code, rest, stderr } = await chat.finish();
      assertEquals(rest, [
        shown,
        "! Usage: /history [n], n a whole number from 1 to 1000",
        "<bot> hello",
        first,
        shown,
        earlierLine(hello!, 180),
      ]);
      assertEquals({ code, stderr }, { code: 0, stderr: "" });
    });
  }));

Deno.test("terminal client over pipes: with --history-lines 0 nothing comes on connect and /history says so", () =>
  withBob(["--history-lines", "0"], async (port, bob) => {
    await say(bob, ["not kept"]);
    await withBot(port, {}, async (chat) => {
      assertEquals(await chat.line(), `* connected to 127.0.0.1:${port} as bot`);
      await chat.write("/history\n");
      const { code, rest } = await chat.finish();
      assertEquals({ code, rest }, { code: 0, rest: ["* No messages in the history yet."] });
    });
  }));

Deno.test("terminal client over pipes: after a reconnect only the messages missed while away come", () =>
  withBob([], async (serverPort, bob) => {
    const relay = TcpRelay.start(serverPort);
    const port = Number(new URL(relay.url).port);
    try {
      const [before] = await say(bob, ["before"]);
      await withBot(port, { TZ: "UTC" }, async (chat) => {
        assertEquals(await chat.line(), `* connected to 127.0.0.1:${port} as bot`);
        assertEquals(await chat.line(), earlierLine(before!, 0));
        await say(bob, ["seen live"]);
        assertEquals(await chat.line(), "<bob> seen live");
        await chat.write("mine\n");
        assertEquals(await chat.line(), "<bot> mine");
        await bob.expect("MSG bot mine");

        relay.cut();
        // A cut is a close, or a reset if bytes were still unread: either says the connection went.
        assertMatch(
          await chat.line() ?? "",
          /^! Connection (lost|failed: .*); trying again in \d+\.\d s$/,
        );
        // Said once the server knows bot is gone: bot's old connection never saw these.
        await bob.expect("INFO bot disconnected");
        const missed = (await say(bob, ["missed 1", "missed 2"])).slice(-2);
        relay.restore();
        const back = await chat.until(/^\* reconnected as bot$/);
        for (const line of back.slice(0, -1)) {
          assertMatch(line, /^! .*; trying again in \d+\.\d s$/);
        }
        const { code, rest } = await chat.finish();
        assertEquals(rest, missed.map((message) => earlierLine(message, 0)));
        assertEquals(code, 0);
      });
    } finally {
      await relay.close();
    }
  }));
