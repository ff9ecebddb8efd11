/**
 * The WebSocket door against bad input and every limit: oversized and bad
 * frames, origins, HTTP requests that are not upgrades, the request head's
 * size and time, --max-clients, per-address limits behind a trusted proxy,
 * idle and keepalive, slow consumers, flood control, shutdown and WSS.
 */
import { assert, assertEquals, assertMatch, assertNotMatch } from "@std/assert";
import { CidrList } from "../lib/address.ts";
import { DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatServer } from "../lib/server.ts";
import { makeCertificate } from "./certificates.ts";
import { startServer, TestClient, withServer } from "./helpers.ts";
import { clientFrame, upgradeRequest, WsClient } from "./ws_client.ts";

const webPort = (server: ChatServer) => server.webAddr!.port;
const NO_EXEMPTIONS = new CidrList([]);

Deno.test("a message over --max-line-bytes gets ERR line-too-long as soon as it passes the cap, and the socket stays open", async () => {
  await withServer({ webPort: 0, maxLineBytes: 100 }, async (server) => {
    await using web = await WsClient.login(webPort(server), "long");
    await using tcp = await TestClient.login(server, "tcp");
    await web.send("MSG " + "x".repeat(96));
    await tcp.expect("MSG long " + "x".repeat(96));
    // A frame announcing 1 MiB: the answer comes after 200 bytes, long before its end.
    const total = 1 << 20;
    const frame = clientFrame("M".repeat(total));
    await web.write(frame.subarray(0, 14 + 200));
    await web.expect("ERR line-too-long");
    await web.write(frame.subarray(14 + 200));
    // The same across fragments: one report per message.
    await web.write(clientFrame("MSG " + "y".repeat(60), { fin: false }));
    await web.write(clientFrame("y".repeat(60), { opcode: 0, fin: false }));
    await web.write(clientFrame("y".repeat(60), { opcode: 0 }));
    await web.expect("ERR line-too-long");
    await web.send("MSG still here");
    await tcp.expect("MSG long still here");
    assertEquals(await web.sync(), []);
  });
});

Deno.test("bad frames close the socket with the code RFC 6455 gives them; others are unharmed", async () => {
  const cases: [string, Uint8Array, number][] = [
    ["binary", clientFrame("MSG hi", { opcode: 2 }), 1003],
    ["invalid UTF-8", clientFrame(new Uint8Array([0x4d, 0x53, 0x47, 0x20, 0xc3, 0x28])), 1007],
    [
      "invalid UTF-8 across fragments",
      new Uint8Array([
        ...clientFrame(new Uint8Array([0x4d, 0x53, 0x47, 0x20, 0xe2, 0x82]), { fin: false }),
        ...clientFrame(new Uint8Array([0x41]), { opcode: 0 }),
      ]),
      1007,
    ],
    ["unmasked", clientFrame("PING", { masked: false }), 1002],
    ["reserved bits", clientFrame("PING", { reserved: 0x40 }), 1002],
    ["unknown opcode", clientFrame("PING", { opcode: 3 }), 1002],
    ["continuation first", clientFrame("PING", { opcode: 0 }), 1002],
    [
      "text inside a message",
      new Uint8Array([
        ...clientFrame("MSG a", { fin: false }),
        ...clientFrame("MSG b"),
      ]),
      1002,
    ],
    ["long ping", clientFrame("p".repeat(126), { opcode: 9 }), 1002],
    ["fragmented ping", clientFrame("p", { opcode: 9, fin: false }), 1002],
    ["bad close code", clientFrame(new Uint8Array([0x03, 0xe7]), { opcode: 8 }), 1002],
    [
      "close with a code",
      clientFrame(new Uint8Array([0x0f, 0xa0, 0x62, 0x79, 0x65]), { opcode: 8 }),
      4000,
    ],
    ["close without a code", clientFrame("", { opcode: 8 }), 1000],
  ];
  await withServer({ webPort: 0 }, async (server) => {
    await using tcp = await TestClient.login(server, "tcp");
    for (const [label, bytes, code] of cases) {
      await using web = await WsClient.login(webPort(server), "victim");
      await web.write(bytes);
      await web.expectClose(code).catch((error) => {
        throw new Error(`${label}: ${error}`);
      });
      await tcp.expect("INFO victim disconnected");
    }
    await tcp.send("WHO");
    await tcp.expect("USER tcp");
  });
});

Deno.test("a ping is answered with its payload and counts as activity; the server pings a silent socket and keeps it while it answers", async () => {
  await withServer({ webPort: 0, idleTimeout: 1 }, async (server) => {
    await using web = await WsClient.login(webPort(server), "reader");
    await web.write(clientFrame("hello", { opcode: 9 }));
    const pong = await web.readFrame();
    assertEquals(pong, { fin: true, opcode: 10, payload: new TextEncoder().encode("hello") });
    // Only reading: pings come every half timeout or so, and it is never cut off.
    await web.awaitPings(4, 5000);
    assertEquals(await web.sync(), []);
  });
});

Deno.test("a socket that does not answer the pings gets ERR idle-timeout and close 1008", async () => {
  await withServer({ webPort: 0, idleTimeout: 1 }, async (server) => {
    await using web = await WsClient.login(webPort(server), "deaf", { answerPings: false });
    await web.expect("ERR idle-timeout", 3000);
    await web.expectClose(1008);
    assert(web.pings >= 1, "it was pinged first");
  });
});

Deno.test("Origin: none, the server's own and a listed one may upgrade; any other gets 403", async () => {
  await withServer({ webPort: 0, webOrigins: ["https://chat.example.com"] }, async (server) => {
    const port = webPort(server);
    for (const origin of [undefined, `http://127.0.0.1:${port}`, "https://chat.example.com"]) {
      await using ok = await WsClient.open(port, origin === undefined ? {} : { origin });
      assertEquals(await ok.sync(), []);
    }
    for (const origin of ["https://evil.example", `http://127.0.0.1:${port + 1}`, "null"]) {
      await using refused = await WsClient.raw(port);
      await refused.write(upgradeRequest(port, { origin }));
      assertMatch(await refused.readToEnd(), /^HTTP\/1\.1 403 Forbidden\r\n/, origin);
    }
  });
});

Deno.test("the web port serves the page's files and answers other requests with the right status", async () => {
  await withServer({ webPort: 0 }, async (server) => {
    const port = webPort(server);
    const page = await Deno.readFile(new URL("../lib/web/page/index.html", import.meta.url));
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("content-type"), "text/html; charset=utf-8");
    assertMatch(response.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assertEquals(new Uint8Array(await response.arrayBuffer()), page);
    const requests: [string, RegExp][] = [
      ["GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n", /^HTTP\/1\.1 404 /],
      ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", /^HTTP\/1\.1 405 /],
      ["GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", /^HTTP\/1\.1 400 /],
      [upgradeRequest(port).replace("Version: 13", "Version: 8"), /^HTTP\/1\.1 426 /],
      ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["GET / HTTP/1.1\r\nX: " + "a".repeat(9000), /^HTTP\/1\.1 431 /],
    ];
    for (const [request, status] of requests) {
      await using client = await WsClient.raw(port);
      await client.write(request);
      assertMatch(await client.readToEnd(), status, JSON.stringify(request.slice(0, 40)));
    }
  });
});

Deno.test("a request head that does not finish in time gets 408 and the connection is closed", async () => {
  await withServer({ webPort: 0, idleTimeout: 0.5 }, async (server) => {
    await using slow = await WsClient.raw(webPort(server));
    await slow.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    assertMatch(await slow.readToEnd(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
  });
});

Deno.test("--max-clients counts web connections with the others; a refused one gets 503", async () => {
  await withServer({ webPort: 0, maxClients: 2 }, async (server) => {
    await using tcp = await TestClient.login(server, "tcp");
    await using _web = await WsClient.login(webPort(server), "web");
    await using refused = await WsClient.raw(webPort(server));
    assertMatch(await refused.readToEnd(), /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    await tcp.send("WHO");
    assertEquals(await tcp.readLines(2), ["USER tcp", "USER web"]);
  });
});

Deno.test("per-address limits: X-Forwarded-For names the client only behind a trusted proxy", async () => {
  const limits = { webPort: 0, maxClientsPerIp: 1, ipLimitExempt: NO_EXEMPTIONS };
  await withServer(limits, async (server) => {
    // Not trusted: the header is ignored, and the socket's own address is counted.
    await using first = await WsClient.open(webPort(server), { forwardedFor: "198.51.100.1" });
    await using second = await WsClient.raw(webPort(server));
    assertMatch(await second.readToEnd(), /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assertEquals(await first.sync(), []);
  });
  await withServer({ ...limits, trustedProxies: CidrList.from(["127.0.0.1"]) }, async (server) => {
    const port = webPort(server);
    await using a = await WsClient.login(port, "a", { forwardedFor: "10.0.0.1, 198.51.100.1" });
    await using b = await WsClient.login(port, "b", { forwardedFor: "198.51.100.2" });
    await using again = await WsClient.open(port, { forwardedFor: "198.51.100.1" });
    await again.expect("ERR too-many-connections");
    await again.expectClose(1013);
    assertEquals(await a.sync(), []);
    assertEquals(await b.sync(), []);
  });
});

Deno.test("a WebSocket that does not read is dropped as a slow consumer; the others lose nothing", async () => {
  await withServer({ webPort: 0, maxQueueBytes: 16384 }, async (server) => {
    await using _stuck = await WsClient.login(webPort(server), "stuck");
    await using reader = await WsClient.login(webPort(server), "reader");
    await using sender = await TestClient.login(server, "sender");
    const line = "z".repeat(1000);
    let seen = 0;
    for (let i = 0; i < 20_000; i++) {
      await sender.send(`MSG ${line}`);
      // The reader keeps up; the stuck one never reads.
      while (seen < i + 1) {
        const got = await reader.readLine();
        if (got === "INFO stuck disconnected") break;
        assertEquals(got, `MSG sender ${line}`);
        seen++;
      }
      if (seen < i + 1) break;
    }
    assert(seen < 20_000, "the stuck client was dropped before the sender finished");
    await sender.expect("INFO stuck disconnected");
  });
});

Deno.test("flood control meters WebSocket messages as it meters lines", async () => {
  await withServer({ webPort: 0, rate: 1, burst: 2, metricsPort: 0 }, async (server) => {
    await using web = await WsClient.login(webPort(server), "fast");
    await using tcp = await TestClient.login(server, "tcp");
    for (let i = 0; i < 3; i++) await web.send(`MSG ${i}`);
    assertEquals(await tcp.readLines(3), ["MSG fast 0", "MSG fast 1", "MSG fast 2"]);
    const metrics = await (await fetch(`http://127.0.0.1:${server.metricsAddr!.port}/metrics`))
      .text();
    assertMatch(metrics, /^chat_throttled_total [1-9]/m);
  });
});

Deno.test("on shutdown a WebSocket gets ERR server-shutdown, then close 1001", async () => {
  const server = startServer({ webPort: 0 });
  await using web = await WsClient.login(webPort(server), "bye");
  const stopped = server.shutdown();
  await web.expect("ERR server-shutdown");
  await web.expectClose(1001);
  await stopped;
});

Deno.test("with TLS files the web port is HTTPS and WSS, and chats with TCP clients", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { cert, key, ca } = await makeCertificate(dir);
    const caCert = await Deno.readTextFile(ca);
    const tls = { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
    const secure = ChatServer.listen(
      { ...DEFAULT_CONFIG, host: "127.0.0.1", port: 0, tlsPort: 0, webPort: 0, rate: 0 },
      { tls },
    );
    try {
      await using web = await WsClient.login(webPort(secure), "secure", { tls: { caCert } });
      await using tcp = await TestClient.login(secure, "tcp");
      await web.send("MSG over wss");
      await tcp.expect("MSG secure over wss");
      await tcp.send("DM secure back");
      await web.expect("DM tcp back");
      await using plain = await WsClient.raw(webPort(secure));
      await plain.write(upgradeRequest(webPort(secure)));
      assertNotMatch(await plain.readToEnd().catch(() => ""), /101 Switching/);
    } finally {
      await secure.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
