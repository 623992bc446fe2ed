// Replies for the tests of streamed rendering.

/** A long reply as models write one: paragraphs with every kind of markup, lists; CRLF and LF. */
export function longReply(paragraphs: number): string {
  const blocks: string[] = [];
  for (let i = 0; i < paragraphs; i++) {
    const lines = [
      `Option ${i}: the **Nordisk Alfheim ${i}** is *light*, packs to \`40 x 15 cm\` and has a \\*5 star\\* rating; see [the shop](https://shop.example/p/${i}) or https://shop.example/t/${i}. It sleeps two, and the vestibule takes both packs.`,
      "",
      "- **Weight:** 1.2 kg",
      "- *Season:* 3",
      "  with a second line",
      "",
      `${i + 2}. Pitch the inner first`,
      `${i + 3}) then the fly`,
      "",
    ];
    blocks.push(lines.join(i % 3 ? "\n" : "\r\n"));
  }
  return blocks.join("\n");
}
