import { describe, expect, it } from "vitest";
import {
  clusterShape,
  workerColourIndex,
  workerLongName,
  workerName,
} from "../../../lab/report/worker-name.ts";

describe("worker names in the reports", () => {
  it("tell worker 1 of host 1 from worker 1 of host 2, and stay short on one host", () => {
    const single = { workerId: 1, hostname: "laptop" };
    const first = { workerId: 1, hostname: "host-1" };
    const second = { workerId: 1, hostname: "host-2" };
    expect([workerName(single), workerName(first), workerName(second)]).toEqual([
      "w1",
      "h1/w1",
      "h2/w1",
    ]);
    expect(workerLongName(single)).toBe("worker 1");
    expect(workerLongName(second)).toBe("host 2 worker 1");
    expect(workerColourIndex(first)).not.toBe(workerColourIndex(second));
  });

  it("describe a run's shape as hosts x workers only when several hosts ran", () => {
    expect(clusterShape(4, 1)).toBe("4 workers");
    expect(clusterShape(8, 2)).toBe("2 hosts x 4 workers");
  });
});
