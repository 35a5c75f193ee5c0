/** Things a user might tell an assistant; each turn's text is unique so the checker can match it. */
const LINES = [
  "Hi, my name is Ada.",
  "My favourite colour is teal.",
  "I live in Lisbon.",
  "I have a cat called Miso.",
  "I am learning to play the cello.",
  "My sister's birthday is in May.",
  "I prefer tea over coffee.",
  "I work night shifts at a hospital.",
  "What was the first thing I told you?",
] as const;

/** The user message of turn `index` (0-based) of conversation number `conversation`. */
export function turnText(conversation: number, index: number): string {
  const line = LINES[index % LINES.length] ?? LINES[0];
  return `[c${conversation} #${index + 1}] ${line}`;
}
