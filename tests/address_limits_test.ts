/** Per-address limits and the PROXY protocol, over real TCP. */
import { assertEquals, assertMatch } from "@std/assert";
import { CidrList } from "../lib/address.ts";
import { createLogger } from "../lib/log.ts";
import { DEFAULT_CONFIG } from "../lib/config.ts";
import { ChatServer } from "../lib/server.ts";
import { startServer, TestClient } from "./helpers.ts";

Deno.test("past --max-clients-per-ip an address gets ERR too-many-connections, and a departure frees a place", async () => {
  const server = startServer({ maxClientsPerIp: 2, ipLimitExempt: new CidrList([]) });
  try {
    const first = await TestClient.login(server, "first");
    await using second = await TestClient.login(server, "second");
    await using third = await TestClient.connect(server);
    await third.expect("ERR too-many-connections");
    await third.expectClosed();
    await first.dispose();
    await second.expect("INFO first disconnected");
    await using again = await TestClient.login(server, "again");
    assertEquals(await again.sync(), []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("exempt addresses (loopback by default) have no per-address limit", async () => {
  const server = startServer({ maxClientsPerIp: 1 });
  try {
    await using _a = await TestClient.login(server, "a");
    await using _b = await TestClient.login(server, "b");
    await using c = await TestClient.login(server, "c");
    await c.send("WHO");
    assertEquals(await c.readLines(3), ["USER a", "USER b", "USER c"]);
  } finally {
    await server.shutdown();
  }
});

const encoder = new TextEncoder();

/** A PROXY v2 header for TCP from `ip` (4 or 16 bytes) and `port` to port 4000. */
function proxyV2(ip: number[], port: number): Uint8Array {
  const signature = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
  const v4 = ip.length === 4;
  const destination = v4 ? [127, 0, 0, 1] : [...new Array(15).fill(0), 1];
  const block = [...ip, ...destination, port >> 8, port & 0xff, 0x0f, 0xa0];
  return Uint8Array.of(...signature, 0x21, v4 ? 0x11 : 0x21, 0, block.length, ...block);
}

/** A client that connects through a "load balancer" (the test) announcing `header`. */
async function behindProxy(server: ChatServer, header: Uint8Array | string, name: string) {
  const client = await TestClient.connect(server);
  await client.sendRaw(typeof header === "string" ? encoder.encode(header) : header);
  await client.send(`LOGIN ${name}`);
  return client;
}

Deno.test("from a trusted proxy, PROXY v1 and v2 give the real address to the limits and the logs", async () => {
  const lines: string[] = [];
  const server = ChatServer.listen({
    ...DEFAULT_CONFIG,
    host: "127.0.0.1",
    port: 0,
    rate: 0,
    maxClientsPerIp: 2,
    ipLimitExempt: new CidrList([]),
    trustedProxies: CidrList.from(["127.0.0.1"]),
  }, { log: createLogger({ format: "text", level: "info", write: (l) => lines.push(l) }) });
  try {
    const v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 4000\r\n";
    await using a = await behindProxy(server, v1, "a");
    await a.expect("OK");
    await using b = await behindProxy(server, proxyV2([203, 0, 113, 7], 5556), "b");
    await b.expect("OK");
    // A third from the same real client is over the limit, though the proxy's own address is shared by all.
    await using c = await behindProxy(server, v1, "c");
    await c.expect("ERR too-many-connections");
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]; // 2001:db8::1
    await using d = await behindProxy(server, proxyV2(v6, 6000), "d");
    await d.expect("OK");
    await using e = await behindProxy(
      server,
      "PROXY TCP4 198.51.100.20 192.0.2.1 7000 4000\r\n",
      "e",
    );
    await e.expect("OK");
    await e.send("WHO");
    assertEquals(await e.readLines(4), ["USER a", "USER b", "USER d", "USER e"]);
    const log = lines.join("\n");
    assertMatch(log, /login name="a" address="203\.0\.113\.7:5555"/);
    assertMatch(log, /login name="b" address="203\.0\.113\.7:5556"/);
    assertMatch(log, /login name="d" address="2001:db8::1:6000"/);
    assertMatch(log, /refused: too-many-connections address="203\.0\.113\.7:5555"/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("from a trusted proxy, a connection without a valid PROXY header is closed", async () => {
  const server = startServer({ trustedProxies: CidrList.from(["127.0.0.1"]) });
  try {
    for (
      const bad of ["LOGIN sneaky\n", "PROXY TCP4 nonsense\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"]
    ) {
      await using client = await TestClient.connect(server);
      await client.sendRaw(bad);
      await client.expectClosed();
    }
    await using fine = await behindProxy(server, "PROXY UNKNOWN\r\n", "fine");
    await fine.expect("OK");
  } finally {
    await server.shutdown();
  }
});

Deno.test("from an untrusted address a PROXY v1 line is an unknown command and v2 quits, as the spec intends", async () => {
  const server = startServer({
    trustedProxies: CidrList.from(["10.0.0.0/8"]),
    maxClientsPerIp: 1,
    ipLimitExempt: new CidrList([]),
  });
  try {
    await using spoofer = await behindProxy(
      server,
      "PROXY TCP4 203.0.113.9 192.0.2.1 1 2\r\n",
      "spoofer",
    );
    await spoofer.expect("OK");
    // The PROXY line changed nothing: the spoofer still counts as 127.0.0.1, whose one place it holds.
    await using second = await TestClient.connect(server);
    await second.expect("ERR too-many-connections");
    await spoofer.send("QUIT");
    await spoofer.expectClosed();
  } finally {
    await server.shutdown();
  }
  const other = startServer({ trustedProxies: CidrList.from(["10.0.0.0/8"]) });
  try {
    await using v2 = await TestClient.connect(other);
    await v2.sendRaw(proxyV2([203, 0, 113, 9], 1));
    await v2.expectClosed(); // the v2 signature ends in "QUIT\n"
  } finally {
    await other.shutdown();
  }
});
