import { describe, expect, it } from "vitest";
import { lineDiff, removedLines, todoLines } from "../../../../lab/learn/exercises/prepare.ts";

const BROKEN = `import { a } from "./a.ts";

export class Service {
  private readonly state = new Map<string, number>();

  constructor() {
    this.ready = true;
  }

  count(key: string): number {
    return this.state.get(key) ?? 0;
  }

  close(): void {}
}
`;

describe("TODO markers: one per place a fix changes", () => {
  it("the line diff keeps, removes and adds lines in order", () => {
    expect(lineDiff("a\nb\nc", "a\nx\nc")).toEqual([
      { op: "keep", at: 0 },
      { op: "add", at: 1, line: 1 },
      { op: "remove", at: 1 },
      { op: "keep", at: 2 },
    ]);
    expect(lineDiff("a", "a\nb")).toEqual([
      { op: "keep", at: 0 },
      { op: "add", at: 1, line: 1 },
    ]);
    expect(removedLines("a\nb\nc", "a\nc")).toEqual([1]);
  });

  it("a member with changed lines is marked once, on its declaration", () => {
    const fixed = BROKEN.replace("return this.state.get(key) ?? 0;", "const n = 1;\n    return n;");
    expect(todoLines(BROKEN, fixed)).toEqual([9]);
  });

  it("lines added inside a member mark it; a member added between two marks nothing", () => {
    const inside = BROKEN.replace("this.ready = true;", "this.ready = true;\n    this.extra = 1;");
    expect(todoLines(BROKEN, inside)).toEqual([5]);
    const between = BROKEN.replace(
      "  close(): void {}",
      "  page(): number {\n    return 1;\n  }\n\n  close(): void {}",
    );
    expect(todoLines(BROKEN, between)).toEqual([]);
  });

  it("imports and comments are never marked; a class only when none of its members is", () => {
    const imports = BROKEN.replace('import { a } from "./a.ts";', 'import { b } from "./b.ts";');
    expect(todoLines(BROKEN, imports)).toEqual([]);
    const header = BROKEN.replace("export class Service {", "export class Service extends Base {");
    expect(todoLines(BROKEN, header)).toEqual([2]);
    const both = header.replace(
      "close(): void {}",
      "close(): void {\n    this.state.clear();\n  }",
    );
    expect(todoLines(BROKEN, both)).toEqual([13]);
  });
});
