import { z } from "zod";

/** Load-test flags shared by `demo:*` and `load`; parse with node:util parseArgs first. */
export const loadFlagSpec = {
  workers: { type: "string" },
  conversations: { type: "string" },
  turns: { type: "string" },
  connections: { type: "string" },
  sticky: { type: "boolean" },
  replicas: { type: "string" },
  overlap: { type: "string" },
  "retry-rate": { type: "string" },
  "resend-refused": { type: "string" },
  seed: { type: "string" },
  timeout: { type: "string" },
  "max-seconds": { type: "string" },
  json: { type: "string" },
  html: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** A whole-number flag within [min, max], with a default. */
export const count = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** A comma-separated flag whose items must each be one of `values`; at least one. */
export const commaList = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) => s.split(",").map((v) => v.trim()))
    .pipe(z.array(z.enum(values)).min(1));

export const LoadFlags = z.object({
  workers: count(1, 64, 4),
  conversations: count(1, 10_000, 24),
  turns: count(1, 1_000, 8),
  connections: count(1, 1_000, 8),
  sticky: z.boolean().default(false),
  /** Independent app clusters standing for separate machines behind a load balancer. */
  replicas: count(1, 8, 1),
  /** Absent: the scenario's default (1, sequential, for most). */
  overlap: z.coerce.number().int().min(1).max(64).optional(),
  "retry-rate": z.coerce.number().min(0).max(1).default(0),
  /** Backoff in ms before resending a definite refusal (503, 409); 0 = never resend. */
  "resend-refused": z.coerce.number().int().min(0).max(60_000).default(0),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  timeout: count(1, 600, 10),
  "max-seconds": count(1, 3_600, 120),
  json: z.string().optional(),
  html: z.string().optional(),
  help: z.boolean().default(false),
});
export type LoadFlags = z.infer<typeof LoadFlags>;

export const LOAD_FLAGS_HELP = `Load options:
  --workers N         worker processes (default 4)
  --conversations S   conversations (default 24)
  --turns T           sequential turns per conversation (default 8)
  --connections C     keep-alive connections (default 8)
  --sticky            pin each conversation to one connection (hides the bug)
  --replicas N        N independent app clusters (as N machines); turns hop across all (default 1)
  --overlap K         up to K turns of one conversation in flight at once (default 1; naive-save: 3)
  --retry-rate P      re-send this share of turns with the same turnId (0-1, default 0)
  --seed N            seed of the retry choices, to repeat a run
  --resend-refused MS resend a turn refused with 503/409 (nothing stored) with the same turnId
                      after MS ms, up to 100 sends, as a client riding out an outage (default 0: never)
  --timeout SECONDS   wait this long for one answer before its outcome is unknown (default 10)
  --max-seconds N     hard cap on the load phase (default 120)
  --json FILE         write the whole result (turns, reads, checker verdict) as JSON
  --html FILE         write a self-contained HTML report (summary, charts, transcript)`;

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

export function parseLoadFlags(values: Record<string, unknown>): LoadFlags {
  return parseFlagsOrExit(LoadFlags, values);
}

/** `--resend-refused MS` as the load test's option: undefined when off. */
export function resendRefused(flags: Partial<Pick<LoadFlags, "resend-refused">>) {
  const backoffMs = flags["resend-refused"] ?? 0;
  return backoffMs > 0 ? { backoffMs, maxAttempts: 100 } : undefined;
}
