/**
 * Keeps what a script started until Ctrl+C (or SIGTERM), then stops it once, says so and exits:
 * a second signal while stopping changes nothing.
 */
export function stopOnSignal(stop: () => Promise<void>, stoppedMessage: string): void {
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    console.log(stoppedMessage);
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
