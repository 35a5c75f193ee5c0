/**
 * The lab's command-line flags, each declared once: how node:util `parseArgs` reads it (its
 * spec) and how zod checks its value (its schema). A command lists the flags it takes with
 * `defineFlags`, hands `.spec` to `parseArgs` and validates the values with
 * `parseFlagsOrExit(.schema, values)`. A command's own flags (chaos faults, bench sections)
 * live with the command, built with the same helpers.
 */
import type { ParseArgsConfig } from "node:util";
import { z } from "zod";

/** How parseArgs reads one flag: `{ type: "string" | "boolean", short?, ... }`. */
type ParseArgsOptionConfig = NonNullable<ParseArgsConfig["options"]>[string];

/** One flag: its name (`--name`), its parseArgs spec, and the zod schema of its value. */
export interface Flag<
  Name extends string = string,
  Spec extends ParseArgsOptionConfig = ParseArgsOptionConfig,
  Schema extends z.ZodType = z.ZodType,
> {
  readonly name: Name;
  readonly spec: Spec;
  readonly schema: Schema;
}

/** The parseArgs options of some flags, by name. */
export type SpecsOf<F extends readonly Flag[]> = { [K in F[number] as K["name"]]: K["spec"] };
type ShapeOf<F extends readonly Flag[]> = { [K in F[number] as K["name"]]: K["schema"] };

/** A whole-number flag value within [min, max], with a default. */
export const count = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** A comma-separated flag value whose items must each be one of `values`; at least one. */
export const commaList = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) => s.split(",").map((v) => v.trim()))
    .pipe(z.array(z.enum(values)).min(1));

/** A flag with a value (`--name VALUE`), checked by `schema`. */
export function valueFlag<const Name extends string, Schema extends z.ZodType>(
  name: Name,
  schema: Schema,
): Flag<Name, { readonly type: "string" }, Schema> {
  return { name, spec: { type: "string" }, schema };
}

/** A flag without a value (`--name`): false unless given. */
export function switchFlag<const Name extends string>(name: Name) {
  return { name, spec: { type: "boolean" } as const, schema: z.boolean().default(false) };
}

export interface CountBounds {
  min: number;
  max: number;
  fallback: number;
}

/** A whole-number flag within [min, max], `fallback` when absent. */
export function countFlag<const Name extends string>(name: Name, bounds: CountBounds) {
  return valueFlag(name, count(bounds.min, bounds.max, bounds.fallback));
}

/** A count flag with the load test's bounds, which a command may replace with its own. */
const counted =
  <const Name extends string>(name: Name, bounds: CountBounds) =>
  (own: Partial<CountBounds> = {}) =>
    countFlag(name, { ...bounds, ...own });

/** A flag whose raw string the command reads itself (a URL, an app or scenario name). */
const raw =
  <const Name extends string>(name: Name) =>
  () =>
    valueFlag(name, z.string().optional());

/**
 * The flags of the load test and of the commands built on it (load, demo:*, demo:chaos,
 * bench). Each entry makes its flag; a count flag takes the command's own bounds and default
 * where they differ from the load test's, e.g. `FLAG.workers({ min: 2, max: 16 })`.
 */
export const FLAG = {
  workers: counted("workers", { min: 1, max: 64, fallback: 4 }),
  conversations: counted("conversations", { min: 1, max: 10_000, fallback: 24 }),
  turns: counted("turns", { min: 1, max: 1_000, fallback: 8 }),
  connections: counted("connections", { min: 1, max: 1_000, fallback: 8 }),
  sticky: () => switchFlag("sticky"),
  /** Independent app clusters standing for separate machines behind a load balancer. */
  replicas: counted("replicas", { min: 1, max: 8, fallback: 1 }),
  /** Absent: the scenario's default (1, sequential, for most). */
  overlap: () => valueFlag("overlap", z.coerce.number().int().min(1).max(64).optional()),
  retryRate: () => valueFlag("retry-rate", z.coerce.number().min(0).max(1).default(0)),
  /** Absent: the scenario's default (streamed for `streaming`, else not). */
  stream: () => ({
    name: "stream" as const,
    spec: { type: "boolean" } as const,
    schema: z.boolean().optional(),
  }),
  /** Share of streamed turns dropped mid-stream and resumed; absent: the scenario's default (0). */
  disconnectRate: () => valueFlag("disconnect-rate", z.coerce.number().min(0).max(1).optional()),
  /** Deltas received before a dropped stream's connection is destroyed; absent: 2. */
  disconnectAfter: () =>
    valueFlag("disconnect-after", z.coerce.number().int().min(0).max(10_000).optional()),
  /** Backoff in ms before resending a definite refusal (503, 409); 0 = never resend. */
  resendRefused: counted("resend-refused", { min: 0, max: 60_000, fallback: 0 }),
  seed: () =>
    valueFlag(
      "seed",
      z.coerce
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .optional(),
    ),
  /** Seconds to wait for one answer before its outcome is unknown. */
  timeout: counted("timeout", { min: 1, max: 600, fallback: 10 }),
  maxSeconds: counted("max-seconds", { min: 1, max: 3_600, fallback: 120 }),
  /** Simulated model latency per turn, in ms. */
  latencyMs: counted("latency-ms", { min: 0, max: 10_000, fallback: 5 }),
  /** The app's per-user turn limit, for the checker to hold the run to (the load is one user). */
  turnLimit: () =>
    valueFlag("turn-limit", z.coerce.number().int().min(1).max(1_000_000).optional()),
  json: () => valueFlag("json", z.string().optional()),
  html: () => valueFlag("html", z.string().optional()),
  help: () => ({
    name: "help" as const,
    spec: { type: "boolean", short: "h" } as const,
    schema: z.boolean().default(false),
  }),
  url: raw("url"),
  app: raw("app"),
  scenario: raw("scenario"),
  expect: raw("expect"),
  redisCluster: () => switchFlag("redis-cluster"),
  redisSentinel: () => switchFlag("redis-sentinel"),
};

/** The parseArgs options of flags a command reads raw, without their schemas. */
export function specsOf<const F extends readonly Flag[]>(...flags: F): SpecsOf<F> {
  return Object.fromEntries(flags.map((flag) => [flag.name, flag.spec])) as SpecsOf<F>;
}

/**
 * A command's flags: `spec` for parseArgs, `schema` (a zod object, its keys in this order,
 * so errors and results keep it) for parseFlagsOrExit.
 */
export function defineFlags<const F extends readonly Flag[]>(...flags: F) {
  const shape = Object.fromEntries(flags.map((flag) => [flag.name, flag.schema]));
  return { spec: specsOf(...flags), schema: z.object(shape as ShapeOf<F>) };
}

/** Validates parsed flags against `schema`; exits 2 with one readable line per bad flag. */
export function parseFlagsOrExit<T extends z.ZodType>(
  schema: T,
  values: Record<string, unknown>,
): z.infer<T> {
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      console.error(`--${String(issue.path[0] ?? "?")}: ${issue.message}`);
    }
    process.exit(2);
  }
  return parsed.data;
}
