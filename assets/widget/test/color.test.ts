import { describe, expect, it } from "vitest";
import { contrastText, parseColor, toHex } from "../src/shared/color";

describe("brand colour", () => {
  it("parses hex and rgb() colours and rejects anything else", () => {
    expect(parseColor("#2563EB")).toEqual([37, 99, 235]);
    expect(parseColor(" #fc0 ")).toEqual([255, 204, 0]);
    expect(parseColor("rgb(1, 2, 3)")).toEqual([1, 2, 3]);
    expect(parseColor("rgba(1 2 3 / .5)")).toEqual([1, 2, 3]);
    for (const bad of ["", "red", "#12", "#1234567", "rgb(300,0,0)", "url(x)", "#fff;background:url(x)", null, undefined])
      expect(parseColor(bad as string), String(bad)).toBeNull();
    expect(toHex([255, 204, 0])).toBe("#ffcc00");
  });

  it("picks black or white text by WCAG contrast", () => {
    expect(contrastText(parseColor("#ffcc00")!)).toBe("#000");
    expect(contrastText(parseColor("#ffffff")!)).toBe("#000");
    expect(contrastText(parseColor("#22c55e")!)).toBe("#000");
    expect(contrastText(parseColor("#2563eb")!)).toBe("#fff");
    expect(contrastText(parseColor("#000000")!)).toBe("#fff");
    expect(contrastText(parseColor("#e11d48")!)).toBe("#fff");
  });
});
