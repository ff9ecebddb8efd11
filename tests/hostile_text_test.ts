/** Safe text: nobody can forge a line or drive another user's terminal. */
import { assert, assertEquals } from "@std/assert";
import { startServer, TestClient } from "./helpers.ts";

const encoder = new TextEncoder();

/** True when `line` holds no control character but TAB (C0, DEL, C1 as code points). */
function isSafe(line: string): boolean {
  return !/[^\P{Cc}\t]/u.test(line);
}

Deno.test("hostile text arrives defanged: escapes, C1 controls, terminal tricks, forged lines", async () => {
  const server = startServer();
  try {
    await using mallory = await TestClient.login(server, "mallory");
    await using victim = await TestClient.login(server, "victim");
    const attacks: [string, string][] = [
      // ANSI colour, cursor movement, screen clear, window title (OSC ... BEL).
      ["\x1b[31mred\x1b[0m", "\uFFFD[31mred\uFFFD[0m"],
      ["\x1b[2J\x1b[H", "\uFFFD[2J\uFFFD[H"],
      ["\x1b]0;pwned\x07", "\uFFFD]0;pwned\uFFFD"],
      // C1 controls sent as UTF-8: CSI (U+009B), NEL (U+0085), OSC (U+009D), ST (U+009C).
      ["\u009b31m\u0085\u009d0;x\u009c", "\uFFFD31m\uFFFD\uFFFD0;x\uFFFD"],
      // A \r meant to overwrite the line on a terminal, and an attempt to forge a second line.
      ["innocent\rMSG admin you are fired", "innocent\uFFFDMSG admin you are fired"],
      [
        "BEL\x07 BS\x08 VT\x0b FF\x0c NUL\x00 DEL\x7f",
        "BEL\uFFFD BS\uFFFD VT\uFFFD FF\uFFFD NUL\uFFFD DEL\uFFFD",
      ],
      // TAB and printable Unicode pass untouched.
      ["tab\there caf\u00e9 \u{1F600} \u202eevil", "tab\there caf\u00e9 \u{1F600} \u202eevil"],
    ];
    for (const [sent, shown] of attacks) {
      await mallory.sendRaw(encoder.encode(`MSG ${sent}\n`));
      const line = await victim.readLine();
      assertEquals(line, `MSG mallory ${shown}`);
      assert(isSafe(line!), JSON.stringify(line));
      await mallory.sendRaw(encoder.encode(`DM victim ${sent}\r\n`));
      assertEquals(await victim.readLine(), `DM mallory ${shown}`);
    }
    // A raw C1 byte that is not UTF-8 (0x9B alone) is invalid UTF-8: one U+FFFD.
    await mallory.sendRaw(
      Uint8Array.of(...encoder.encode("MSG raw "), 0x9b, ...encoder.encode("31m\n")),
    );
    assertEquals(await victim.readLine(), "MSG mallory raw \uFFFD31m");
    // Names cannot carry any of it.
    await using other = await TestClient.connect(server);
    for (const name of ["\x1b[31mx", "a\rb", "c1\u009bx", "zw\u200bj"]) {
      await other.sendRaw(encoder.encode(`LOGIN ${name}\n`));
      await other.expect("ERR invalid-username");
    }
  } finally {
    await server.shutdown();
  }
});
