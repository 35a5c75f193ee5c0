import pino from "pino";

/** JSON logs on stdout; LOG_LEVEL=silent turns them off (tests), =debug shows more. */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { pid: process.pid },
});
