// The short user guides (docs/guide.*.md), bundled into the app as text and
// read with lib/markdown.ts. Level-2 sections are in the same order in every
// language (a test checks), so a screen links to a section by its number.
import en from '../../../docs/guide.en.md?raw';
import az from '../../../docs/guide.az.md?raw';
import ru from '../../../docs/guide.ru.md?raw';
import type { Locale } from './i18n/index.svelte';

export const GUIDES: Record<Locale, string> = { en, az, ru };

/** The guide's sections a screen links to (1-based level-2 heading). */
export const GUIDE_SECTION = { roles: 1, first_run: 2, records: 3, sending: 4, travel: 5, trouble: 6, limits: 7 } as const;
export type GuideSection = keyof typeof GUIDE_SECTION;
