/**
 * Container health check. By default it sends `PING` on the chat port and
 * exits 0 on `PONG`: the chat listener answers. With `--ready` it asks
 * `GET /readyz` on the metrics port instead, prints the answer (`ready`, or
 * why not) and exits 0 on 200: the instance takes logins, which for one
 * joined through Redis also means joined. Either way, 1 on anything else or
 * after 2 s. The image has no curl.
 *
 * `PING` mode reads `PORT` (default 4000); `--ready` reads `METRICS_PORT`
 * (no default: metrics must be on). Both need only `--allow-net=127.0.0.1`;
 * `PING` mode needs `--allow-env=PORT`, `--ready` also `METRICS_PORT`.
 *
 * @module
 */
/** How long the whole check may take; the image's HEALTHCHECK allows more. */
const DEADLINE_MS = 2000;
/** Bytes read at a time: a `PONG` line, or the start of whatever came instead. */
const READ_BYTES = 256;

/** `PING` on the chat port; true on `PONG`. */
async function pingChat(): Promise<boolean> {
  const port = Number(Deno.env.get("PORT") || "4000");
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("PING\n"));
  const buffer = new Uint8Array(READ_BYTES);
  let reply = "";
  while (!reply.includes("\n")) {
    const count = await conn.read(buffer);
    if (count === null) break;
    reply += new TextDecoder().decode(buffer.subarray(0, count));
  }
  return reply.startsWith("PONG\n");
}

/** `GET /readyz` on the metrics port; prints the answer, true on 200. */
async function askReady(): Promise<boolean> {
  const port = Deno.env.get("METRICS_PORT") ?? "";
  if (!/^\d+$/.test(port)) {
    console.log("METRICS_PORT is not set: no /readyz to ask");
    return false;
  }
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  console.log(`${response.status} ${(await response.text()).trimEnd()}`);
  return response.status === 200;
}

const deadline = setTimeout(() => Deno.exit(1), DEADLINE_MS);
const args = Deno.args.join(" ");
if (args !== "" && args !== "--ready") {
  console.log(`usage: healthcheck.ts [--ready] (got: ${args})`);
  Deno.exit(1);
}
try {
  const healthy = args === "--ready" ? await askReady() : await pingChat();
  clearTimeout(deadline);
  Deno.exit(healthy ? 0 : 1);
} catch (error) {
  console.log(String(error));
  Deno.exit(1);
}
