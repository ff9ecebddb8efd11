/**
 * The IRC door's `JOIN` and `PART` of the chat's one channel, and the
 * reasons a client gives for `PART` and `QUIT`. A client is on the channel
 * from its `JOIN` to its `PART`; the hub tells the channel's others.
 *
 * @module
 */
import { cleanReason } from "../departure.ts";
import { type IrcOut, isOurs, sayMember } from "./irc_targets.ts";
import { shown } from "./irc_text.ts";

/** A client that may be on the channel. */
export interface ChannelClient extends IrcOut {
  /** It asked to hear the channel (`JOIN`), and has not left it since. */
  joined: boolean;
}

/** A `PART` or `QUIT` reason as a command carries it: cleaned and cut, or nothing. */
export function reasonField(raw: string | undefined): { reason?: string } {
  const reason = cleanReason(raw);
  return reason === undefined ? {} : { reason };
}

/** `JOIN <channels>`: `0` leaves the channel; the chat's channel is joined, others are 403. */
export function join(client: ChannelClient, channels: string | undefined): void {
  if (channels === undefined || channels === "") {
    return sayMember(client, "461", "JOIN :Not enough parameters");
  }
  // JOIN 0 leaves every channel.
  if (channels === "0") return client.joined ? leave(client, undefined) : undefined;
  for (const channel of channels.split(",")) {
    if (!isOurs(client, channel)) sayMember(client, "403", `${shown(channel)} :No such channel`);
    else if (!client.joined) {
      // Joining again what it is on is no news: IRC servers say nothing.
      client.joined = true;
      client.emit({ kind: "join" });
      // Made in the hub's turn, this tells whether the JOIN took (a refused login: 451), so a
      // JOIN after the next login is not taken for a second one.
      client.answer((_nick, member) => {
        if (!member) client.joined = false;
        return "";
      });
    }
  }
}

/** `PART <channels> [:reason]`: 442 when not on it. */
export function part(
  client: ChannelClient,
  channels: string | undefined,
  reason: string | undefined,
): void {
  if (channels === undefined || channels === "") {
    return sayMember(client, "461", "PART :Not enough parameters");
  }
  for (const channel of channels.split(",")) {
    if (!isOurs(client, channel)) sayMember(client, "403", `${shown(channel)} :No such channel`);
    else if (!client.joined) {
      sayMember(client, "442", `${client.identity.channel} :You're not on that channel`);
    } else leave(client, reason);
  }
}

function leave(client: ChannelClient, reason: string | undefined): void {
  client.joined = false;
  client.emit({ kind: "part", ...reasonField(reason) });
}
