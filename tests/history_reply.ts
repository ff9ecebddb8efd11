/**
 * Reading `HISTORY` replies in end-to-end tests: the lines up to `HIST END`,
 * each id checked, in order.
 *
 * @module
 */
import { assert, assertMatch } from "@std/assert";
import { compareIds } from "../lib/history/message_id.ts";
import type { TestClient } from "./helpers.ts";

/** A message id as the server shows it. */
export const ID = /^\d{13}-\d+$/;

/** `HIST <id> <rest>` lines: their ids (each checked, ascending) and each line's `<rest>`. */
export function parseHist(lines: readonly string[]): { ids: string[]; lines: string[] } {
  const ids: string[] = [];
  const rests: string[] = [];
  for (const line of lines) {
    const match = /^HIST (\S+) (.*)$/.exec(line);
    assert(match !== null, `not a HIST line: ${line}`);
    assertMatch(match[1]!, ID);
    ids.push(match[1]!);
    rests.push(match[2]!);
  }
  for (let i = 1; i < ids.length; i++) assert(compareIds(ids[i - 1]!, ids[i]!) < 0);
  return { ids, lines: rests };
}

/** Sends `ask` and reads its reply up to `HIST END`: its ids, and each line without `HIST <id> `. */
export async function historyOf(
  client: TestClient,
  ask: string,
): Promise<{ ids: string[]; lines: string[] }> {
  await client.send(ask);
  return parseHist(await histLines(client));
}

/** The lines before `HIST END`. */
export async function histLines(client: TestClient): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine();
    assert(line !== null, "closed before HIST END");
    if (line === "HIST END") return lines;
    lines.push(line);
  }
}
