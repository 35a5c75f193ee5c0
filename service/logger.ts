import pino from "pino";

/** JSON logs on stdout; its level comes from LOG_LEVEL through `configureLogging`. */
export const logger = pino({ level: "info", base: { pid: process.pid } });

/** Applies the configured level (silent in tests, debug to see more). */
export function configureLogging(level: string): void {
  logger.level = level;
}
