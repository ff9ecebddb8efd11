/**
 * Container health check: sends `PING` on the chat port and exits 0 on
 * `PONG`, 1 on anything else or after 2 s. The image has no curl, and this
 * checks what users need (the chat listener answering), not just the process.
 *
 * @module
 */
/** How long the whole check may take; the image's HEALTHCHECK allows more. */
const DEADLINE_MS = 2000;
/** Bytes read at a time: a `PONG` line, or the start of whatever came instead. */
const READ_BYTES = 256;

const port = Number(Deno.env.get("PORT") || "4000");
const deadline = setTimeout(() => Deno.exit(1), DEADLINE_MS);
try {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("PING\n"));
  const buffer = new Uint8Array(READ_BYTES);
  let reply = "";
  while (!reply.includes("\n")) {
    const count = await conn.read(buffer);
    if (count === null) break;
    reply += new TextDecoder().decode(buffer.subarray(0, count));
  }
  clearTimeout(deadline);
  Deno.exit(reply.startsWith("PONG\n") ? 0 : 1);
} catch {
  Deno.exit(1);
}
