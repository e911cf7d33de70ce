// Screenshots of the first run, the empty states and the user guide in en, az
// and ru (issue 16 item 8), for a person to look at. Not part of the suite:
//   scripts/test-ui.sh's environment, then
//   YADDASH_APP_BIN=… WEBDRIVER_URL=… SCREENSHOT_DIR=… node tests/ui/help-shots.mjs
import { join } from 'node:path';
import { Session, sleep } from './webdriver.mjs';
import { screenshotDisplay } from './xshot.mjs';

const APP = process.env.YADDASH_APP_BIN;
const URL_ = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.SCREENSHOT_DIR ?? 'target/help-screenshots';
const PASS = 'quiet river lantern seventeen';

const s = await Session.start(URL_, APP);
const shot = async (name) => {
  await sleep(400);
  await screenshotDisplay(join(SHOTS, `${name}.png`));
};
const lang = (l) =>
  s.execute(
    `const sel = document.querySelector('.lang select'); sel.value = arguments[0]; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
    [l],
  );
const nav = (i) => s.execute(`[...document.querySelectorAll('nav button.navbtn')].at(arguments[0]).click()`, [i]);
try {
  await s.waitFor('[data-testid=create-form]');
  for (const l of ['en', 'az', 'ru']) {
    await lang(l);
    await shot(`first-run-${l}`);
  }
  await lang('en');
  await (await s.waitFor('[data-testid=guide-link]')).click();
  await s.waitFor('[data-testid=guide]');
  await shot('first-run-guide-en');
  await s.execute(`document.querySelector('[data-testid=guide] header button').click()`);
  const fill = async (css, text) => {
    const el = await s.waitFor(css);
    await el.clear();
    await el.type(text);
  };
  await fill('#pp', PASS);
  await fill('#pp2', PASS);
  await (await s.find('[data-testid=create-form] button[type=submit]')).click();
  const code = (await (await s.waitFor('[data-testid=recovery-code]', { timeoutMs: 60_000 })).text()).trim();
  await s.clickText('button', 'I have written it down');
  const groups = code.split('-');
  for (const input of await s.findAll('input.group')) {
    const n = Number(String(await input.property('id')).replace('grp-', ''));
    await input.type(groups[n - 1]);
  }
  await s.clickText('button', 'Finish');
  await s.waitFor('[data-testid=new-record]');
  for (const l of ['en', 'az', 'ru']) {
    await nav(-1); // settings: the language switch
    await s.waitFor('.lang select');
    await lang(l);
    await nav(0);
    await s.waitFor('[data-testid=new-record]');
    await shot(`records-empty-${l}`);
    await s.execute(`document.querySelector('[data-testid=tab-case]').click()`);
    await shot(`cases-empty-${l}`);
    await nav(1);
    await shot(`outbox-empty-${l}`);
    await nav(2);
    await (await s.waitFor('[data-testid=guide-link]')).click();
    await s.waitFor('[data-testid=guide]');
    await shot(`sync-guide-${l}`);
    await s.execute(`document.querySelector('[data-testid=guide] header button').click()`);
    await nav(3);
    await (await s.waitFor('[data-testid=guide-link]')).click();
    await s.waitFor('[data-testid=guide]');
    await shot(`travel-guide-${l}`);
    await s.execute(`document.querySelector('[data-testid=guide] header button').click()`);
  }
  console.log('help screenshots: 20 passed, 0 failed');
} finally {
  await s.quit();
}
