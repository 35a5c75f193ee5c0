import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { AppName, ScenarioName } from "../../../scenarios/catalogue.ts";
import { DEFAULT_PORTS } from "../../../service/config.ts";
import { requestJson } from "../../load/http-json.ts";
import { startScenarioApps } from "../../processes/scenario-apps.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

const HealthSchema = z.object({ app: z.string(), scenario: z.string() });

/** The app the chat talks to, and how to let go of it. */
export interface ChatTarget {
  url: string;
  app: string;
  scenario: string;
  /** Where it came from, for the banner: "already running on :3001", "started here with 4 workers". */
  where: string;
  /** True when this process started it (and stop() stops it). */
  owned: boolean;
  /** The cluster's JSON logs, when this process started it. */
  logFile?: string;
  /** Stops whatever this process started (nothing for an app someone else runs). */
  stop(): Promise<void>;
}

export interface FindOrStartOptions {
  app: AppName;
  scenario: ScenarioName;
  workers: number;
  /** An app to use as it is (`--url`): never started or stopped here. */
  url?: string;
  /** Look for an app from `npm start` on the app's default port before starting one. */
  reuse: boolean;
  /** Overrides DEFAULT_PORTS[app] for that look (tests). */
  probePort?: number;
  /** Passed to an app this process starts, so the tokens it issues are accepted. */
  authSecret: string;
  logDir?: string;
  note?: (message: string) => void;
}

/** What `/healthz` says about the app at `url`, or undefined when nothing sensible answers. */
export async function probeHealth(
  url: string,
  timeoutMs = 1000,
): Promise<{ app: string; scenario: string } | undefined> {
  try {
    const response = await requestJson(`${url}/healthz`, { timeoutMs });
    const body = HealthSchema.safeParse(response.body);
    return response.status === 200 && body.success ? body.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--url` as given; else the app `npm start` runs on its default port, if it is the app
 * and scenario asked for; else a cluster of our own (with Redis or a state dir if it needs one).
 */
export async function findOrStartApp(options: FindOrStartOptions): Promise<ChatTarget> {
  const note = options.note ?? (() => {});
  const { app, scenario } = options;
  if (options.url) {
    const url = options.url.replace(/\/+$/, "");
    const health = await probeHealth(url);
    if (!health) note(`${url}/healthz does not answer; trying the chat anyway`);
    else if (health.app !== app || health.scenario !== scenario)
      note(`${url} serves ${health.app}/${health.scenario}, not ${app}/${scenario}`);
    return {
      url,
      app: health?.app ?? app,
      scenario: health?.scenario ?? scenario,
      where: "given with --url",
      owned: false,
      stop: async () => {},
    };
  }
  if (options.reuse) {
    const port = options.probePort ?? DEFAULT_PORTS[app];
    const url = `http://127.0.0.1:${port}`;
    const health = await probeHealth(url);
    if (health?.app === app && health.scenario === scenario) {
      return {
        url,
        app,
        scenario,
        where: `already running on :${port}`,
        owned: false,
        stop: async () => {},
      };
    }
    note(
      health
        ? `:${port} serves ${health.app}/${health.scenario}, not ${app}/${scenario}: starting a cluster of my own`
        : `no ${app} app on :${port} (npm start): starting a cluster of my own`,
    );
  }
  return startOwnApp(options, note);
}

/** An app of our own (and what it needs), started as the demo does: stop() undoes it all. */
async function startOwnApp(
  options: FindOrStartOptions,
  note: (message: string) => void,
): Promise<ChatTarget> {
  const { app, workers } = options;
  const started = await startScenarioApps({
    app,
    scenario: options.scenario,
    workers,
    logFile: (scenario) =>
      join(options.logDir ?? join(ROOT, ".runs"), `chat-${app}-${scenario}-${Date.now()}.log`),
    env: { AUTH_SECRET: options.authSecret },
    note,
  });
  const [cluster] = started.clusters;
  if (!cluster) throw new Error("no app cluster started");
  return {
    url: cluster.url,
    app,
    scenario: started.scenario,
    where: `started here with ${workers} worker${workers === 1 ? "" : "s"}`,
    owned: true,
    logFile: started.logFile,
    stop: () => started.stop(),
  };
}
