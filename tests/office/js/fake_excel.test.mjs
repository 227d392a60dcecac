// The fake itself: strict where the real Office.js is, so a client bug cannot hide.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createFake, PAYLOAD_LIMIT } from "./fake_excel.mjs";
import { convertTyped } from "./fake_model.mjs";

async function run(fake, fn) {
  return fake.Excel.run(fn);
}

describe("strictness", () => {
  test("a property read before load and sync throws PropertyNotLoaded", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      const r = ctx.workbook.worksheets.getItem("Sheet1").getRange("A1");
      assert.throws(() => r.values, { code: "PropertyNotLoaded" });
      r.load("values");
      assert.throws(() => r.values, { code: "PropertyNotLoaded" });
      await ctx.sync();
      assert.deepEqual(r.values, [[""]]);
      assert.throws(() => r.numberFormat, { code: "PropertyNotLoaded" });
    });
  });

  test("an unknown member throws, reading or writing", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      const ws = ctx.workbook.worksheets.getItem("Sheet1");
      assert.throws(() => ws.getRangeByIndex(0, 0), { code: "UnknownMember" });
      assert.throws(() => { ws.getRange("A1").value = 1; }, { code: "UnknownMember" });
      assert.throws(() => { ws.id = "x"; }, { code: "UnknownMember" });
      assert.throws(() => ws.getRange("A1").load("colour"), { code: "PropertyNotFound" });
    });
  });

  test("a missing sheet fails at sync, not before", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      const r = ctx.workbook.worksheets.getItem("Nope").getRange("A1");
      r.values = [[1]];
      await assert.rejects(ctx.sync(), { code: "ItemNotFound" });
    });
  });

  test("operations left unsynced at the end of Excel.run are an error", async () => {
    const fake = createFake();
    await assert.rejects(run(fake, async (ctx) => { ctx.workbook.worksheets.getItem("Sheet1").getRange("A1").values = [[1]]; }),
      { code: "InvalidOperation" });
  });

  test("a request over 5 MB is refused like Excel on the web", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      const big = Array.from({ length: 60_000 }, () => ["x".repeat(90)]);
      ctx.workbook.worksheets.getItem("Sheet1").getRange("A1:A60000").values = big;
      await assert.rejects(ctx.sync(), { code: "RequestPayloadSizeLimitExceeded" });
    });
    assert.ok(fake.stats.requests[0] > PAYLOAD_LIMIT);
  });

  test("a shape mismatch, a bad colour, an overlong validation message are refused", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      const r = ctx.workbook.worksheets.getItem("Sheet1").getRange("A1:B1");
      r.values = [[1]];
      await assert.rejects(ctx.sync(), { code: "InvalidArgument" });
      r.format.fill.color = "FFC7CE"; // no leading #
      await assert.rejects(ctx.sync(), { code: "InvalidArgument" });
      r.dataValidation.prompt = { showPrompt: true, title: "t", message: "m".repeat(256) };
      await assert.rejects(ctx.sync(), { code: "InvalidArgument" });
    });
  });
});

describe("typed input", () => {
  test("strings become what Excel makes of them", () => {
    const cases = [["0123", 123], ["=A1", 0], ["TRUE", true], ["2024-01-02", 45293], ["5%", 0.05], ["'0123", "0123"], ["abc", "abc"], ["#N/A", "#N/A"]];
    for (const [text, value] of cases) assert.deepEqual(convertTyped(text, "General").value, value, text);
    assert.equal(convertTyped("0123", "@").value, "0123");
    assert.equal(convertTyped("=A1", "General").formula, "=A1");
  });
});

describe("the model", () => {
  test("the last visible sheet cannot be hidden or deleted; the active one moves on", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      ctx.workbook.worksheets.add("Two");
      const one = ctx.workbook.worksheets.getItem("Sheet1");
      one.visibility = "Hidden";
      await ctx.sync();
      const active = ctx.workbook.worksheets.getActiveWorksheet().load("name");
      await ctx.sync();
      assert.equal(active.name, "Two");
      ctx.workbook.worksheets.getItem("Two").visibility = "VeryHidden";
      await assert.rejects(ctx.sync(), { code: "InvalidOperation" });
      ctx.workbook.worksheets.getItem("Two").delete();
      await assert.rejects(ctx.sync(), { code: "InvalidOperation" });
    });
  });

  test("a note per cell: adding a second one fails; notes need ExcelApi 1.18", async () => {
    const fake = createFake();
    await run(fake, async (ctx) => {
      const ws = ctx.workbook.worksheets.getItem("Sheet1");
      ws.notes.add("B2", "one");
      await ctx.sync();
      ws.notes.add("B2", "two");
      await assert.rejects(ctx.sync(), { code: "InvalidArgument" });
    });
    const old = createFake({ notes: false });
    await run(old, async (ctx) => {
      ctx.workbook.worksheets.getItem("Sheet1").notes.load("items");
      await assert.rejects(ctx.sync(), { code: "ApiNotFound" });
    });
  });

  test("createWorkbook takes an xlsx as base64 only", async () => {
    const fake = createFake();
    await assert.rejects(fake.Excel.createWorkbook("not base64!"), { code: "InvalidArgument" });
    await fake.Excel.createWorkbook("UEsDBAo=");
    assert.equal(fake.book.opened.length, 1);
  });
});
