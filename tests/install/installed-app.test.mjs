// The INSTALLED desktop app (/usr/bin/yaddash-app from the yaddash package)
// under Xvfb through tauri-driver: its first-run screen in English,
// Azerbaijani and Russian, as screenshots. Run by scripts/test-install.sh,
// which sets YADDASH_APP_BIN, WEBDRIVER_URL and SCREENSHOT_DIR. A package
// build has no test hooks, so this creates no vault (scrypt at full cost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Session } from '../ui/webdriver.mjs';
import { screenshotDisplay } from '../ui/xshot.mjs';

const APP = process.env.YADDASH_APP_BIN ?? '/usr/bin/yaddash-app';
const WD_URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.SCREENSHOT_DIR ?? 'target/install-screenshots';

const CATALOGUE = (lang) => new URL(`../../ui/src/lib/i18n/${lang}.json`, import.meta.url);

test('the installed app starts and shows its first run in en, az and ru', async () => {
  const s = await Session.start(WD_URL, APP);
  try {
    await s.waitFor('h1');
    const choose = (value) =>
      s.execute(
        `const sel = document.querySelector('.lang select'); sel.value = arguments[0]; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
        [value],
      );
    const seen = {};
    for (const lang of ['en', 'az', 'ru']) {
      await choose(lang);
      await s.waitUntil(`return document.documentElement.lang === arguments[0]`, [lang], { what: `the app in ${lang}` });
      await new Promise((r) => setTimeout(r, 300));
      seen[lang] = await s.execute(`return document.querySelector('h1').textContent`);
      const expected = JSON.parse(await readFile(CATALOGUE(lang), 'utf8'))['first_run.title'];
      assert.equal(seen[lang].trim(), expected, `the first-run title in ${lang}`);
      await screenshotDisplay(join(SHOTS, `installed-first-run-${lang}.png`));
    }
    assert.equal(new Set(Object.values(seen)).size, 3, JSON.stringify(seen));
  } finally {
    await s.quit();
  }
});
