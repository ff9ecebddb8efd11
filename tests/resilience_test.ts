/** Never down: accept errors, a fault in one client's handling, stray rejections. */
import { assert, assertEquals } from "@std/assert";
import { DEFAULT_CONFIG } from "../lib/config.ts";
import { installProcessGuards } from "../lib/guard.ts";
import { createLogger } from "../lib/log.ts";
import { ChatServer, type ConnListener } from "../lib/server.ts";
import { TestClient, withDeadline } from "./helpers.ts";
import { Harness } from "./hub_harness.ts";

/**
 * A real listener whose accepts fail `failures` times, as when the process is
 * out of descriptors: the connection that arrived meanwhile waits, as it would
 * in the kernel's backlog, and is handed out once accepting works again.
 */
class FaultyListener implements ConnListener {
  readonly #inner: Deno.TcpListener;
  readonly #waiting: Deno.Conn[] = [];
  failures = 0;
  failed = 0;
  error: () => Error = () => new Error("Too many open files (os error 24)");
  constructor(inner: Deno.TcpListener) {
    this.#inner = inner;
  }
  get addr(): Deno.Addr {
    return this.#inner.addr;
  }
  async accept(): Promise<Deno.Conn> {
    const conn = this.#waiting.shift() ?? await this.#inner.accept();
    if (this.failures > 0) {
      this.failures--;
      this.failed++;
      this.#waiting.push(conn);
      throw this.error();
    }
    return conn;
  }
  close(): void {
    this.#inner.close();
  }
}

/** A server whose listener is a {@linkcode FaultyListener}, logging into `lines`. */
function serverOnFaultyListener() {
  const lines: string[] = [];
  let faulty: FaultyListener | undefined;
  const server = ChatServer.listen({ ...DEFAULT_CONFIG, host: "127.0.0.1", port: 0 }, {
    log: createLogger({ format: "text", level: "info", write: (line) => lines.push(line) }),
    listen: (options) => faulty = new FaultyListener(Deno.listen(options)),
  });
  return { server, faulty: faulty!, lines };
}

Deno.test("accept errors are logged and retried while established clients keep chatting", async () => {
  const { server, faulty, lines } = serverOnFaultyListener();
  try {
    await using alice = await TestClient.login(server, "alice");
    await using bob = await TestClient.login(server, "bob");
    faulty.failures = 5;
    // The next connection finds the accept loop failing; it is accepted once the faults pass.
    const late = TestClient.login(server, "late");
    await alice.send("MSG still here");
    await bob.expect("MSG alice still here");
    await using lateClient = await late;
    await lateClient.send("WHO");
    assertEquals(await lateClient.readLines(3), ["USER alice", "USER bob", "USER late"]);
    assertEquals(faulty.failed, 5);
    // Five failures 100 ms apart: one line, not five (out of descriptors, every retry fails).
    assertEquals(lines.filter((l) => l.includes("accept failed; retrying")).length, 1);
  } finally {
    await server.shutdown();
  }
});

Deno.test("an exception while handling one client closes that client alone", () => {
  const logged: string[] = [];
  const t = new Harness({
    maxClients: 10,
    log: createLogger({ format: "text", level: "info", write: (line) => logged.push(line) }),
  });
  const [alice, bob, carol] = [t.login("alice"), t.login("bob"), t.login("carol")];
  bob.throwOnSend = true;
  t.send(alice, "MSG hello");
  assertEquals(bob.closes, ["error"]);
  assertEquals(alice.closes, []);
  assertEquals(carol.take(), ["MSG alice hello", "INFO bob disconnected"]);
  assertEquals(alice.take(), ["INFO bob disconnected"]);
  assertEquals(t.hub.userNames, ["alice", "carol"]);
  assert(logged.some((l) => l.includes("send failed") && l.includes("bob:1")));
  // The hub goes on serving the others.
  t.send(carol, "PING");
  assertEquals(carol.take(), ["PONG"]);
});

Deno.test("an unhandled rejection is logged and does not end the process", async () => {
  let logged!: (line: string) => void;
  const line = new Promise<string>((resolve) => logged = resolve);
  const remove = installProcessGuards(
    createLogger({ format: "text", level: "info", write: logged }),
  );
  try {
    Promise.reject(new Error("nobody awaited me"));
    const text = await withDeadline(line, 5000, "the guard's log line");
    assert(text.includes("unhandled rejection") && text.includes("nobody awaited me"), text);
  } finally {
    remove();
  }
});

Deno.test("a peer that resets before it is accepted costs no back-off and no error line", async () => {
  const { server, faulty, lines } = serverOnFaultyListener();
  try {
    faulty.error = () => new Deno.errors.NotConnected("Transport endpoint is not connected");
    faulty.failures = 200;
    // With a 100 ms pause per error this would take 20 s and fail the 5 s deadline.
    await using _patient = await TestClient.login(server, "patient");
    assertEquals(faulty.failed, 200);
    assertEquals(lines.filter((l) => l.includes("accept failed")).length, 0);
  } finally {
    await server.shutdown();
  }
});
