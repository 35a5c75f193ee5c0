import { configureLogging } from "../service/logger.ts";

// Apps built in-process by the tests log nothing; apps started as processes get LOG_LEVEL.
configureLogging("silent");
