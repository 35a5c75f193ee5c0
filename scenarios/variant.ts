import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ChatService, ServiceDeps } from "../service/chat/chat-service.ts";
import type { ConversationStore } from "../service/store/conversation-store.ts";
import type { AppName, ScenarioName } from "./catalogue.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What a variant may use: the service's deps, plus the file store some scenarios teach with. */
export interface VariantDeps extends ServiceDeps {
  /** A store keeping one JSON file per conversation under `directory`. */
  fileStore(directory: string): ConversationStore;
}

/** The constructor every `broken/<scenario>/chat-service.ts` and `fixed/<scenario>/...` exports. */
export type ChatServiceClass = new (deps: VariantDeps) => ChatService;

/** Folder of the learner's exercise copies; tests point EXERCISES_DIR elsewhere. */
export function exercisesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EXERCISES_DIR ?? join(ROOT, "exercises");
}

/** The chat-service module of one variant: `broken/<s>/`, `fixed/<s>/` or the exercise copy. */
export function serviceModulePath(app: AppName, scenario: ScenarioName): string {
  const folder = app === "exercise" ? exercisesDir() : join(ROOT, app);
  return join(folder, scenario, "chat-service.ts");
}

export async function loadChatServiceClass(
  app: AppName,
  scenario: ScenarioName,
): Promise<ChatServiceClass> {
  const path = serviceModulePath(app, scenario);
  if (!existsSync(path)) throw new Error(`no chat service at ${path}`);
  const module = (await import(pathToFileURL(path).href)) as {
    AgentChatService: ChatServiceClass;
  };
  return module.AgentChatService;
}
