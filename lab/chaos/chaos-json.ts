import type { ChaosCase, ChaosOptions } from "./run-case.ts";
import { CATEGORY_TABLE, placeTurns } from "./turn-categories.ts";

/**
 * What `--json` writes: the category table, then every case, each turn carrying its
 * category and cause next to the load test's own outcome, as the table counted it.
 */
export function chaosJson(options: ChaosOptions, cases: readonly ChaosCase[]) {
  return { options, categories: CATEGORY_TABLE, cases: cases.map(withTurnPlaces) };
}

function withTurnPlaces(c: ChaosCase): ChaosCase {
  if (!c.load) return c;
  const places = placeTurns(c.load.turns, c.load.errorAnswers);
  const turns = c.load.turns.map((turn, i) => ({ ...turn, ...places[i] }));
  // The chaos run's watch on the streams in flight is no option a reader could repeat.
  const { streamWatch: _watch, ...options } = c.load.options;
  return { ...c, load: { ...c.load, options, turns } };
}
