/**
 * The IRC door across instances joined through a real Redis: an IRC user's
 * `PART` (with its reason), its `JOIN` after it, and its `QUIT` reason reach
 * the IRC users of another instance; `WHOIS` of a user elsewhere shows the
 * defaults, as the cluster does not carry `USER`. Skipped without
 * `redis-server`, except in CI.
 */
import { assertEquals } from "@std/assert";
import { ignore, withRig } from "./cluster_rig.ts";
import { IrcClient, welcomeLines } from "./irc_client.ts";

Deno.test({
  name: "cluster: an IRC user's PART, JOIN again and QUIT reason reach IRC users elsewhere",
  ignore,
  async fn() {
    await withRig(async (rig) => {
      const args = ["--irc-port", "0"];
      const a = await rig.start(rig.redis.url, { args });
      const b = await rig.start(rig.redis.url, { args });
      const carol = await rig.login(a, "carol");
      await using alice = await IrcClient.register({ port: a.server.ircPort! }, "alice");
      await using bob = await IrcClient.connect({ port: b.server.ircPort! });
      await bob.send("NICK bob");
      await bob.send("USER bobby 0 * :Bob B");
      await bob.expectLines(welcomeLines("bob"));
      await alice.expect(":bob!bob@chat JOIN #chat");
      await bob.join("bob");

      await bob.send("PART #chat :brb");
      await bob.expect(":bob!bob@chat PART #chat :brb");
      await alice.expect(":bob!bob@chat PART #chat :brb");
      await bob.send("JOIN #chat");
      await alice.expect(":bob!bob@chat JOIN #chat");
      await bob.send("PART #chat");
      await alice.expect(":bob!bob@chat PART #chat");

      // Its own instance knows what USER said; elsewhere, the defaults.
      await bob.sync();
      await bob.send("WHO bob");
      await bob.expectLines([
        ":chat 352 bob #chat bobby chat chat bob H :0 Bob B",
        ":chat 315 bob bob :End of /WHO list.",
      ]);
      await alice.send("WHOIS bob");
      await alice.expectLines([
        ":chat 311 alice bob bob chat * :bob",
        ":chat 319 alice bob :#chat",
        ":chat 312 alice bob chat :chat",
        ":chat 318 alice bob :End of /WHOIS list.",
      ]);

      await bob.send("QUIT :see you later");
      await bob.expect("ERROR :Closing link: Quit");
      await alice.expect(":bob!bob@chat QUIT :Quit: see you later");
      assertEquals(await carol.sync(), ["INFO bob disconnected"]);
    });
  },
});
