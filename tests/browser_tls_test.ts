/**
 * The page over HTTPS, as people reach a public chat: with TLS files the web
 * port serves the page over HTTPS and its WebSocket over WSS, in a real
 * headless chromium, beside a plaintext TCP client in the same room.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { noBrowser as ignore, Rig } from "./browser_rig.ts";
import { makeCertificate } from "./certificates.ts";

Deno.test({
  name: "The page over HTTPS chats through WSS with a plaintext TCP client, both ways",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "chat-browser-tls-" });
    try {
      const files = await makeCertificate(dir);
      // The certificate is this test's own throwaway; the browser is told not to check it.
      await using rig = await Rig.start(
        ["--tls-cert", files.cert, "--tls-key", files.key, "--tls-port", "0"],
        ["--ignore-certificate-errors"],
      );
      const alice = await rig.open();
      assertEquals(await alice.page.evaluate<string>("location.protocol"), "https:");
      await alice.join("alice");
      const carol = await rig.tcp("carol");
      await alice.sees({ kind: "join", from: "", text: "carol joined" });

      await alice.say("over TLS from the page");
      await alice.sees({ kind: "own", from: "alice", text: "over TLS from the page" });
      await carol.expect("MSG alice over TLS from the page");
      await carol.send("MSG and back in plaintext");
      await alice.sees({ kind: "msg", from: "carol", text: "and back in plaintext" });
      await carol.send("DM alice just for you");
      await alice.sees({ kind: "dm-in", from: "carol", text: "just for you" });
      alice.assertClean();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
