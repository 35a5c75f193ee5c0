import type { AgentMessage, AssistantAgent } from "../service/model/agent.ts";

/**
 * AutoGen's multi-agent shape, reduced to what the lesson needs: a GroupChat holds the
 * agents and the shared message list; a GroupChatManager picks who speaks next and runs
 * them. Both are runtime objects: build them per request, from the stored messages.
 */
export class GroupChat<M extends AgentMessage = AgentMessage> {
  constructor(
    readonly agents: readonly AssistantAgent[],
    readonly messages: M[],
  ) {}
}

export class GroupChatManager<M extends AgentMessage = AgentMessage> {
  constructor(readonly groupChat: GroupChat<M>) {}

  /** Round robin over the conversation so far: the n-th user message goes to agent n mod count. */
  selectSpeaker(): AssistantAgent {
    const { agents, messages } = this.groupChat;
    const userTurns = messages.filter((m) => m.role === "user").length;
    const speaker = agents[(userTurns - 1 + agents.length) % agents.length];
    if (!speaker) throw new Error("a GroupChat needs at least one agent");
    return speaker;
  }

  /**
   * Adds the user's message, lets the selected agent answer from the whole list. A streamed
   * reply (`onDelta`) starts with the speaker's name, as the whole reply does.
   */
  async step(
    user: M,
    onDelta?: (text: string) => void,
  ): Promise<{ speaker: string; reply: string }> {
    this.groupChat.messages.push(user);
    const speaker = this.selectSpeaker();
    onDelta?.(`${speaker.name}: `);
    const reply = await speaker.generateReply(this.groupChat.messages, onDelta);
    return { speaker: speaker.name, reply: `${speaker.name}: ${reply}` };
  }
}
