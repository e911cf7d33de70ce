// A tiny Markdown reader for the bundled user guides (docs/guide.*.md):
// headings, paragraphs, numbered and bulleted lists, **bold**, *emphasis*,
// `code`. It builds plain data that the Guide component renders as elements
// (no HTML strings), so nothing in a guide can become markup or script.

export type Inline = { kind: 'text' | 'strong' | 'em' | 'code'; text: string };

export type Block =
  | { kind: 'heading'; level: number; id: string; text: string }
  | { kind: 'paragraph'; inlines: Inline[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] };

/** Splits a line of text into bold, emphasis, code and plain runs. */
export function inlines(text: string): Inline[] {
  const out: Inline[] = [];
  const re = /\*\*([^*]+)\*\*|`([^`]+)`|\*([^*]+)\*/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ kind: 'text', text: text.slice(last, at) });
    if (m[1] !== undefined) out.push({ kind: 'strong', text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'code', text: m[2] });
    else out.push({ kind: 'em', text: m[3] });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** A heading's anchor: its position among the level-2 headings (stable across languages). */
function sectionId(n: number): string {
  return `guide-section-${n}`;
}

export function parse(md: string): Block[] {
  const blocks: Block[] = [];
  let para: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;
  let sections = 0;
  const flush = () => {
    if (para.length) blocks.push({ kind: 'paragraph', inlines: inlines(para.join(' ')) });
    para = [];
    if (list) blocks.push({ kind: 'list', ordered: list.ordered, items: list.items.map(inlines) });
    list = null;
  };
  for (const raw of md.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = heading[1].length;
      if (level === 2) sections += 1;
      blocks.push({ kind: 'heading', level, id: level === 2 ? sectionId(sections) : '', text: heading[2] });
    } else if (line.trim() === '') {
      flush();
    } else if (bullet || numbered) {
      const ordered = !!numbered;
      if (para.length || (list && list.ordered !== ordered)) flush();
      list ??= { ordered, items: [] };
      list.items.push(((bullet ?? numbered) as RegExpExecArray)[1]);
    } else if (list && /^\s+\S/.test(raw)) {
      // A continuation line of the last list item.
      list.items[list.items.length - 1] += ` ${line.trim()}`;
    } else {
      if (list) flush();
      para.push(line.trim());
    }
  }
  flush();
  return blocks;
}
