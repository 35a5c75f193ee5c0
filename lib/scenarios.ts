import type { ChatServiceClass } from "./chat-service.ts";
import type { AppName } from "./types.ts";

/** Scenarios that have a broken and a fixed variant under `broken/<name>/` and `fixed/<name>/`. */
export const SCENARIOS = ["memory"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export const APPS = ["broken", "fixed"] as const satisfies readonly AppName[];

export function parseApp(value: string | undefined): AppName {
  if (value === "broken" || value === "fixed") return value;
  throw new Error(`--app must be one of ${APPS.join(", ")} (got ${JSON.stringify(value)})`);
}

export function parseScenario(value: string | undefined): ScenarioName {
  const name = value ?? "memory";
  if ((SCENARIOS as readonly string[]).includes(name)) return name as ScenarioName;
  throw new Error(
    `--scenario must be one of ${SCENARIOS.join(", ")} (got ${JSON.stringify(name)})`,
  );
}

/** Loads `<app>/<scenario>/chat-service.ts`. */
export async function loadChatServiceClass(
  app: AppName,
  scenario: ScenarioName,
): Promise<ChatServiceClass> {
  const module = (await import(`../${app}/${scenario}/chat-service.ts`)) as {
    AgentChatService: ChatServiceClass;
  };
  return module.AgentChatService;
}
