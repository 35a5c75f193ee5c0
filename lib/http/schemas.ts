import { z } from "zod";

/** Conversation ids are URL-safe and short: they become part of a storage key. */
export const ConversationParams = z.object({
  conversationId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "conversationId must be 1-100 characters of A-Z a-z 0-9 _ -"),
});

/** Turn ids double as idempotency keys. */
export const TURN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const TurnBody = z
  .object({
    text: z.string().trim().min(1, "text must not be empty").max(4000, "text is too long"),
    turnId: z
      .string()
      .regex(TURN_ID, "turnId must be 1-64 characters of A-Z a-z 0-9 _ -")
      .optional(),
  })
  // Unknown fields are rejected rather than silently dropped.
  .strict();

export type TurnBodyInput = z.infer<typeof TurnBody>;

/** One readable line from a zod error: "text: text must not be empty". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    )
    .join("; ");
}
