/**
 * A real IRC client against the IRC listener: Debian's irssi in a real
 * terminal (tmux), typed into with `send-keys` and read back with
 * `capture-pane`, chatting with a TCP user. irssi's raw log (every line both
 * ways) is kept in its home folder, checked at the end and shown when a wait
 * times out. Without `irssi` or `tmux` on the PATH the test is skipped,
 * except in CI (`.ci/run` installs both).
 */
import { assert, assertEquals } from "@std/assert";
import { withAccounts } from "./accounts_rig.ts";
import { startServer, TestClient, withServer } from "./helpers.ts";
import { makeCertificate } from "./certificates.ts";
import { CAPABILITIES, IrcClient, welcomeLines, withClockedServer } from "./irc_client.ts";
import { hasTmux, shellQuote, Tmux } from "./tmux.ts";
import { hasProgram } from "./programs.ts";

async function hasIrssi(): Promise<boolean> {
  return await hasProgram("irssi");
}

// CI installs irssi and tmux, and fails rather than skips without them.
const ignore = !(await hasIrssi() && await hasTmux()) && Deno.env.get("CI") !== "true";

/**
 * irssi's configuration: nothing reaches the network but the server (no
 * proxy, no CTCP or DCC answered or accepted, no scripts: the home folder has
 * none), nothing written but the raw log (no chat logs, no saved settings),
 * lines without timestamps so the screen can be compared as it is, and no
 * queue between commands (irssi's own flood control, 2.2 s a command after
 * five, would make the channel queries after a JOIN take 10 s).
 */
const CONFIG = `settings = {
  core = {
    real_name = "irssi in a test";
    user_name = "irssi";
    settings_autosave = "no";
    use_proxy = "no";
  };
  "irc/core" = {
    ctcp_version_reply = "";
    ctcp_userinfo_reply = "";
    cmd_queue_speed = "0";
  };
  "irc/dcc" = {
    dcc_autoget = "no";
    dcc_autoresume = "no";
    dcc_autochat_masks = "";
  };
  "fe-common/core" = {
    autolog = "no";
    timestamps = "no";
  };
};
ignores = ( { level = "CTCPS DCC DCCMSGS"; } );
`;

/** server-time's form of a time: `YYYY-MM-DDThh:mm:ss.sssZ`. */
const ISO_TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

/** Asserts that each of `expected` (a line, or a pattern for one) is in `raw`, in that order. */
function assertInOrder(raw: readonly string[], expected: readonly (string | RegExp)[]): void {
  const at = (line: string | RegExp) =>
    typeof line === "string" ? raw.indexOf(line) : raw.findIndex((row) => line.test(row));
  const missing = expected.filter((line) => at(line) === -1).map(String);
  assertEquals(missing, [], `not in the raw log:\n${raw.join("\n")}`);
  const positions = expected.map(at);
  assertEquals(positions, [...positions].sort((a, b) => a - b), raw.join("\n"));
}

/** irssi connected to `127.0.0.1:port` as `nick`, in tmux, with a home folder of its own. */
class Irssi {
  readonly #tmux: Tmux;
  readonly #home: string;

  private constructor(tmux: Tmux, home: string) {
    this.#tmux = tmux;
    this.#home = home;
  }

  /**
   * Started as `nick`; with `sasl`, it logs in to that account with SASL
   * PLAIN, and with `tlsCa`, it connects over TLS and verifies the server's
   * certificate against that CA file, as irssi's users set these up.
   */
  static async start(
    port: number,
    nick: string,
    sasl?: { readonly account: string; readonly password: string },
    tlsCa?: string,
  ): Promise<Irssi> {
    const home = await Deno.makeTempDir({ prefix: "chat-irssi-" });
    const chatnet = sasl === undefined ? "" : `
chatnets = {
  chat = {
    type = "IRC";
    sasl_mechanism = "PLAIN";
    sasl_username = "${sasl.account}";
    sasl_password = "${sasl.password}";
  };
};`;
    // Over TLS by name: irssi matches the certificate's DNS names only, not its IP address.
    const tls = tlsCa === undefined
      ? `address = "127.0.0.1"; use_tls = "no";`
      : `address = "localhost"; use_tls = "yes"; tls_verify = "yes"; tls_cafile = "${tlsCa}";`;
    // With SASL or TLS, the server in the configuration connects by itself.
    const configured = sasl !== undefined || tlsCa !== undefined;
    try {
      await Deno.writeTextFile(
        `${home}/config`,
        !configured ? CONFIG : CONFIG + `${chatnet}
servers = ( { chatnet = "chat"; port = "${port}"; ${tls} autoconnect = "yes"; } );
`,
      );
      const server = configured ? [] : ["-c", "127.0.0.1", "-p", `${port}`];
      const words = ["irssi", `--home=${home}`, "-n", nick, ...server];
      // The window stays after irssi ends, to show how it ended.
      const command = `${words.map(shellQuote).join(" ")}; echo "[exit $?]"; sleep 600`;
      return new Irssi(await Tmux.start(command, 100, 40), home);
    } catch (error) {
      await Deno.remove(home, { recursive: true });
      throw error;
    }
  }

  /** Where `/rawlog open` writes. */
  get rawlogPath(): string {
    return `${this.#home}/raw.log`;
  }

  /** The raw log so far: `<< ` lines irssi sent, `>> ` lines it received. */
  async rawlog(): Promise<string> {
    return await Deno.readTextFile(this.rawlogPath).catch(() => "(no raw log)");
  }

  /** Types `text` and presses Enter. */
  async enter(text: string): Promise<void> {
    await this.#tmux.type(text);
    await this.#tmux.keys("Enter");
  }

  /** Waits for a row that is `line` exactly, or matches it; the screen. */
  async waitFor(line: string | RegExp): Promise<string[]> {
    const test = typeof line === "string"
      ? (row: string) => row === line
      : (row: string) => line.test(row);
    try {
      return await this.#tmux.waitFor(String(line), (screen) => screen.some(test));
    } catch (error) {
      throw new Error(`${(error as Error).message}\nraw log:\n${await this.rawlog()}`);
    }
  }

  /** Ends tmux with irssi in it, and removes irssi's home folder. */
  async close(): Promise<void> {
    await this.#tmux.kill();
    await Deno.remove(this.#home, { recursive: true });
  }
}

Deno.test({
  name:
    "irssi registers through CAP, joins, and chats with a TCP user both ways, in the channel and in a query",
  ignore,
  async fn() {
    assert(await hasIrssi(), "irssi is not on the PATH (.ci/run installs it)");
    await withServer({ ircPort: 0 }, async (server) => {
      const irssi = await Irssi.start(server.ircAddr!.port, "alice");
      let bob: TestClient | undefined;
      try {
        // irssi starts with CAP LS 302 and sends NICK and USER only once it is answered.
        await irssi.waitFor("-!- Welcome to the chat network, alice");
        await irssi.waitFor("-!- MOTD File is missing");
        // The lines since the connection are kept in memory; opening the file writes them too.
        await irssi.enter(`/rawlog open ${irssi.rawlogPath}`);

        await irssi.enter("/join #chat");
        await irssi.waitFor("-!- alice [alice@chat] has joined #chat");
        await irssi.waitFor(
          "-!- Irssi: #chat: Total of 1 nicks [0 ops, 0 halfops, 0 voices, 1 normal]",
        );
        // Synced: irssi's queries after a JOIN (MODE, WHO, MODE b) were all answered.
        await irssi.waitFor(/^-!- Irssi: Join to #chat was synced in \d+ secs$/);

        // A TCP user's login is a JOIN, and it is in irssi's nick list.
        bob = await TestClient.login(server, "bob");
        await irssi.waitFor("-!- bob [bob@chat] has joined #chat");
        await irssi.enter("/names");
        await irssi.waitFor("[ alice] [ bob]");
        await irssi.waitFor(
          "-!- Irssi: #chat: Total of 2 nicks [0 ops, 0 halfops, 0 voices, 2 normal]",
        );

        await bob.send("MSG hi alice");
        await irssi.waitFor("< bob> hi alice");
        await irssi.enter("hello bob, from irssi");
        await bob.expect("MSG alice hello bob, from irssi");
        await irssi.waitFor("< alice> hello bob, from irssi");

        // CTCP ACTION and /me, both ways.
        await irssi.enter("/me waves");
        await bob.expect("MSG alice /me waves");
        await bob.send("MSG /me waves back");
        await irssi.waitFor(" * bob waves back");

        // A DM opens a query window (window 3, after the status window and #chat).
        await bob.send("DM alice psst");
        await irssi.waitFor(/\[Act: (\d+,)*3\]$/);
        await irssi.enter("/window goto bob");
        await irssi.waitFor("<bob> psst");
        await irssi.waitFor("[bob]");
        await irssi.enter("/msg bob hi");
        await bob.expect("DM alice hi");
        await irssi.waitFor("<alice> hi");

        // Another IRC user's PART and QUIT reasons, as irssi shows them in the channel.
        await irssi.enter("/window goto #chat");
        await using carl = await IrcClient.connect(server);
        await carl.send("NICK carl");
        await carl.send("USER carlos 0 * :Carl C");
        await carl.expectLines(welcomeLines("carl"));
        await irssi.waitFor("-!- carl [carl@chat] has joined #chat");
        await carl.join("carl");
        await carl.send("PART #chat :gone fishing");
        await irssi.waitFor("-!- carl [carl@chat] has left #chat [gone fishing]");
        // Back on the channel for irssi (its JOIN relayed), or its QUIT would show nowhere.
        await carl.send("JOIN #chat");
        await carl.send("QUIT :see you");
        await irssi.waitFor("-!- carl [carl@chat] has quit [Quit: see you]");
        await bob.expect("INFO carl disconnected");

        await irssi.enter("/quit");
        await bob.expect("INFO alice disconnected");
        await irssi.waitFor("[exit 0]");

        const raw = (await irssi.rawlog()).split("\n");
        // In order: CAP answered with the capabilities, irssi taking server-time, and ended before
        // NICK and the welcome; the JOIN (its time tagged) answered up to the ban list irssi waits
        // for; bob's login as a JOIN; carl's PART and QUIT; the QUIT.
        assertInOrder(raw, [
          "<< CAP LS 302",
          `>> :chat CAP * LS :${CAPABILITIES}`,
          "<< CAP REQ :server-time",
          ">> :chat CAP * ACK :server-time",
          "<< CAP END",
          "<< NICK alice",
          ">> :chat 001 alice :Welcome to the chat network, alice",
          "<< JOIN #chat",
          new RegExp(`^>> @time=${ISO_TIME} :alice!alice@chat JOIN #chat$`),
          ">> :chat 366 alice #chat :End of /NAMES list.",
          ">> :chat 368 alice #chat :End of channel ban list",
          new RegExp(`^>> @time=${ISO_TIME} :bob!bob@chat JOIN #chat$`),
          new RegExp(`^>> @time=${ISO_TIME} :carl!carl@chat PART #chat :gone fishing$`),
          new RegExp(`^>> @time=${ISO_TIME} :carl!carl@chat QUIT :Quit: see you$`),
          "<< QUIT :leaving",
        ]);
        // Everything irssi sent was a command the server knows.
        assertEquals(raw.filter((line) => / 421 /.test(line)), []);
      } finally {
        await irssi.close();
        await bob?.dispose();
      }
    });
  },
});

Deno.test({
  name: "irssi shows the chat's latest messages on joining, each once, then the chat goes on live",
  ignore,
  async fn() {
    assert(await hasIrssi(), "irssi is not on the PATH (.ci/run installs it)");
    await withClockedServer({}, async (server, clock) => {
      await using bob = await TestClient.login(server, "bob");
      await bob.send("MSG said before alice came");
      // Applied (the PONG after it came back) before the clock moves on a minute.
      assertEquals(await bob.sync(), []);
      clock.now += 60_000;
      await bob.send("MSG /me waves");
      assertEquals(await bob.sync(), []);
      const irssi = await Irssi.start(server.ircAddr!.port, "alice");
      try {
        await irssi.waitFor("-!- MOTD File is missing");
        await irssi.enter(`/rawlog open ${irssi.rawlogPath}`);
        await irssi.enter("/join #chat");
        await irssi.waitFor("-!- alice [alice@chat] has joined #chat");
        // The replay, after the names: irssi took server-time, so each carries its time as a tag.
        await irssi.waitFor("< bob> said before alice came");
        await irssi.waitFor(" * bob waves");
        await irssi.waitFor(/^-!- Irssi: Join to #chat was synced in \d+ secs$/);
        await bob.send("MSG and now, live");
        const screen = await irssi.waitFor("< bob> and now, live");
        // Each message once on the screen: the replay and the live line never overlap.
        assertEquals(screen.filter((row) => row.includes("said before alice came")).length, 1);
        assertEquals(screen.filter((row) => row === " * bob waves").length, 1);
        await irssi.enter("/quit");
        await irssi.waitFor("[exit 0]");
        assertInOrder((await irssi.rawlog()).split("\n"), [
          "<< JOIN #chat",
          ">> :chat 366 alice #chat :End of /NAMES list.",
          // Without message-tags, no msgid; the times are the history's clock's.
          ">> @time=2026-01-02T03:04:05.678Z :bob!bob@chat PRIVMSG #chat :said before alice came",
          ">> @time=2026-01-02T03:05:05.678Z :bob!bob@chat PRIVMSG #chat :\x01ACTION waves\x01",
          ">> @time=2026-01-02T03:05:05.678Z :bob!bob@chat PRIVMSG #chat :and now, live",
        ]);
      } finally {
        await irssi.close();
      }
    });
  },
});

Deno.test({
  name: "irssi logs in to an account with SASL PLAIN, under the account's nick, and chats",
  ignore,
  async fn() {
    assert(await hasIrssi(), "irssi is not on the PATH (.ci/run installs it)");
    await withAccounts({ overrides: { ircPort: 0 } }, async (server) => {
      await using owner = await TestClient.login(server, "alice");
      await owner.send("REGISTER password1");
      await owner.expect("OK registered");
      await owner.send("QUIT");
      await owner.expectClosed();
      await using bob = await TestClient.login(server, "bob");
      const irssi = await Irssi.start(server.ircAddr!.port, "zed", {
        account: "alice",
        password: "password1",
      });
      try {
        await irssi.waitFor("-!- Welcome to the chat network, alice");
        await irssi.enter(`/rawlog open ${irssi.rawlogPath}`);
        await irssi.enter("/join #chat");
        await irssi.waitFor("-!- alice [alice@chat] has joined #chat");
        await irssi.enter("hello from an account");
        await bob.expect("MSG alice hello from an account");
        await irssi.enter("/quit");
        await irssi.waitFor("[exit 0]");
        assertInOrder((await irssi.rawlog()).split("\n"), [
          "<< CAP LS 302",
          `>> :chat CAP * LS :${CAPABILITIES} sasl=PLAIN account-tag`,
          /^<< CAP REQ :.*sasl/,
          "<< AUTHENTICATE PLAIN",
          ">> AUTHENTICATE +",
          ">> :chat 900 alice alice!alice@chat alice :You are now logged in as alice",
          ">> :chat 903 alice :SASL authentication successful",
          "<< CAP END",
          ">> :chat 001 alice :Welcome to the chat network, alice",
        ]);
      } finally {
        await irssi.close();
      }
    });
  },
});

Deno.test({
  name:
    "irssi connects over TLS on the IRC TLS port, verifies the certificate, and chats with a TCP user",
  ignore,
  async fn() {
    assert(await hasIrssi(), "irssi is not on the PATH (.ci/run installs it)");
    const dir = await Deno.makeTempDir({ prefix: "chat-irssi-tls-" });
    try {
      const files = await makeCertificate(dir);
      const tls = {
        cert: await Deno.readTextFile(files.cert),
        key: await Deno.readTextFile(files.key),
      };
      const server = startServer({ ircPort: 0, ircTlsPort: 0, tlsPort: 0 }, { tls });
      let irssi: Irssi | undefined;
      let bob: TestClient | undefined;
      try {
        irssi = await Irssi.start(server.ircTlsAddr!.port, "alice", undefined, files.ca);
        // irssi shows the handshake it made, having verified the certificate against the CA.
        await irssi.waitFor(/^-!- Irssi: Protocol: TLSv1\.[23] /);
        await irssi.waitFor("-!- Welcome to the chat network, alice");
        await irssi.enter(`/rawlog open ${irssi.rawlogPath}`);
        await irssi.enter("/join #chat");
        await irssi.waitFor(/^-!- Irssi: Join to #chat was synced in \d+ secs$/);

        bob = await TestClient.login(server, "bob");
        await irssi.waitFor("-!- bob [bob@chat] has joined #chat");
        await bob.send("MSG hi alice, over TLS");
        await irssi.waitFor("< bob> hi alice, over TLS");
        await irssi.enter("hello bob, from irssi over TLS");
        await bob.expect("MSG alice hello bob, from irssi over TLS");
      } finally {
        await bob?.dispose();
        await irssi?.close();
        await server.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
