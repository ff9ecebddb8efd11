/**
 * The IRC door keeps a `PASS` password only until a login succeeds: what it
 * sends the hub after that (a later `NICK`'s login) carries no password.
 * Door-level: the door is fed lines and its commands to the hub are read,
 * the hub's answer to the login played by calling its answers as logged in.
 */
import { assert, assertEquals } from "@std/assert";
import type { DoorClient } from "../lib/door.ts";
import type { HubEvent } from "../lib/hub_types.ts";
import { ircDoor } from "../lib/irc/irc_door.ts";
import type { Command } from "../lib/protocol.ts";
import type { Wire } from "../lib/wire.ts";

const encoder = new TextEncoder();

/** A door client that keeps the commands its door posts. */
function recordingClient(wire: Wire): { client: DoorClient; commands: Command[] } {
  const commands: Command[] = [];
  const take = (event: HubEvent) => {
    if (event.kind === "command") commands.push(event.command);
  };
  const client: DoorClient = {
    remote: "127.0.0.1:5000",
    ip: "127.0.0.1",
    wire,
    send: () => true,
    keepalive: () => {},
    close: () => {},
    message: (event) => {
      take(event);
      return true;
    },
    notice: take,
    hangUp: () => {},
    forwardedFor: () => {},
  };
  return { client, commands };
}

/** Feeds `lines` to the door's framer, each ended with CRLF. */
function feed(framer: ReturnType<ReturnType<typeof ircDoor>["framer"]>, ...lines: string[]) {
  for (const line of lines) {
    const bytes = encoder.encode(line + "\r\n");
    framer.space().set(bytes);
    framer.commit(bytes.length);
  }
}

/** Plays the hub's turn for every `answered` command so far, as for a client logged in as `name`. */
function answerAsMember(commands: readonly Command[], name: string): void {
  for (const command of commands) if (command.kind === "answered") command.answer(name);
}

function logins(commands: readonly Command[]): string[] {
  return commands.flatMap((command) => command.kind === "login" ? [command.name] : []);
}

Deno.test("IRC door: the PASS password goes with the registration's login, and not with a NICK after it succeeded", () => {
  const door = ircDoor({ server: "chat", channel: "#chat" }, true);
  const { client, commands } = recordingClient(door.wire);
  const framer = door.framer(client);
  feed(framer, "PASS s3cret-password", "NICK alice", "USER a 0 * :Alice");
  assertEquals(logins(commands), ["alice s3cret-password"]);
  answerAsMember(commands, "alice");
  commands.length = 0;
  feed(framer, "NICK bob");
  assertEquals(logins(commands), ["bob"]);
});

Deno.test("IRC door: after a refused login the PASS password is kept for the next NICK's try", () => {
  const door = ircDoor({ server: "chat", channel: "#chat" }, true);
  const { client, commands } = recordingClient(door.wire);
  const framer = door.framer(client);
  feed(framer, "PASS s3cret-password", "NICK alice", "USER a 0 * :Alice");
  // Refused: the hub answers as to a client not logged in.
  for (const command of commands) if (command.kind === "answered") command.answer(undefined);
  commands.length = 0;
  feed(framer, "NICK alice2");
  assertEquals(logins(commands), ["alice2 s3cret-password"]);
  assert(commands.some((command) => command.kind === "answered"), "the try is answered again");
});
