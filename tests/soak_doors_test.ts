/**
 * The soak's links against a real server with TLS files: through each of its
 * five doors a link logs in and reads another's message in its own wire's
 * form, and a TLS link trusts only the run's CA.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { chatOf, isLoggedIn, Link, loginLines, sayLine, TLS_DOORS } from "../bench/soak_doors.ts";
import { runCertificate, Servers } from "../bench/soak_servers.ts";
import { DEADLINE_MS, withDeadline } from "./helpers.ts";
import { spawnServer, type StartedServer, stopServer } from "./server_process.ts";

const SERVER_ARGS = [
  ...["--host", "127.0.0.1", "--port", "0", "--web-port", "0", "--irc-port", "0"],
  ...["--metrics-port", "0"],
];

/** The next line that is not undefined under `pick`, or fails at the deadline or the end. */
async function lineWhere<T>(link: Link, pick: (line: string) => T | undefined): Promise<T> {
  return await withDeadline(
    (async () => {
      while (true) {
        const line = await link.line();
        if (line === null) throw new Error(`${link.door}: closed, last ${link.lastLine}`);
        const picked = pick(line);
        if (picked !== undefined) return picked;
      }
    })(),
    DEADLINE_MS,
    `a line through ${link.door}`,
  );
}

/** A server with the run's TLS files (the soak's own), given to `body`, then stopped. */
async function withTlsServer(
  body: (servers: Servers, server: StartedServer) => Promise<void>,
): Promise<void> {
  const tls = await runCertificate();
  try {
    const server = await spawnServer([...SERVER_ARGS, ...tls.args]);
    try {
      await body(new Servers([server], TLS_DOORS, tls.caCert), server);
    } finally {
      await stopServer(server);
    }
  } finally {
    tls.remove();
  }
}

Deno.test("a soak link logs in through every door of a TLS server and reads a message from the first", async () => {
  await withTlsServer(async (servers) => {
    const links: Link[] = [];
    try {
      for (const [i, door] of servers.doors.entries()) {
        const link = await servers.open(door);
        links.push(link);
        await link.sendLines(...loginLines(door, `u${i}`));
        await lineWhere(link, (line) => isLoggedIn(door, line) || undefined);
      }
      assertEquals(links.map((link) => link.door), ["tcp", "tls", "wss", "irc", "irctls"]);
      const [first, ...others] = links;
      await first!.sendLines(sayLine(first!.door, "hello over tls"));
      for (const link of others) {
        const chat = await lineWhere(link, (line) => chatOf(link.door, line) && line);
        assertEquals(
          chat,
          link.wire === "irc"
            ? ":u0!u0@chat PRIVMSG #chat :hello over tls"
            : "MSG u0 hello over tls",
          link.door,
        );
      }
    } finally {
      for (const link of links) link.close();
    }
  });
});

Deno.test("a soak TLS link trusts only the CA it is given", async () => {
  await withTlsServer(async (servers, server) => {
    const other = await runCertificate();
    try {
      const port = servers.nextPort("tls");
      assertEquals(port, server.tlsPort);
      await assertRejects(() => Link.open("tls", port, true, other.caCert));
      await assertRejects(
        () => Link.open("irctls", server.ircTlsPort!),
        Error,
        "no CA certificate",
      );
    } finally {
      other.remove();
    }
  });
});
