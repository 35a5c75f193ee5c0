import type { Identity } from "../contract.ts";

/**
 * The one canonical state key of a conversation: prefix, then a Redis Cluster hash
 * tag `{...}` holding tenant, user and conversation. Each part is percent-encoded,
 * so neither ":" nor braces inside a part can make two identities meet
 * (tenant "a:b" + user "c" never equals tenant "a" + user "b:c").
 */
export function conversationKey(
  prefix: string,
  identity: Identity,
  conversationId: string,
): string {
  const tag = [identity.tenant, identity.user, conversationId].map(encodeURIComponent).join(":");
  return `${prefix}{${tag}}`;
}
