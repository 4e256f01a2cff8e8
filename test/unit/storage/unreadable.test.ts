import { describe, expect, it, vi } from "vitest";
import { logUnreadable, readRows, unreadableRow } from "../../../adapters/dynamo/unreadable.js";
import * as z from "../../../domain/zod.js";

const Row = z.object({ pk: z.string(), sk: z.string(), n: z.number() });

describe("unreadable rows", () => {
  it("are told apart from the readable ones, with what was wrong, and logged as errors by their keys only", () => {
    const { rows, unreadable } = readRows(
      [
        { pk: "A", sk: "1", n: 1 },
        { pk: "B", sk: "2", n: "SECRET-VALUE" },
        { pk: "C", sk: "3", n: 3 },
      ],
      Row,
    );
    expect(rows.map((r) => r.pk)).toEqual(["A", "C"]);
    expect(unreadable).toHaveLength(1);
    const [bad] = unreadable;
    if (!bad) throw new Error("no unreadable row");
    const error = vi.fn();
    logUnreadable({ error })(unreadableRow(bad.item, bad.issues, "things due"));
    expect(error).toHaveBeenCalledWith("store.unreadable_row", {
      pk: "B",
      sk: "2",
      reading: "things due",
      issues: [{ path: "n", message: expect.any(String) }],
    });
    expect(JSON.stringify(error.mock.calls)).not.toContain("SECRET-VALUE");
  });
});
