/**
 * `docker compose up`, run for real: the project's Dockerfile and
 * compose.yaml are built and started as they are, with compose.ci.yaml's
 * overrides (resource limits this machine cannot raise, and an internal
 * network for the cluster, with no route to any registry). It drives
 * Debian's docker-compose through podman's Docker-compatible API
 * (DOCKER_HOST, default unix:///run/podman/podman.sock, which `.ci/run`
 * starts) and uses podman itself where compose has no command: running the
 * health check, `top`, inspecting. Without podman, docker-compose or the API
 * socket these tests are skipped, except in CI (`.ci/run` installs them).
 *
 * Everything the test makes goes at the end: containers, networks and
 * volumes (`down -v`), and the images its build added. The base images
 * (real, or `.ci/standin-images.sh`'s stand-ins) are not its own.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { type ServerAddress, TestClient } from "./helpers.ts";

const root = new URL("../", import.meta.url);
const PROJECT = "chatcomposetest";
const DOCKER_HOST = Deno.env.get("DOCKER_HOST") || "unix:///run/podman/podman.sock";
/** Longest wait for a container to log that it listens or has joined. */
const START_MS = 30_000;
/** compose.yaml's stop_grace_period. */
const GRACE_MS = 10_000;

interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(command: string, args: string[]): Promise<Output> {
  const output = await new Deno.Command(command, {
    args,
    cwd: root,
    env: { DOCKER_HOST },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `command` and returns its stdout, or throws with its stderr. */
async function must(command: string, args: string[]): Promise<string> {
  const output = await run(command, args);
  if (output.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${output.code}:\n${output.stderr}`);
  }
  return output.stdout;
}

/** docker-compose on compose.yaml and the CI overrides, in this test's own project. */
function compose(...args: string[]): Promise<string> {
  return must("docker-compose", [
    ...["-p", PROJECT, "-f", "compose.yaml", "-f", "compose.ci.yaml", "--profile", "cluster"],
    ...args,
  ]);
}

const podman = (...args: string[]): Promise<string> => must("podman", args);

/** Why these tests cannot run here, or undefined when they can. */
async function missingEngine(): Promise<string | undefined> {
  for (
    const [tool, args] of [["podman", ["--version"]], ["docker-compose", ["version"]]] as const
  ) {
    try {
      if ((await run(tool, [...args])).code !== 0) return `${tool} does not run`;
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!DOCKER_HOST.startsWith("unix://")) return `DOCKER_HOST=${DOCKER_HOST} is not a unix socket`;
  const path = DOCKER_HOST.slice("unix://".length);
  try {
    using conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode("GET /_ping HTTP/1.0\r\nHost: engine\r\n\r\n"));
    const buffer = new Uint8Array(512);
    const count = await conn.read(buffer);
    const reply = new TextDecoder().decode(buffer.subarray(0, count ?? 0));
    if (!reply.startsWith("HTTP/1.")) return `nothing answers on ${path}`;
  } catch (error) {
    return `no container engine on ${path} (podman system service): ${error}`;
  }
  return undefined;
}

const missing = await missingEngine();

async function delay(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the container's log has a line matching `pattern`; podman answers faster than compose. */
async function logged(id: string, pattern: RegExp): Promise<void> {
  const deadline = performance.now() + START_MS;
  while (true) {
    const { stdout, stderr } = await run("podman", ["logs", id]);
    if (pattern.test(stdout + stderr)) return;
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${START_MS} ms: container ${id} to log ${pattern}`);
    }
    await delay(200);
  }
}

async function containerId(service: string): Promise<string> {
  const id = (await compose("ps", "-q", service)).trim();
  assertMatch(id, /^[0-9a-f]{12,}$/, `${service} has a container`);
  return id;
}

async function inspect(id: string, format: string): Promise<string> {
  return (await podman("inspect", "--format", format, id)).trim();
}

/** Fails at once, and clearly, when a port compose.yaml publishes is taken. */
function assertPortsFree(ports: number[]): void {
  for (const port of ports) {
    try {
      Deno.listen({ hostname: "0.0.0.0", port }).close();
    } catch (error) {
      throw new Error(`Cannot publish compose.yaml's port ${port}: it is in use (${error})`);
    }
  }
}

/** The image ids in the store now, to remove afterwards the ones the build adds. */
async function imageIds(): Promise<Set<string>> {
  return new Set((await podman("images", "-a", "-q", "--no-trunc")).split("\n").filter(Boolean));
}

/** The line the container's processes run as, one per process (`podman top … user`). */
async function processUsers(id: string): Promise<string[]> {
  return (await podman("top", id, "user")).trim().split("\n").slice(1).map((line) => line.trim());
}

Deno.test({
  name: "docker compose runs the image: a lone server, and the cluster profile with no registry",
  // CI installs podman and docker-compose and starts the API; elsewhere, skipped without them.
  ignore: missing !== undefined && Deno.env.get("CI") !== "true",
  async fn(t) {
    if (missing !== undefined) throw new Error(`Cannot run the compose tests: ${missing}`);
    const before = await imageIds();
    try {
      await t.step("the image builds from the Dockerfile and keeps its health check", async () => {
        await compose("build", "chat");
        const health = JSON.parse(
          await podman(
            "image",
            "inspect",
            "--format",
            "{{json .Config.Healthcheck}}",
            "chat-server",
          ),
        );
        assertEquals(health.Test, [
          "CMD",
          ...["deno", "run", "--allow-net=127.0.0.1", "--allow-env=PORT", "healthcheck.ts"],
        ]);
      });

      await t.step(
        "the lone server chats on its published port, is healthy, runs as deno, and stops with ERR server-shutdown",
        async () => {
          assertPortsFree([4000, 4001, 9464]);
          await compose("up", "-d", "chat");
          const id = await containerId("chat");
          await logged(id, /"msg":"metrics listening"/);

          await using alice = await TestClient.login(4000, "alice");
          await using bob = await TestClient.login(4000, "bob");
          await alice.send("MSG hello from the container");
          await bob.expect("MSG alice hello from the container");
          await bob.send("WHO");
          assertEquals(await bob.readLines(2), ["USER alice", "USER bob"]);

          const healthz = await fetch("http://127.0.0.1:9464/healthz");
          assertEquals(await healthz.text(), "ok\n");
          const metrics = await (await fetch("http://127.0.0.1:9464/metrics")).text();
          assertMatch(metrics, /^chat_users 2$/m);

          // No timer runs health checks here: run the container's once, as the engine would.
          await podman("healthcheck", "run", id);
          assertEquals(await inspect(id, "{{.State.Health.Status}}"), "healthy");

          // tini and deno, both as the image's deno user.
          const users = await processUsers(id);
          assert(users.length >= 2, `tini and deno run: ${users}`);
          assertEquals(new Set(users), new Set(["deno"]));

          const started = performance.now();
          const stopping = compose("stop", "chat");
          await alice.expect("ERR server-shutdown");
          await bob.expect("ERR server-shutdown");
          await alice.expectClosed();
          await bob.expectClosed();
          await stopping;
          const took = performance.now() - started;
          assert(took < GRACE_MS, `stopped in ${Math.round(took)} ms, within the grace period`);
          assertEquals(await inspect(id, "{{.State.ExitCode}}"), "0");
          await logged(id, /"msg":"shutdown finished"/);
        },
      );

      await t.step(
        "the lone server's history outlives `docker compose down` and `up`, in its volume",
        async () => {
          await compose("up", "-d", "chat");
          const before = await containerId("chat");
          await logged(before, /"msg":"history","store":"sqlite","path":"\/data\/chat\.db"/);
          await using alice = await TestClient.login(4000, "alice");
          await using bob = await TestClient.login(4000, "bob");
          const sent = ["first words", "kept in a volume", "across down and up"];
          for (const text of sent) {
            await alice.send(`MSG ${text}`);
            await bob.expect(`MSG alice ${text}`);
          }
          const stopping = compose("down");
          await alice.expect("ERR server-shutdown");
          await bob.expect("ERR server-shutdown");
          await alice.dispose();
          await bob.dispose();
          await stopping;

          await compose("up", "-d", "chat");
          const after = await containerId("chat");
          assert(after !== before, "a new container");
          await logged(after, /"msg":"metrics listening"/);
          await using carol = await TestClient.login(4000, "carol");
          await carol.send("HISTORY");
          // The step before's message too: same volume, a container stopped before this one.
          const reply = await carol.readLines(sent.length + 2);
          assertEquals(reply.map((line) => line.replace(/^HIST \d+-\d+ /, "")), [
            "alice hello from the container",
            ...sent.map((text) => `alice ${text}`),
            "HIST END",
          ]);
          const stopped = compose("stop", "chat");
          await carol.expect("ERR server-shutdown");
          await carol.dispose();
          await stopped;
        },
      );

      await t.step(
        "the cluster profile starts with no route to any registry and is one chat",
        async () => {
          assertPortsFree([4010, 4012, 9465, 9466]);
          await compose("up", "-d", "redis", "chat-1", "chat-2");
          const network = `${PROJECT}_no-registry`;
          assertEquals(
            (await podman("network", "inspect", "--format", "{{.Internal}}", network)).trim(),
            "true",
          );
          const addresses: Record<string, ServerAddress> = {};
          for (const service of ["chat-1", "chat-2"]) {
            // Joined: Redis's client code and its npm packages came from the image.
            const id = await containerId(service);
            await logged(id, /"msg":"cluster joined"/);
            const networks = JSON.parse(await inspect(id, "{{json .NetworkSettings.Networks}}"));
            assertEquals(Object.keys(networks), [network], `${service} is on ${network} only`);
            // No default route: only the bridge's own subnet is reachable.
            const routes = (await podman("exec", id, "cat", "/proc/net/route")).trim().split("\n");
            const destinations = routes.slice(1).map((line) => line.split(/\s+/)[1]);
            assert(!destinations.includes("00000000"), `${service} has no default route`);
            // Published ports do not forward on an internal network: the bridge address does.
            addresses[service] = { hostname: networks[network].IPAddress, port: 4000 };
          }

          await using alice = await TestClient.login(addresses["chat-1"]!, "alice");
          await using bob = await TestClient.login(addresses["chat-2"]!, "bob");
          await alice.send("MSG hello from chat-1");
          await bob.expect("MSG alice hello from chat-1");
          await bob.send("MSG hello from chat-2");
          await alice.expect("MSG bob hello from chat-2");
          await alice.send("DM bob just you");
          await bob.expect("DM alice just you");
          for (const client of [alice, bob]) {
            await client.send("WHO");
            assertEquals(await client.readLines(2), ["USER alice", "USER bob"]);
          }

          const chat2 = await containerId("chat-2");
          await compose("stop", "chat-2");
          await bob.expect("ERR server-shutdown");
          await alice.expect("INFO bob disconnected");
          assertEquals(await inspect(chat2, "{{.State.ExitCode}}"), "0");
          assertEquals(await alice.sync(), []);
        },
      );
    } catch (error) {
      console.error(await compose("logs", "--no-color").catch((e) => String(e)));
      throw error;
    } finally {
      await compose("down", "-v", "--remove-orphans");
      // The image compose.yaml names (its build made it), and what else the build added.
      await podman("rmi", "-f", "-i", "chat-server:latest");
      const added = [...await imageIds()].filter((id) => !before.has(id));
      if (added.length > 0) await podman("rmi", "-f", "-i", ...added);
    }
  },
});
