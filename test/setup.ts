import { configureLogging } from "../service/logger.ts";

// A test never touches a Redis it did not start: whatever the shell exported, every app,
// demo and helper started from a test finds no REDIS_URL and starts a private redis-server.
for (const name of Object.keys(process.env)) {
  if (name.startsWith("REDIS_")) delete process.env[name];
}

// Apps built in-process by the tests log nothing; apps started as processes get LOG_LEVEL.
configureLogging("silent");
