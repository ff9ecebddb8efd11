/**
 * The server's limits hold for IRC users too: bad input, idle (with the
 * server's `PING`), slow consumers, `--max-clients`, the per-address limit,
 * shutdown, flood control, and IRC over TLS.
 */
import { assert, assertEquals } from "@std/assert";
import { CidrList } from "../lib/address.ts";
import { DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatServer } from "../lib/server.ts";
import { makeCertificate } from "./certificates.ts";
import { startServer, TestClient, withServer } from "./helpers.ts";
import { IrcClient, welcomeLines } from "./irc_client.ts";

/** A seeded generator (xorshift32), so that a failure can be replayed. */
function bytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

Deno.test("IRC bad input (binary garbage, NUL bytes, commands before registration, NICK floods) never crashes or leaks", async () => {
  await withServer({ ircPort: 0 }, async (server) => {
    await using tom = await TestClient.login(server, "tom");
    await using irc = await IrcClient.connect(server);
    for (let seed = 1; seed <= 20; seed++) await irc.sendRaw(bytes(seed, 4096));
    await irc.sendRaw("\r\n\0\0\0\r\nNICK \0bob\r\nPRIVMSG \0 :\0\r\n\xff\xfe\r\n");
    // Whatever the garbage was answered with, every line was a valid one (the client checks) and
    // the connection is still there.
    await irc.sync(10_000);
    let flood = "";
    for (let i = 0; i < 500; i++) flood += `NICK flood${i}\r\n`;
    await irc.sendRaw(flood);
    assertEquals(await irc.sync(), []);
    await irc.send("USER flood 0 * :Flood");
    await irc.expectLines(welcomeLines("flood499"));
    await irc.sendRaw(flood);
    const refusals = await irc.sync();
    assertEquals(refusals.length, 500);
    for (const line of refusals) {
      assertEquals(
        line,
        ":chat 447 flood499 :Cannot change nickname: a name is kept for the session",
      );
    }
    await tom.send("WHO");
    assertEquals(await tom.sync(), ["USER tom", "USER flood499"]);
  });
});

Deno.test("IRC a silent client gets PING :chat before the idle timeout, then ERROR; one that answers PONG stays", async () => {
  await withServer({ ircPort: 0, idleTimeout: 0.4 }, async (server) => {
    const answerer = await IrcClient.register(server, "answerer");
    let pongs = 0;
    const others: string[] = [];
    const answering = (async () => {
      for (let line = await answerer.readLine(); line !== null; line = await answerer.readLine()) {
        if (line === "PING :chat") {
          await answerer.send("PONG :chat");
          pongs++;
        } else if (line === ":chat PONG chat :done") return;
        else others.push(line);
      }
    })();
    // Two timeouts in a row, each a silent client's: the answerer outlives both.
    for (const nick of ["silent", "silent2"]) {
      await using silent = await IrcClient.connect(server);
      if (nick === "silent") {
        await silent.send("NICK silent");
        await silent.send("USER silent 0 * :Silent");
        await silent.expectLines(welcomeLines("silent"));
      }
      const heard: string[] = [];
      for (let line = await silent.readLine(); line !== null; line = await silent.readLine()) {
        heard.push(line);
      }
      assert(heard.length >= 2, heard.join("|"));
      assertEquals(heard.at(-1), "ERROR :Closing link: Ping timeout");
      for (const line of heard.slice(0, -1)) assertEquals(line, "PING :chat");
    }
    await answerer.send("PING :done");
    await answering;
    assert(pongs >= 2, `${pongs} PONGs`);
    assertEquals(others, [
      ":silent!silent@chat JOIN #chat",
      ":silent!silent@chat QUIT :Ping timeout",
    ]);
    await answerer.send("NAMES");
    assertEquals(await answerer.sync(), [
      ":chat 353 answerer = #chat :answerer",
      ":chat 366 answerer #chat :End of /NAMES list.",
    ]);
    await answerer.dispose();
  });
});

Deno.test("IRC a client that never reads is dropped as a slow consumer with ERROR; the others hear it QUIT", async () => {
  await withServer({ ircPort: 0, maxQueueBytes: 64 * 1024 }, async (server) => {
    await using sender = await TestClient.login(server, "sender");
    await using watcher = await IrcClient.register(server, "watcher");
    await using sink = await IrcClient.register(server, "sink");
    await watcher.expect(":sink!sink@chat JOIN #chat");
    // Each relayed line is cut to 512 bytes: many lines are needed to fill the kernel's buffers.
    const padding = "p".repeat(400);
    // The watcher keeps up (the sender waits for it each window); the sink reads nothing.
    let quit = false;
    for (let window = 0; window < 400 && !quit; window++) {
      let batch = "";
      for (let i = 0; i < 100; i++) batch += `MSG ${window}-${i} ${padding}\n`;
      await sender.sendRaw(batch);
      for (let i = 0; i < 100; i++) {
        const line = await watcher.readLine();
        if (line === ":sink!sink@chat QUIT :SendQ exceeded") {
          quit = true;
          i--;
          continue;
        }
        assertEquals(line, `:sender!sender@chat PRIVMSG #chat :${window}-${i} ${padding}`);
      }
    }
    if (!quit) await watcher.expect(":sink!sink@chat QUIT :SendQ exceeded");
    assertEquals(await sender.sync(), ["INFO sink disconnected"]);
    let last: string | null = null;
    for (let line = await sink.readLine(); line !== null; line = await sink.readLine()) last = line;
    assertEquals(last, "ERROR :Closing link: SendQ exceeded");
  });
});

Deno.test("IRC past --max-clients a connection gets ERROR :Closing link: Server full", async () => {
  await withServer({ ircPort: 0, maxClients: 2 }, async (server) => {
    await using _tcp = await TestClient.login(server, "tom");
    await using _irc = await IrcClient.register(server, "ivy");
    await using refused = await IrcClient.connect(server);
    await refused.expect("ERROR :Closing link: Server full");
    await refused.expectClosed();
  });
});

Deno.test("IRC past --max-clients-per-ip a connection gets ERROR, and a departure frees a place", async () => {
  await withServer(
    { ircPort: 0, maxClientsPerIp: 2, ipLimitExempt: new CidrList([]) },
    async (server) => {
      const first = await IrcClient.register(server, "first");
      await using second = await IrcClient.register(server, "second");
      await using third = await IrcClient.connect(server);
      await third.expect("ERROR :Closing link: Too many connections from your address");
      await third.expectClosed();
      await first.expect(":second!second@chat JOIN #chat");
      await first.send("QUIT");
      await first.expect("ERROR :Closing link: Quit");
      await first.dispose();
      await second.expect(":first!first@chat QUIT :Quit");
      await using again = await IrcClient.register(server, "again", { join: false });
      assertEquals(await again.sync(), []);
    },
  );
});

Deno.test("IRC on shutdown every client, registered or not, gets ERROR :Closing link: Server shutting down", async () => {
  const server = startServer({ ircPort: 0 });
  await using registered = await IrcClient.register(server, "ivy");
  await using anonymous = await IrcClient.connect(server);
  await anonymous.send("NICK half");
  await anonymous.sync();
  const stopped = server.shutdown();
  for (const client of [registered, anonymous]) {
    await client.expect("ERROR :Closing link: Server shutting down");
    await client.expectClosed();
    // Hanging up spares the server its linger.
    await client.dispose();
  }
  await stopped;
});

Deno.test("IRC flood control holds an IRC flooder to its rate, in order, while others chat past it", async () => {
  const lines = 1000;
  await withServer({ ircPort: 0, rate: 500, burst: 50 }, async (server) => {
    await using observer = await TestClient.login(server, "observer");
    await using flooder = await IrcClient.register(server, "flooder");
    await using pinger = await TestClient.login(server, "pinger");
    let flood = "";
    for (let i = 0; i < lines; i++) flood += `PRIVMSG #chat :f${i}\r\n`;
    await flooder.sendRaw(flood);
    // The pinger's PONG comes long before the flood's end: nobody waits on the flooder.
    const before = await pinger.sync();
    assert(before.length < lines, "the PONG came only after the whole flood");
    before.forEach((line, i) => assertEquals(line, `MSG flooder f${i}`));
    await pinger.send("MSG hello");
    let next = 0;
    for (
      let line = await observer.readLine();
      line !== "MSG pinger hello";
      line = await observer.readLine()
    ) {
      assertEquals(line, `MSG flooder f${next++}`);
    }
    assert(next < lines, "the pinger's line came only after the whole flood");
    while (next < lines) assertEquals(await observer.readLine(), `MSG flooder f${next++}`);
    // The flooder was slowed, not dropped.
    assertEquals(await flooder.sync(10_000), [
      ":pinger!pinger@chat JOIN #chat",
      ":pinger!pinger@chat PRIVMSG #chat :hello",
    ]);
  });
});

Deno.test("IRC over TLS on --irc-tls-port registers and chats with TCP users", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { cert, key, ca } = await makeCertificate(dir);
    const caCert = await Deno.readTextFile(ca);
    const tls = { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
    const server = ChatServer.listen(
      {
        ...DEFAULT_CONFIG,
        host: "127.0.0.1",
        port: 0,
        tlsPort: 0,
        ircPort: 0,
        ircTlsPort: 0,
        rate: 0,
      },
      { tls },
    );
    try {
      const port = server.ircTlsAddr!.port;
      await using secure = await IrcClient.register({ port, caCert }, "secure", { cap: true });
      await using tcp = await TestClient.login(server, "tcp");
      await secure.expect(":tcp!tcp@chat JOIN #chat");
      await secure.send("PRIVMSG #chat :over tls");
      await tcp.expect("MSG secure over tls");
      await tcp.send("DM secure back");
      await secure.expect(":tcp!tcp@chat PRIVMSG secure :back");
      // The plain IRC port stays plain.
      await using _plain = await IrcClient.register(server, "plain");
      await secure.expect(":plain!plain@chat JOIN #chat");
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
