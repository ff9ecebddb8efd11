/**
 * End-to-end tests of the WebSocket door: every protocol row over `/ws`,
 * mixed with TCP clients in both directions, join notices, and a real
 * WebSocket implementation (Deno's) as the client.
 */
import { assertEquals } from "@std/assert";
import type { ChatServer } from "../lib/server.ts";
import { TestClient, withDeadline, withServer } from "./helpers.ts";
import { clientFrame, WsClient } from "./ws_client.ts";

const webPort = (server: ChatServer) => server.webAddr!.port;

Deno.test("over /ws, LOGIN, WHO, PING and DM answer as on TCP, and MSG and DM cross to TCP and back", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    await using web = await WsClient.login(webPort(server), "webby");
    await using tcp = await TestClient.login(server, "tcp");
    await web.send("LOGIN again");
    await web.expect("ERR already-logged-in");
    await web.send("WHO");
    await web.expect("USER webby");
    await web.expect("USER tcp");
    await web.send("MSG hello  from the web");
    await tcp.expect("MSG webby hello  from the web");
    await tcp.send("MSG hi back");
    await web.expect("MSG tcp hi back");
    await web.send("DM TCP psst");
    await tcp.expect("DM webby psst");
    await tcp.send("DM webby psst back");
    await web.expect("DM tcp psst back");
    await web.send("DM nobody hi");
    await web.expect("ERR user-not-found");
    await web.send("DM nobody");
    await web.send("MSG    ");
    await web.send("UNKNOWN words");
    await web.send("");
    assertEquals(await web.sync(), [], "malformed and unknown lines are ignored");
    await web.send("QUIT");
    await web.expectClose(1000);
    await tcp.expect("INFO webby disconnected");
  });
});

Deno.test("over /ws, names are the same space as on TCP, and lines before LOGIN get ERR login-required", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    await using tcp = await TestClient.login(server, "Zo\u00e9");
    await using web = await WsClient.open(webPort(server));
    for (const line of ["MSG hi", "WHO", "DM Zo\u00e9 hi"]) {
      await web.send(line);
      await web.expect("ERR login-required");
    }
    await web.send("LOGIN zoe\u0301");
    await web.expect("ERR username-taken");
    await web.send("LOGIN two words");
    await web.expect("ERR invalid-username");
    await web.send("LOGIN w\u00e9b");
    await web.expect("OK");
    await web.send("MSG caf\u00e9 \u2615 \u0007bell");
    await tcp.expect("MSG w\u00e9b caf\u00e9 \u2615 \ufffdbell");
  });
});

Deno.test("a text frame may end in a line end, which is dropped, and may come in fragments", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    await using web = await WsClient.login(webPort(server), "frag");
    await using tcp = await TestClient.login(server, "tcp");
    await web.send("MSG ends in crlf\r\n");
    await tcp.expect("MSG frag ends in crlf");
    await web.write(clientFrame("MSG one ", { fin: false }));
    await web.write(clientFrame("", { fin: false, opcode: 0 }));
    // A ping between fragments is answered at once; the message goes on after it.
    await web.write(clientFrame("x", { opcode: 9 }));
    await web.write(clientFrame("two three", { opcode: 0 }));
    await tcp.expect("MSG frag one two three");
    const pong = await web.readFrame();
    assertEquals(pong, { fin: true, opcode: 10, payload: new TextEncoder().encode("x") });
  });
});

Deno.test("WATCH: join notices over /ws and TCP for every login after it, departures even before login", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    await using watcher = await WsClient.open(webPort(server));
    await watcher.send("WATCH");
    await using plain = await TestClient.login(server, "plain");
    await watcher.expect("INFO plain connected");
    await using tcpWatcher = await TestClient.login(server, "tcpwatch");
    await tcpWatcher.send("WATCH extra words are ignored");
    await watcher.expect("INFO tcpwatch connected");
    await using web = await WsClient.login(webPort(server), "web");
    await watcher.expect("INFO web connected");
    await tcpWatcher.expect("INFO web connected");
    await web.send("MSG hi");
    await tcpWatcher.expect("MSG web hi");
    await plain.expect("MSG web hi");
    await web.send("QUIT");
    await web.expectClose(1000);
    await watcher.expect("INFO web disconnected");
    await tcpWatcher.expect("INFO web disconnected");
    await plain.expect("INFO web disconnected");
    await watcher.send("LOGIN late");
    await watcher.expect("OK");
    await tcpWatcher.expect("INFO late connected");
    assertEquals(await watcher.sync(), [], "no notice of one's own login");
    assertEquals(
      await plain.sync(),
      [],
      "a client that never sent WATCH never hears of logins",
    );
  });
});

Deno.test("Deno's own WebSocket chats with a TCP client, and is closed with 1001 on shutdown", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    await using tcp = await TestClient.login(server, "tcp");
    const socket = new WebSocket(`ws://127.0.0.1:${webPort(server)}/ws`);
    const lines: string[] = [];
    let wake: (() => void) | undefined;
    socket.onmessage = (event) => {
      lines.push(String(event.data));
      wake?.();
    };
    const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
    const next = async (): Promise<string> => {
      while (lines.length === 0) await new Promise<void>((resolve) => wake = resolve);
      return lines.shift()!;
    };
    await withDeadline(
      new Promise((resolve) => socket.onopen = resolve),
      5000,
      "the socket opens",
    );
    socket.send("LOGIN native");
    assertEquals(await withDeadline(next(), 5000, "OK"), "OK");
    socket.send("MSG from deno");
    await tcp.expect("MSG native from deno");
    await tcp.send("MSG to deno");
    assertEquals(await withDeadline(next(), 5000, "MSG"), "MSG tcp to deno");
    const stopped = server.shutdown();
    assertEquals(await withDeadline(next(), 5000, "the last line"), "ERR server-shutdown");
    const close = await withDeadline(closed, 5000, "the close");
    assertEquals(close.code, 1001);
    assertEquals(close.wasClean, true);
    await stopped;
  });
});
