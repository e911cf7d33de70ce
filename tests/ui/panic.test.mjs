// The panic shortcut and what is left in memory after a lock (issue 13,
// items 4 and 5), on the real release app under Xvfb. Run by
// scripts/test-ui.sh (see e2e.test.mjs for the environment it sets).
//
// 1. A vault is created through the window with a known passphrase, and an
//    interview with a canary narrative is saved and shown.
// 2. Another X window takes the keyboard focus; `xdotool key` presses
//    Ctrl+Alt+Shift+L; the app must lock (the unlock form comes back).
// 3. The memory of the app's process and of every WebKit process it started
//    is read as a core image would hold it (/proc/PID/mem, resident and
//    swapped pages; YADDASH_MEMTEST_GCORE=1 takes real `gcore` images
//    instead, minutes per process); each is searched for the passphrase, the recovery code,
//    the hex master key (read from the keyslot with the passphrase, as
//    `age -d` would), the raw master key, private-key text and the canary,
//    in UTF-8 and UTF-16LE. The counts are printed; any hit in the app's own
//    (Rust) process fails the test. WebKit processes are reported as
//    measured (docs/coercion.md, "Memory after lock").
// 4. SIGUSR1 (the Wayland fallback: a desktop shortcut running
//    `pkill -USR1 -x yaddash-app`) locks too.
import { test, after } from 'node:test';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync, scryptSync } from 'node:crypto';
import { chmod, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Session, sleep } from './webdriver.mjs';
import { screenshotDisplay } from './xshot.mjs';

const run = promisify(execFile);
const APP = process.env.YADDASH_APP_BIN;
const CLI = process.env.YADDASH_CLI_BIN;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.SCREENSHOT_DIR ?? 'target/ui-screenshots';
/** Distinct from every other test's passphrase, so that a hit is this test's. */
const PASSPHRASE = 'amber orchard whistle 4471 kanareyka';
/** The canary inside the narrative: a hit means decrypted testimony survived. */
const CANARY = 'QafqazCanary-7Q4Z-Mirvari-Testimony';
const NARRATIVE = `He was taken at dawn near the bazaar. ${CANARY}. Nothing was returned.`;

let s;
let work;
let other;

after(async () => {
  await s?.quit();
  if (appB) {
    try {
      process.kill(appB);
    } catch {
      /* already gone */
    }
  }
  other?.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

async function fill(css, text) {
  const el = await s.waitFor(css);
  await el.clear();
  await el.type(text);
}

/**
 * The master key in hex, from `keyslots/passphrase.age` (a standard age
 * file, scrypt recipient): what `age -d` with the passphrase prints, done
 * here with node's crypto so that the app need not reveal it.
 */
export function keyFromKeyslot(file, passphrase) {
  const end = file.indexOf('\n--- ');
  assert.ok(end > 0, 'the keyslot has no age header');
  const lines = file.subarray(0, end).toString('latin1').split('\n');
  assert.equal(lines[0], 'age-encryption.org/v1');
  const stanza = lines.findIndex((l) => l.startsWith('-> scrypt '));
  assert.ok(stanza > 0, 'the keyslot has no scrypt stanza');
  const [, , saltB64, logN] = lines[stanza].split(' ');
  const body = Buffer.from(lines.slice(stanza + 1).join(''), 'base64');
  const salt = Buffer.concat([Buffer.from('age-encryption.org/v1/scrypt'), Buffer.from(saltB64, 'base64')]);
  const N = 2 ** Number(logN);
  const wrap = scryptSync(passphrase, salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
  const open = (key, nonce, sealed) => {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  };
  const fileKey = open(wrap, Buffer.alloc(12), body);
  const payload = file.subarray(file.indexOf('\n', end + 1) + 1);
  const payloadKey = Buffer.from(hkdfSync('sha256', fileKey, payload.subarray(0, 16), 'payload', 32));
  const last = Buffer.alloc(12);
  last[11] = 1; // one chunk, the last
  const text = open(payloadKey, last, payload.subarray(16)).toString('utf8');
  const m = /^yaddash-vault-key-v1 ([0-9a-f]{64})\n$/.exec(text);
  assert.ok(m, 'the keyslot does not hold a vault key');
  return m[1];
}

/** The app's X window, given the keyboard focus (there is no window manager under Xvfb). */
async function focusApp() {
  const { stdout } = await run('xdotool', ['search', '--sync', '--onlyvisible', '--name', '^Yaddash$'], { timeout: 15_000 });
  const win = stdout.split('\n').filter(Boolean)[0];
  await run('xdotool', ['windowfocus', '--sync', win], { timeout: 15_000 });
  await s.waitUntil('return document.hasFocus()', [], { what: 'the app window to have the focus' });
}

/** Types text key by key into the focused window (XTEST), never through WebDriver. */
async function typeKeys(text) {
  await run('xdotool', ['type', '--delay', '8', '--', text], { timeout: 60_000 });
}

/**
 * Types a secret into a field with xdotool and checks, by its length only,
 * that every key arrived (a loaded machine can drop the first keys while the
 * field takes the focus); tries again from an empty field if not.
 */
async function typeSecretInto(css, secret) {
  for (let attempt = 1; ; attempt++) {
    const el = await s.waitFor(css);
    await el.clear();
    await el.click();
    await typeKeys(secret);
    // xdotool returns once the X server has the keys; the page may still be taking them.
    let length;
    for (let waited = 0; waited < 10_000; waited += 200) {
      length = await s.execute('return document.querySelector(arguments[0]).value.length', [css]);
      if (length === secret.length) return;
      await sleep(200);
    }
    assert.ok(attempt < 3, `typed ${secret.length} characters, the field got ${length}`);
  }
}

/** Counts every needle in a stream of byte slices; a slice continuing the previous one says so. */
class Counter {
  constructor(needles) {
    this.needles = needles;
    this.counts = new Map(needles.map((n) => [n.name, 0]));
    this.longest = Math.max(...needles.map((n) => n.bytes.length));
    this.tail = Buffer.alloc(0);
    this.places = [];
  }
  /**
   * `bytes` follows the previous slice in memory when `continues` is true;
   * `where` names the mapping (kept for the first hits, to say where they are).
   */
  feed(bytes, continues, where = '') {
    const carry = continues ? this.tail : Buffer.alloc(0);
    const view = carry.length ? Buffer.concat([carry, bytes]) : bytes;
    for (const n of this.needles) {
      let i = view.indexOf(n.bytes);
      while (i !== -1) {
        // A match ending inside the carried bytes was counted with the previous slice.
        if (i + n.bytes.length > carry.length && (!n.accept || n.accept(view, i + n.bytes.length))) {
          this.counts.set(n.name, this.counts.get(n.name) + 1);
          if (this.places.length < 20) this.places.push(`${n.name} in ${where}`);
        }
        i = view.indexOf(n.bytes, i + 1);
      }
    }
    this.tail = Buffer.from(view.subarray(Math.max(0, view.length - (this.longest + 16 - 1))));
  }
}

const PAGE = 4096;

/**
 * What a core image of the process would hold, without writing one: every
 * page of every readable mapping that is in RAM or in swap, read through
 * /proc/PID/mem (the same ptrace-guarded access gcore uses). Pages never
 * touched read as zeros and are skipped: the WebKit processes reserve tens of
 * GiB of address space, which made gcore images of 5 GiB and minutes per
 * process. Answers the counts and the bytes read.
 */
async function scanProcessMemory(pid, needles) {
  const counter = new Counter(needles);
  const maps = (await readFile(`/proc/${pid}/maps`, 'utf8')).split('\n').filter(Boolean);
  const mem = await open(`/proc/${pid}/mem`, 'r');
  const pagemap = await open(`/proc/${pid}/pagemap`, 'r');
  let scanned = 0;
  const WINDOW = 1 << 16; // pages per pagemap read
  const pm = Buffer.alloc(WINDOW * 8);
  const RUN_MAX = 4096; // pages per memory read (16 MiB)
  const data = Buffer.alloc(RUN_MAX * PAGE);
  try {
    for (const line of maps) {
      const [range, perms, , , , ...rest] = line.trim().split(/\s+/);
      const path = rest.join(' ');
      if (perms[0] !== 'r' || path === '[vvar]' || path === '[vsyscall]' || path === '[vvar_vclock]') continue;
      const [start, end] = range.split('-').map((h) => Number.parseInt(h, 16));
      let lastEnd = -1;
      for (let first = start / PAGE; first < end / PAGE; first += WINDOW) {
        const count = Math.min(WINDOW, end / PAGE - first);
        const { bytesRead } = await pagemap.read(pm, 0, count * 8, first * 8);
        const have = bytesRead / 8;
        let i = 0;
        while (i < have) {
          // bit 63: present in RAM, bit 62: in swap
          if ((pm[i * 8 + 7] & 0xc0) === 0) {
            i += 1;
            continue;
          }
          let j = i;
          while (j < have && j - i < RUN_MAX && (pm[j * 8 + 7] & 0xc0) !== 0) j += 1;
          const addr = (first + i) * PAGE;
          let got = 0;
          try {
            ({ bytesRead: got } = await mem.read(data, 0, (j - i) * PAGE, addr));
          } catch {
            got = 0; // an unreadable mapping (a guard page, a device)
          }
          if (got > 0) {
            counter.feed(data.subarray(0, got), addr === lastEnd, `${perms} ${path || '[anonymous]'} ${range}`);
            scanned += got;
            lastEnd = addr + got;
          }
          i = j;
        }
      }
    }
  } finally {
    await mem.close();
    await pagemap.close();
  }
  return { counts: counter.counts, scanned, places: counter.places };
}

/** Optional cross-check with a real core image (YADDASH_MEMTEST_GCORE=1; slow). */
async function scanWithGcore(pid, needles) {
  const prefix = join(work, 'core');
  await run('gcore', ['-o', prefix, String(pid)], { maxBuffer: 16 << 20, timeout: 600_000 });
  const core = `${prefix}.${pid}`;
  try {
    const counter = new Counter(needles);
    const f = await open(core, 'r');
    const buf = Buffer.alloc(32 << 20);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await f.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      counter.feed(buf.subarray(0, bytesRead), pos > 0);
      pos += bytesRead;
    }
    await f.close();
    return { counts: counter.counts, scanned: pos, places: counter.places };
  } finally {
    await rm(core, { force: true });
  }
}

async function childrenOf(pid) {
  try {
    const { stdout } = await run('pgrep', ['-P', String(pid)]);
    return stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function processName(pid) {
  return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
}

/**
 * Each secret as UTF-8 and UTF-16LE bytes (a Buffer as it is). A secret given
 * as `{ prefix, then }` counts only where the prefix is followed by 16
 * characters of the `then` set (a key's text form, not an error message
 * naming its prefix).
 */
function needlesFor(secrets) {
  const out = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (Buffer.isBuffer(value)) {
      out.push({ name, bytes: value });
      continue;
    }
    const text = typeof value === 'string' ? value : value.prefix;
    const then = typeof value === 'string' ? null : value.then;
    const follows = (width) => (view, end) => {
      for (let k = 0; k < 16; k++) {
        const at = end + k * width;
        if (at + width > view.length) return true; // cut by the slice: count it
        if (width === 2 && view[at + 1] !== 0) return false;
        if (!then.includes(String.fromCharCode(view[at]))) return false;
      }
      return true;
    };
    out.push({ name: `${name} (UTF-8)`, bytes: Buffer.from(text, 'utf8'), accept: then && follows(1) });
    out.push({ name: `${name} (UTF-16LE)`, bytes: Buffer.from(text, 'utf16le'), accept: then && follows(2) });
  }
  return out;
}

/** Starts the app over the test's vault through a wrapper that records its process id. */
async function startApp(label, { endWebProcess }) {
  const pidFile = join(work, `${label}.pid`);
  const wrapper = join(work, `${label}.sh`);
  const knob = endWebProcess ? 'unset YADDASH_TEST_KEEP_WEB_PROCESS' : 'YADDASH_TEST_KEEP_WEB_PROCESS=1; export YADDASH_TEST_KEEP_WEB_PROCESS';
  await writeFile(
    wrapper,
    `#!/bin/sh\necho $$ > '${pidFile}'\n${knob}\nYADDASH_VAULT='${vault}'\nexport YADDASH_VAULT\nexec '${APP}' "$@"\n`,
  );
  await chmod(wrapper, 0o755);
  s = await Session.start(URL, wrapper);
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  assert.equal(await processName(pid), 'yaddash-app');
  return pid;
}

/** Unlocks (the passphrase typed key by key) and saves and shows an interview with the canary. */
async function unlockAndShowCanary(person) {
  await s.waitFor('[data-testid=unlock-form]', { timeoutMs: 30_000 });
  await focusApp();
  await typeSecretInto('#secret', PASSPHRASE);
  await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
  await (await s.waitFor('[data-testid=new-record]', { timeoutMs: 60_000 })).click();
  await fill('[data-testid=person-name]', person);
  await s.clickText('label', 'Detainee');
  await (await s.find('[data-testid=save]')).click();
  await s.waitFor('[data-testid=person-page]');
  await (await s.find('[data-testid=new-interview]')).click();
  await s.waitFor('[data-testid=interview-form]');
  await fill('#iv-relation', 'brother');
  await fill('#iv-interviewer', 'Z. Q.');
  await fill('#iv-date', '2025-03-02');
  await s.clickText('label', 'Publish anonymously');
  await typeSecretInto('[data-testid=narrative]', NARRATIVE);
  await (await s.find('[data-testid=save]')).click();
  await s.waitFor('[data-testid=attachments]');
  // Read back from the vault and shown, as a user reads it.
  await s.clickText('nav button', 'Persons');
  await s.clickText('[data-testid=record-row]', person);
  await s.clickText('button.link', '2025-03-02');
  await s.waitFor('[data-testid=attachments]');
}

/** Gives another X window the keyboard focus and presses the panic shortcut with xdotool. */
async function pressPanicShortcutFromAnotherWindow() {
  other ??= spawn('xlogo', ['-geometry', '300x200+850+550'], { stdio: 'ignore' });
  const { stdout: found } = await run('xdotool', ['search', '--sync', '--class', 'xlogo'], { timeout: 15_000 });
  const otherWindow = found.split('\n').filter(Boolean)[0];
  await run('xdotool', ['windowfocus', '--sync', otherWindow], { timeout: 15_000 });
  const { stdout: focused } = await run('xdotool', ['getwindowfocus']);
  assert.equal(focused.trim(), otherWindow, 'the other window has the keyboard focus');
  await s.waitUntil('return !document.hasFocus()', [], { what: 'the app window to lose the focus' });
  await run('xdotool', ['key', '--clearmodifiers', 'ctrl+alt+shift+l']);
}

let needles;

/** Searches the app's process and each of its children; prints the counts; answers the app's own. */
async function measure(pid, what) {
  if (!needles) {
    const hexKey = keyFromKeyslot(await readFile(join(vault, 'keyslots', 'passphrase.age')), PASSPHRASE);
    needles = needlesFor({
      passphrase: PASSPHRASE,
      'master key, hex': hexKey,
      'master key, raw': Buffer.from(hexKey, 'hex'),
      'canary narrative': CANARY,
      // the storage and device keys' text forms (their values are not known to the test)
      'age private key text': { prefix: 'AGE-SECRET-KEY-1', then: 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L' },
      'OpenSSH private key text': { prefix: '-----BEGIN OPENSSH PRIVATE KEY-----', then: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n\r' },
    });
  }
  const report = [];
  for (const p of [pid, ...(await childrenOf(pid))]) {
    let name;
    try {
      name = await processName(p);
    } catch {
      continue; // a short-lived helper that already exited
    }
    const t0 = Date.now();
    const scan = process.env.YADDASH_MEMTEST_GCORE === '1' ? scanWithGcore : scanProcessMemory;
    const { counts, scanned, places } = await scan(p, needles);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    report.push({ pid: p, name, size: scanned, counts, total, places, ms: Date.now() - t0 });
  }
  console.log(`\nmemory after lock (${what}): occurrences in each process`);
  for (const r of report) {
    console.log(`  ${r.name} (pid ${r.pid}, ${(r.size / 2 ** 20).toFixed(0)} MiB read in ${r.ms} ms): ${r.total} hit(s)`);
    for (const [n, c] of r.counts) if (c) console.log(`      ${n}: ${c}`);
    if (r.pid === pid) for (const place of r.places) console.log(`      at: ${place}`);
  }
  assert.ok(report.length >= 2, 'the app and at least one WebKit process were read');
  return report.find((r) => r.pid === pid).total;
}

let vault;
let appB;

test('the panic shortcut locks an unfocused window, and nothing secret is left in the app after the lock', async (t) => {
  assert.ok(APP, 'YADDASH_APP_BIN must name the app binary');
  work = await mkdtemp(join(tmpdir(), 'yaddash-panic-'));
  vault = join(work, 'vault');
  // The vault comes from the CLI, so that the app process never saw a
  // recovery code, and secrets never pass through WebDriver (whose
  // automation session lives in the app's own process): they are typed
  // with xdotool, key by key, as a person types.
  assert.ok(CLI, 'YADDASH_CLI_BIN must name the CLI binary');
  await writeFile(join(work, 'pass'), PASSPHRASE, { mode: 0o600 });
  await run(CLI, ['init', '--vault', vault, '--role', 'field', '--passphrase-file', join(work, 'pass')], { timeout: 120_000 });
  await rm(join(work, 'pass'));

  const pid = await startApp('app-a', { endWebProcess: false });

  await t.test('unlock and a canary interview, typed as a person would', () => unlockAndShowCanary('Canary Person A'));

  await t.test('Ctrl+Alt+Shift+L from another window locks the app', async () => {
    await screenshotDisplay(join(SHOTS, 'panic-before-shortcut.png'));
    await pressPanicShortcutFromAnotherWindow();
    await s.waitFor('[data-testid=unlock-form]', { timeoutMs: 20_000 });
    assert.equal(await s.execute(`return document.querySelectorAll('[data-testid=narrative]').length`), 0);
    await screenshotDisplay(join(SHOTS, 'panic-after-shortcut.png'));
  });

  await t.test('after the lock no passphrase, key or testimony is left in the app process', async () => {
    await sleep(1000); // let the reloaded page settle
    const rustHits = await measure(pid, 'test mode: the page reloaded in the same web process');
    assert.equal(rustHits, 0, 'the app process (Rust) still holds secrets after the lock: see the counts above');
  });

  await t.test('SIGUSR1 (the Wayland fallback) locks too', async () => {
    await focusApp();
    await typeSecretInto('#secret', PASSPHRASE);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 60_000 });
    process.kill(pid, 'SIGUSR1');
    await s.waitFor('[data-testid=unlock-form]', { timeoutMs: 20_000 });
  });

  await t.test('Settings: the panic shortcut and its action, in English, Azerbaijani and Russian', async () => {
    await focusApp();
    await typeSecretInto('#secret', PASSPHRASE);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 60_000 });
    other?.kill(); // out of the screenshots
    other = undefined;
    await s.clickText('nav button', 'Settings');
    const panel = await s.waitFor('[data-testid=panic-global]');
    assert.equal(await s.execute(`return document.querySelector('[data-testid=panic-global]').dataset.global`), 'active');
    assert.match(await panel.text(), /Ctrl\+Alt\+Shift\+L works even while another program is in front/);
    const choose = (css, value) =>
      s.execute(`const sel = document.querySelector(arguments[0]); sel.value = arguments[1]; sel.dispatchEvent(new Event('change', { bubbles: true }));`, [css, value]);
    for (const [lang, title] of [
      ['en', 'Panic shortcut'],
      ['az', 'Təcili qısayol'],
      ['ru', 'Экстренное сочетание клавиш'],
    ]) {
      await choose('.lang select', lang);
      await s.waitUntil(`return document.querySelector('#panic-title')?.textContent === arguments[0]`, [title], { what: `the panic settings in ${lang}` });
      await s.execute(`document.querySelector('[data-testid=panic-settings]').scrollIntoView({ block: 'center' })`);
      await screenshotDisplay(join(SHOTS, `panic-settings-${lang}.png`));
    }
    await choose('.lang select', 'en');
    // Quick delete can be chosen (with its warning), and chosen back.
    await s.clickText('label', 'Quick delete');
    await s.waitFor('[data-testid=panic-settings] .error');
    await s.execute(`document.querySelector('[data-testid=panic-settings]').scrollIntoView({ block: 'center' })`);
    await screenshotDisplay(join(SHOTS, 'panic-settings-quick-delete.png'));
    await s.clickText('label', 'Lock and hide');
    await s.waitUntil(`return localStorage.getItem('yaddash.panic') === 'lock_and_hide'`, [], { what: 'the choice saved' });
    await s.quit();
    s = undefined;
  });

  await t.test('the real lock: the web process that showed the vault ends', async () => {
    appB = await startApp('app-b', { endWebProcess: true });
    await unlockAndShowCanary('Canary Person B');
    const before = await childrenOf(appB);
    const webBefore = [];
    for (const p of before) if ((await processName(p).catch(() => '')) === 'WebKitWebProces') webBefore.push(p);
    assert.ok(webBefore.length > 0, 'a WebKit web process shows the page');
    await pressPanicShortcutFromAnotherWindow();
    // WebKitWebDriver loses its session with the page's process: watch /proc instead.
    const deadline = Date.now() + 20_000;
    let fresh = [];
    for (;;) {
      const alive = webBefore.filter((p) => existsSync(`/proc/${p}`));
      const now = [];
      for (const p of await childrenOf(appB)) if ((await processName(p).catch(() => '')) === 'WebKitWebProces') now.push(p);
      fresh = now.filter((p) => !webBefore.includes(p));
      if (alive.length === 0 && fresh.length > 0) break;
      assert.ok(Date.now() < deadline, `the old web process ${alive} did not end, or no new one started`);
      await sleep(200);
    }
    await sleep(1500); // the fresh page loads the unlock screen
    await screenshotDisplay(join(SHOTS, 'panic-real-lock.png'));
    const rustHits = await measure(appB, 'real lock: the web process ended, the page loaded in a new one');
    assert.equal(rustHits, 0, 'the app process (Rust) still holds secrets after the lock: see the counts above');
  });
});
