import { describe, expect, it } from 'vitest';
import { GUIDES, GUIDE_SECTION } from './guides';
import { inlines, parse } from './markdown';

describe('the bundled user guides (docs/guide.*.md)', () => {
  it('reads headings, paragraphs, lists and inline marks, and no markup', () => {
    const b = parse('# T\n\n## One\n\nSome **bold** and `code`\ncontinued *here*.\n\n1. first\n   more\n2. second\n\n- a <b>x</b>\n');
    expect(b[0]).toEqual({ kind: 'heading', level: 1, id: '', text: 'T' });
    expect(b[1]).toEqual({ kind: 'heading', level: 2, id: 'guide-section-1', text: 'One' });
    expect(b[2]).toEqual({
      kind: 'paragraph',
      inlines: [
        { kind: 'text', text: 'Some ' },
        { kind: 'strong', text: 'bold' },
        { kind: 'text', text: ' and ' },
        { kind: 'code', text: 'code' },
        { kind: 'text', text: ' continued ' },
        { kind: 'em', text: 'here' },
        { kind: 'text', text: '.' },
      ],
    });
    expect(b[3]).toEqual({ kind: 'list', ordered: true, items: [inlines('first more'), inlines('second')] });
    // HTML stays text: the component renders text nodes only.
    expect(b[4]).toEqual({ kind: 'list', ordered: false, items: [[{ kind: 'text', text: 'a <b>x</b>' }]] });
  });

  it('every language has the same sections, so a screen links to the same one', () => {
    const shape = (md: string) =>
      parse(md)
        .filter((x) => x.kind === 'heading')
        .map((x) => (x.kind === 'heading' ? x.level : 0));
    expect(shape(GUIDES.az)).toEqual(shape(GUIDES.en));
    expect(shape(GUIDES.ru)).toEqual(shape(GUIDES.en));
    const sections = shape(GUIDES.en).filter((l) => l === 2).length;
    expect(Math.max(...Object.values(GUIDE_SECTION))).toBe(sections);
    // The Sync and Travel screens' sections are what they say.
    const titles = parse(GUIDES.en).filter((x) => x.kind === 'heading' && x.level === 2);
    expect(titles[GUIDE_SECTION.sending - 1]).toMatchObject({ text: 'Sending to headquarters' });
    expect(titles[GUIDE_SECTION.travel - 1]).toMatchObject({ text: expect.stringContaining('travel mode') });
  });

  it('the guides hold to the glossary (docs/glossary.md)', () => {
    expect(GUIDES.az).not.toMatch(/qərargah|\bHQ\b|təcili açar|azadlıq\b/i);
    expect(GUIDES.az).not.toMatch(/(?<!yadda )saxlanılıb/i);
    expect(GUIDES.az).not.toMatch(/parol(?!\s+ifadə)/i);
    expect(GUIDES.ru).not.toMatch(/Новое лицо|показани|Данное согласие|\bHQ\b/i);
    expect(GUIDES.ru).not.toMatch(/(?<!парольн[а-яё]{1,3}\s)фраз/i);
    for (const [lang, term] of [
      ['az', 'parol ifadəsi'],
      ['az', 'bərpa kodu'],
      ['az', 'Səfər rejimi'],
      ['az', 'Təcili dayandırma'],
      ['ru', 'парольную фразу'],
      ['ru', 'код восстановления'],
      ['ru', 'Режим поездки'],
      ['ru', 'Аварийный выключатель'],
    ] as const)
      expect(GUIDES[lang], `${lang}: ${term}`).toContain(term);
  });
});
