// End-to-end test of the real desktop app under Xvfb, through tauri-driver and
// WebKitWebDriver. Run by scripts/test-ui.sh, which builds the app, starts
// Xvfb and tauri-driver, and sets:
//   YADDASH_APP_BIN     the app binary
//   WEBDRIVER_URL       tauri-driver's address (default http://127.0.0.1:4444)
//   SCREENSHOT_DIR      where a PNG of every visited screen is saved
// The app inherits YADDASH_VAULT (a fresh temporary directory) and the
// test-only YADDASH_KDF_WORK_FACTOR from tauri-driver's environment. The
// coordinator's app runs over another vault, through a small wrapper script
// that sets YADDASH_VAULT and execs the same binary.
import { test, before, after } from 'node:test';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { Keys, Session, sleep } from './webdriver.mjs';
import { screenshotDisplay } from './xshot.mjs';

const APP = process.env.YADDASH_APP_BIN;
const URL = process.env.WEBDRIVER_URL ?? 'http://127.0.0.1:4444';
const SHOTS = process.env.SCREENSHOT_DIR ?? 'target/ui-screenshots';
const PASSPHRASE = 'quiet river lantern seventeen';
/** The CLI and the HQ server, for the network sync part (optional). */
const CLI = process.env.YADDASH_CLI_BIN;
const HQ = process.env.YADDASH_HQ_BIN;

let s;
let shot = 0;
/** Files carried between the vaults (the "USB stick"). */
let STICK;
/** The app over the coordinator's vault. */
let COORD_APP;
/** The coordinator's vault directory (the CLI opens it to issue an enrollment code). */
let COORD_VAULT;
/** The HQ server process started for the sync part. */
let hqServer;

async function screenshot(name) {
  shot += 1;
  await sleep(250); // let transitions and images settle
  // The X display as a person sees it (see xshot.mjs for why not WebDriver's screenshot).
  await screenshotDisplay(join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`));
}

async function fill(css, text) {
  const el = await s.waitFor(css);
  await el.clear();
  await el.type(text);
  return el;
}

/** A small real PNG (a calm gradient) so the preview has something to show. */
function makePng(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = 30 + Math.round((x / w) * 60);
      raw[o + 1] = 94 + Math.round((y / h) * 80);
      raw[o + 2] = 87 + Math.round((x / w) * 40);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

before(async () => {
  assert.ok(APP, 'YADDASH_APP_BIN must name the app binary');
  await mkdir(SHOTS, { recursive: true });
  STICK = await mkdtemp(join(tmpdir(), 'yaddash-stick-'));
  const coordVault = join(await mkdtemp(join(tmpdir(), 'yaddash-coord-')), 'vault');
  COORD_VAULT = coordVault;
  COORD_APP = join(STICK, '..', `${STICK.split('/').pop()}-coordinator-app.sh`);
  await writeFile(COORD_APP, `#!/bin/sh\nYADDASH_VAULT='${coordVault}'\nexport YADDASH_VAULT\nexec '${APP}' "$@"\n`);
  await chmod(COORD_APP, 0o755);
});

/** First run through the window: role, passphrase, recovery code shown and confirmed. */
async function createVault(role, prefix) {
  await s.waitFor('[data-testid=create-form]');
  await screenshot(`${prefix}first-run`);
  if (role === 'coordinator') await s.clickText('label', 'Coordinator');
  await fill('#pp', PASSPHRASE);
  await fill('#pp2', PASSPHRASE);
  await screenshot(`${prefix}first-run-filled`);
  await (await s.find('[data-testid=create-form] button[type=submit]')).click();
  const code = await s.waitFor('[data-testid=recovery-code]', { timeoutMs: 60_000 });
  const recoveryCode = (await code.text()).trim();
  assert.match(recoveryCode, /^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$/);
  await screenshot(`${prefix}recovery-code`);
  await s.clickText('button', 'I have written it down');
  const inputs = await s.findAll('input.group');
  assert.equal(inputs.length, 2);
  const groups = recoveryCode.split('-');
  for (const input of inputs) {
    const id = await input.property('id');
    const n = Number(String(id).replace('grp-', ''));
    await input.type(groups[n - 1]);
  }
  await screenshot(`${prefix}recovery-confirm`);
  await s.clickText('button', 'Finish');
  await s.waitFor('[data-testid=new-record]');
  return recoveryCode;
}

after(async () => {
  await s?.quit();
  hqServer?.kill();
});

/** A loopback port nothing listens on (for a proxy that is down). */
async function deadPort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `yaddash-hq init` over the coordinators' trust file, then `serve` on
 * loopback; answers the URL and the server key `init` printed (what a
 * coordinator puts in the trust file for field devices to pin).
 */
async function startHq(trust) {
  const data = await mkdtemp(join(tmpdir(), 'yaddash-hq-'));
  const init = await promisify(execFile)(HQ, ['init', '--data', data, '--trust', trust]);
  const key = /^server key:\s+(ssh-ed25519 \S+)/m.exec(init.stdout)?.[1];
  assert.ok(key, `yaddash-hq init printed no server key: ${init.stdout}`);
  hqServer = spawn(HQ, ['serve', '--data', data, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: hqServer.stdout });
  for await (const line of lines) {
    const m = /^listening on (http:\/\/\S+)/.exec(line.trim());
    if (m) return { url: m[1], key };
  }
  throw new Error('yaddash-hq did not say where it listens');
}

async function unlockApp() {
  await s.waitFor('[data-testid=unlock-form]');
  await fill('#secret', PASSPHRASE);
  await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
  await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 });
}

/** Chooses a radio button or toggles a checkbox by its label text. */
async function clickLabel(text) {
  await s.clickText('label', text);
}

/** Sets an input's value as typing would (also to empty, which WebDriver cannot type). */
async function setValue(css, value) {
  await s.waitFor(css);
  await s.execute(
    `const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true }));`,
    [css, value],
  );
}

async function outboxStates() {
  return s.execute(`return [...document.querySelectorAll('[data-testid=outbox-row]')].map(r => r.dataset.seq + ':' + r.dataset.state)`);
}

test('the desktop app: create, lock, unlock, record, attach, search', async (t) => {
  let recoveryCode;

  await t.test('coordinator: a vault, and the trust file for field vaults', async () => {
    s = await Session.start(URL, COORD_APP);
    await createVault('coordinator', 'coordinator-');
    await s.clickText('nav button', 'Import & devices');
    await fill('#trust-out', join(STICK, 'trust.json'));
    await s.clickText('button', 'Write trust file');
    const written = await s.waitFor('[data-testid=trust-written]', { timeoutMs: 30_000 });
    assert.match(await written.text(), /[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}/);
    await s.execute(`document.querySelector('[data-testid=trust-written]').scrollIntoView({ block: 'end' })`);
    await screenshot('coordinator-trust-written');
    await s.quit();
    s = undefined;
  });

  await t.test('first run creates a vault and shows the recovery code once', async () => {
    s = await Session.start(URL, APP);
    recoveryCode = await createVault('field', '');
    await screenshot('records-empty');
  });

  await t.test('lock and unlock', async () => {
    await (await s.find('[data-testid=lock]')).click();
    await s.waitFor('[data-testid=unlock-form]');
    await screenshot('unlock');
    await fill('#secret', 'not the passphrase');
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=unlock-form] .error', { timeoutMs: 30_000 });
    await screenshot('unlock-wrong-passphrase');
    await fill('#secret', PASSPHRASE);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 });
  });

  let personUrlId;
  await t.test('add a person with a Cyrillic name', async () => {
    await (await s.find('[data-testid=new-record]')).click();
    await fill('[data-testid=person-name]', 'Мамедов Ильгар');
    await s.clickText('button', 'Add another spelling');
    const names = await s.findAll('[data-testid=person-name]');
    await names[1].type('Ilqar Məmmədov');
    await fill('#by', '1970');
    await s.clickText('label', 'Detainee');
    await screenshot('person-form');
    await (await s.find('[data-testid=save]')).click();
    await s.waitFor('[data-testid=person-page]');
    const title = await (await s.find('#person-title')).text();
    assert.equal(title, 'Мамедов Ильгар');
    await screenshot('person-page');
    personUrlId = true;
  });

  let sha;
  await t.test('add an interview with an attachment, shown from memory', async () => {
    assert.ok(personUrlId);
    await (await s.find('[data-testid=new-interview]')).click();
    await s.waitFor('[data-testid=interview-form]');
    await fill('#iv-relation', 'sister');
    await fill('#iv-interviewer', 'A. K.');
    await fill('#iv-date', '2024-11-20');
    await s.clickText('label', 'Publish anonymously');
    await fill(
      '[data-testid=narrative]',
      'Он был задержан ночью у дома. Qardaşımı gecə evin qarşısında saxladılar; the lawyer was not admitted for three days.',
    );
    await screenshot('interview-form');
    await (await s.find('[data-testid=save]')).click();
    await s.waitFor('[data-testid=attachments]');

    const dir = await mkdtemp(join(tmpdir(), 'yaddash-e2e-'));
    const png = makePng(320, 180);
    sha = createHash('sha256').update(png).digest('hex');
    const file = join(dir, 'court-decision.png');
    await writeFile(file, png);
    const input = await s.find('[data-testid=attachment-input]');
    await input.type(file);
    const shaCell = await s.waitFor('[data-testid=attachment-sha256]', { timeoutMs: 30_000 });
    assert.equal((await shaCell.text()).trim(), sha, 'the capture hash shown is the file’s SHA-256');
    // The preview comes through the yaddash-attachment protocol, decrypted in memory.
    const width = await s.waitUntil(
      `const img = document.querySelector('[data-testid=attachment] img'); return img && img.complete && img.naturalWidth`,
      [],
      { what: 'the attachment preview to load' },
    );
    assert.equal(width, 320);
    await s.execute(`document.querySelector('[data-testid=attachments]').scrollIntoView()`);
    await screenshot('interview-attachment');
  });

  await t.test('find the person by a Latin spelling variant', async () => {
    await s.clickText('nav button', 'Persons');
    await s.waitFor('[data-testid=search]');
    for (const q of ['mammadov', 'Mamedov', 'ilgar mam']) {
      await fill('[data-testid=search]', q);
      const row = await s.waitUntilElement(
        `return [...document.querySelectorAll('[data-testid=record-row]')].find(e => e.textContent.includes('Мамедов Ильгар')) || null`,
        [],
        `a hit for ${q}`,
      );
      assert.ok(row);
    }
    await screenshot('search-latin-variant');
    await s.clickText('[data-testid=record-row]', 'Мамедов');
    await s.waitFor('[data-testid=person-page]');
    await s.clickText('button', 'History');
    await s.waitFor('[data-testid=revision]');
    await screenshot('history');
  });

  await t.test('the interview is linked and its history kept', async () => {
    await s.clickText('button', 'Back');
    await s.waitFor('[data-testid=person-page]');
    await s.clickText('button.link', '2024-11-20');
    await s.waitFor('[data-testid=attachment]');
    await s.clickText('button', 'History');
    await s.waitFor('[data-testid=revision]');
  });

  await t.test('outbox, coordinator and settings screens', async () => {
    await s.clickText('nav button', 'Outbox');
    await s.waitFor('[data-testid=export-form]');
    await screenshot('outbox');
    await s.clickText('nav button', 'Import');
    await s.waitFor('#import-path');
    await screenshot('coordinator');
    await s.clickText('nav button', 'Settings');
    await s.waitFor('#idle');
    await screenshot('settings');
  });

  await t.test('languages switch at run time; dark theme', async () => {
    const choose = (css, value) =>
      s.execute(
        `const sel = document.querySelector(arguments[0]); sel.value = arguments[1]; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
        [css, value],
      );
    try {
      await choose('.lang select', 'az');
      await s.waitUntil(`return document.querySelector('#settings-title')?.textContent === 'Ayarlar'`);
      await screenshot('settings-az');
      // An error from the backend, in the user's language: the catalogue sentence for its code, the
      // English detail only behind "Details" (a relative path is refused as path_not_absolute).
      await fill('#identity-path', 'relative-device.json');
      await s.execute(`document.querySelector('[data-testid=identity-form]').requestSubmit()`);
      const alertAz = await s.waitFor('[data-testid=identity-form] [data-code=path_not_absolute]', { timeoutMs: 30_000 });
      assert.match(await alertAz.text(), /Faylı tam yeri ilə seçin/);
      assert.doesNotMatch(await alertAz.text(), /must be absolute/);
      await (await s.find('[data-testid=identity-form] [role=alert] button')).click();
      await s.waitUntil(`return document.querySelector('[data-testid=identity-form] [role=alert]')?.textContent.includes('must be absolute')`, [], { what: 'the English detail behind Details' });
      await s.execute(`document.querySelector('[data-testid=identity-form]').scrollIntoView({ block: 'center' })`);
      await screenshot('error-az');
      await choose('#theme', 'dark');
      await choose('.lang select', 'ru');
      await s.waitUntil(`return document.querySelector('#settings-title')?.textContent === 'Настройки'`);
      await s.waitUntil(`return document.querySelector('[data-testid=identity-form] [role=alert]')?.textContent.includes('Выберите файл с полным расположением')`, [], { what: 'the error in Russian' });
      await s.execute(`document.querySelector('[data-testid=identity-form]').scrollIntoView({ block: 'center' })`);
      await screenshot('error-ru-dark');
      await s.execute(`window.scrollTo(0, 0)`);
      await screenshot('settings-ru-dark');
      await s.clickText('nav button', 'Лица и дела');
      await s.waitUntil(`return [...document.querySelectorAll('[data-testid=record-row]')].some(e => e.textContent.includes('Мамедов'))`, [], {
        what: 'the person list in Russian',
      });
      await screenshot('records-ru-dark');
      await s.clickText('[data-testid=record-row]', 'Мамедов');
      await s.waitFor('[data-testid=person-page]');
      await screenshot('person-page-ru-dark');
    } finally {
      // Back to English and the system theme for the rest.
      await s.execute(`[...document.querySelectorAll('nav button.navbtn')].at(-1)?.click()`);
      await s.waitFor('#theme').catch(() => {});
      await choose('#theme', 'system').catch(() => {});
      await choose('.lang select', 'en').catch(() => {});
    }
  });

  await t.test('the panic shortcut locks at once', async () => {
    await s.keys(Keys.CONTROL, Keys.SHIFT, 'L');
    await s.waitFor('[data-testid=unlock-form]');
    const body = await s.execute(`return document.body.innerText`);
    assert.ok(!body.includes('Мамедов'), 'nothing of the vault stays on screen');
    await screenshot('after-panic-lock');
    await s.clickText('button', 'Use the recovery code instead');
    await fill('#secret', recoveryCode.toLowerCase());
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 });
  });

  let fieldFingerprint;
  await t.test('field: import the trust file, save this device’s identity', async () => {
    await s.clickText('nav button', 'Settings');
    await s.waitFor('[data-testid=trust-card]');
    await screenshot('settings-no-trust');
    await fill('#trust-path', join(STICK, 'trust.json'));
    await s.clickText('[data-testid=trust-form] button', 'Import');
    const fp = await s.waitFor('[data-testid=trust-fingerprint]', { timeoutMs: 30_000 });
    assert.match(await fp.text(), /^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
    const coordinators = await s.findAll('[data-testid=coordinator-fingerprint]');
    assert.equal(coordinators.length, 1);
    await s.execute(`document.querySelector('[data-testid=trust-card]').scrollIntoView()`);
    await screenshot('settings-trust-imported');
    fieldFingerprint = (await (await s.find('[data-testid=device-fingerprint]')).text()).trim();
    assert.match(fieldFingerprint, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    await fill('#identity-path', join(STICK, 'field-device.json'));
    await s.clickText('[data-testid=identity-form] button', 'Save identity file');
    await s.waitFor('[data-testid=identity-form] .notice', { timeoutMs: 30_000 });
    const identity = JSON.parse(await readFile(join(STICK, 'field-device.json'), 'utf8'));
    assert.ok(identity.device_id && identity.signing_key.startsWith('ssh-ed25519 ') && identity.age_recipient.startsWith('age1'));
    await s.execute(`document.querySelector('[data-testid=device-card]').scrollIntoView()`);
    await screenshot('settings-device-identity');
  });

  await t.test('field: write a bundle from the Outbox', async () => {
    await s.clickText('nav button', 'Outbox');
    await s.waitUntil(`return document.querySelector('[data-testid=pending-records]')?.textContent.trim() === '2'`, [], {
      what: 'two records waiting',
    });
    await fill('#bundle-path', join(STICK, 'field-1.ydb'));
    await s.clickText('[data-testid=export-form] button', 'Write bundle');
    const result = await s.waitFor('[data-testid=export-result]', { timeoutMs: 60_000 });
    assert.match(await result.text(), /Bundle written: 2 records/);
    const row = await s.waitFor('[data-testid=bundle-row]');
    assert.match(await row.text(), /#1/);
    assert.match(await row.text(), /Not confirmed yet/);
    await screenshot('outbox-bundle-written');
    await s.quit();
    s = undefined;
  });

  await t.test('coordinator: enroll the device, import the bundle, find the person by a Latin spelling', async () => {
    s = await Session.start(URL, COORD_APP);
    await s.waitFor('[data-testid=unlock-form]');
    await fill('#secret', PASSPHRASE);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 });
    await s.clickText('nav button', 'Import & devices');
    await fill('#enroll-path', join(STICK, 'field-device.json'));
    await fill('#enroll-label', 'Field laptop, Ganja');
    await s.clickText('[data-testid=enroll-form] button', 'Enroll');
    const enrolled = await s.waitFor('[data-testid=enroll-result]', { timeoutMs: 30_000 });
    assert.ok((await enrolled.text()).includes(fieldFingerprint), 'the enrolled fingerprint is the one the field user reads');
    await s.waitFor('[data-testid=device-row]');
    await screenshot('coordinator-device-enrolled');
    await fill('#import-path', join(STICK, 'field-1.ydb'));
    await s.clickText('[data-testid=import-form] button', 'Import');
    const imported = await s.waitFor('[data-testid=import-result]', { timeoutMs: 60_000 });
    assert.match(await imported.text(), /Imported 2 new records/);
    await screenshot('coordinator-bundle-imported');
    await s.clickText('nav button', 'Persons & cases');
    await s.waitFor('[data-testid=search]');
    for (const q of ['mammadov', 'Mamedov']) {
      await fill('[data-testid=search]', q);
      await s.waitUntilElement(
        `return [...document.querySelectorAll('[data-testid=record-row]')].find(e => e.textContent.includes('Мамедов Ильгар')) || null`,
        [],
        `a hit for ${q} in the coordinator vault`,
      );
    }
    await screenshot('coordinator-search-latin-variant');
    await s.clickText('[data-testid=record-row]', 'Мамедов');
    await s.waitFor('[data-testid=person-page]');
    assert.equal(await (await s.find('#person-title')).text(), 'Мамедов Ильгар');
    await screenshot('coordinator-person-page');
  });

  await t.test('coordinator: the history says where each revision came from; a one-time enrollment code', async () => {
    await s.clickText('button', 'History');
    await s.waitFor('[data-testid=revision]');
    const origin = await s.waitUntilElement(
      `return [...document.querySelectorAll('[data-testid=origin]')].find(e => e.textContent.includes('Field laptop, Ganja')) || null`,
      [],
      'the provenance of the imported revision',
    );
    const text = await origin.text();
    assert.match(text, /bundle [0-9a-f]{12}… no\. 1, its revision \d+/, text);
    assert.match(text, /imported/, text);
    await screenshot('coordinator-history-provenance');

    await s.clickText('nav button', 'Import & devices');
    await s.waitFor('[data-testid=invite-form]');
    await (await s.find('#invite-hours option[value="1"]')).click();
    await s.clickText('[data-testid=invite-form] button', 'Make a code');
    const code = await s.waitFor('[data-testid=invite-code]');
    assert.match(await code.text(), /^YDE1-[A-Z2-7]+$/);
    assert.match(await (await s.find('[data-testid=invite-result]')).text(), /Valid until/);
    await s.execute(`document.querySelector('[data-testid=invite-result]').scrollIntoView({ block: 'center' })`);
    await screenshot('coordinator-enrollment-code');
  });

  await t.test('coordinator: the register lists the imported detainee; status by hand with a reason; export', async () => {
    await s.clickText('nav button', 'Register');
    const row = await s.waitUntilElement(
      `return [...document.querySelectorAll('[data-testid=register-row]')].find(e => e.textContent.includes('Мамедов Ильгар')) || null`,
      [],
      'the imported person in the register',
    );
    assert.match(await row.text(), /Unknown/);
    await screenshot('coordinator-register');
    await row.click();
    await s.waitFor('[data-testid=override-form]');
    await s.execute(
      `const sel = document.querySelector('#override-status'); sel.value = 'in_exile'; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
    );
    // No reason: refused in the window, nothing saved.
    await s.clickText('[data-testid=override-form] button', 'Save status');
    const alert = await s.waitFor('[data-testid=override-form] [role=alert]');
    assert.match(await alert.text(), /Say why/);
    await fill('#override-reason', 'Left the country; confirmed by his sister by phone.');
    await s.clickText('[data-testid=override-form] button', 'Save status');
    const current = await s.waitFor('[data-testid=override-current]', { timeoutMs: 30_000 });
    assert.match(await current.text(), /In exile.*confirmed by his sister/);
    await s.waitUntil(
      `return [...document.querySelectorAll('[data-testid=register-row]')].some(e => e.textContent.includes('In exile') && e.textContent.includes('set by hand'))`,
      [],
      { what: 'the status set by hand in the list' },
    );
    await s.execute(`document.querySelector('[data-testid=override-form]').scrollIntoView()`);
    await screenshot('coordinator-register-override');
    const out = join(STICK, 'register-internal.csv');
    await s.execute(
      `const sel = document.querySelector('#export-level'); sel.value = 'internal'; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
    );
    await fill('#export-path', out);
    await s.clickText('[data-testid=register-export-form] button', 'Export');
    const exported = await s.waitFor('[data-testid=register-exported]', { timeoutMs: 30_000 });
    assert.match(await exported.text(), /persons in it: 1\b/);
    const csv = await readFile(out, 'utf8');
    assert.ok(csv.includes('Мамедов Ильгар') && csv.includes('in_exile'), 'the internal CSV holds the person and the status');
    await s.execute(`document.querySelector('[data-testid=register-export-form]').scrollIntoView()`);
    await screenshot('coordinator-register-exported');
  });

  await t.test('coordinator: a second report of the same man is suggested as a duplicate; merge, unmerge, mark distinct', async () => {
    await s.clickText('nav button', 'Persons & cases');
    await (await s.waitFor('[data-testid=new-record]')).click();
    await fill('[data-testid=person-name]', 'Mamedov Ilgar');
    await fill('#by', '1970');
    await s.clickText('label', 'Detainee');
    await (await s.find('[data-testid=save]')).click();
    await s.waitFor('[data-testid=person-page]');
    await s.clickText('nav button', 'Register');
    const dup = await s.waitFor('[data-testid=duplicate]', { timeoutMs: 30_000 });
    const text = await dup.text();
    assert.ok(text.includes('Mamedov Ilgar') && text.includes('Мамедов Ильгар'), text);
    assert.match(text, /Score 0\.\d+|Score 1/);
    await s.execute(`document.querySelector('[data-testid=duplicate]').scrollIntoView()`);
    await screenshot('coordinator-register-duplicate');
    await s.clickText('[data-testid=duplicate] button', 'Merge into the first');
    await s.waitFor('[data-testid=merge]', { timeoutMs: 30_000 });
    await s.waitUntil(`return document.querySelectorAll('[data-testid=register-row]').length === 1`, [], { what: 'one line after the merge' });
    await s.execute(`document.querySelector('[data-testid=merge]').scrollIntoView()`);
    await screenshot('coordinator-register-merged');
    await s.clickText('[data-testid=merge] button', 'Unmerge');
    await s.waitFor('[data-testid=duplicate]', { timeoutMs: 30_000 });
    await s.waitUntil(`return document.querySelectorAll('[data-testid=register-row]').length === 2`, [], { what: 'two lines after the unmerge' });
    await s.clickText('[data-testid=duplicate] button', 'Different people');
    await s.waitFor('[data-testid=dups-none]', { timeoutMs: 30_000 });
  });
  await t.test('field: the Sync screen — outbox states, kill switch, a proxy that is down, travel status', async () => {
    await s.quit();
    s = await Session.start(URL, APP);
    await unlockApp();
    await s.clickText('nav button', 'Sync');
    await s.waitFor('[data-testid=policy-form]');
    // Bundle #1 was written to a file: handed over, no receipt yet.
    await s.waitUntil(`return document.querySelectorAll('[data-testid=outbox-row]').length === 1`, [], { what: 'one bundle in the outbox table' });
    assert.deepEqual(await outboxStates(), ['1:handed-over']);
    assert.match(await (await s.find('[data-testid=network-state]')).text(), /Network allowed/);
    await screenshot('sync-defaults');
    // The kill switch, on then off.
    await (await s.find('[data-testid=kill-switch]')).click();
    await s.waitUntil(`return document.querySelector('[data-testid=network-state]').textContent.includes('Network stopped')`, [], { what: 'the kill switch on' });
    await screenshot('sync-kill-switch-on');
    await (await s.find('[data-testid=kill-switch]')).click();
    await s.waitUntil(`return document.querySelector('[data-testid=network-state]').textContent.includes('Network allowed')`, [], { what: 'the kill switch off' });
    // A bad policy is refused in the window.
    await fill('#pol-windows', '25:00-01:00');
    await s.clickText('[data-testid=policy-form] button', 'Save policy');
    const errs = await s.waitFor('[data-testid=policy-errors]');
    assert.match(await errs.text(), /22:00-05:30/);
    await fill('#pol-windows', '22:00-05:30');
    await fill('#pol-offset', '+04:00');
    await clickLabel('Through a SOCKS5 proxy such as Tor');
    await fill('#pol-proxy', 'socks5://127.0.0.1:9150');
    await s.clickText('[data-testid=policy-form] button', 'Save policy');
    await s.waitFor('[data-testid=policy-saved]', { timeoutMs: 30_000 });
    assert.equal(await (await s.find('#pol-proxy')).property('value'), 'socks5h://127.0.0.1:9150', 'socks5 becomes socks5h');
    await s.execute(`document.querySelector('[data-testid=policy-form]').scrollIntoView()`);
    await screenshot('sync-policy-proxy-saved');
    // Back to direct for what follows.
    await clickLabel('Directly');
    await setValue('#pol-windows', '');
    await s.clickText('[data-testid=policy-form] button', 'Save policy');
    await s.waitUntil(`return document.querySelector('[data-testid=policy-saved]') && !document.querySelector('#pol-proxy')`, [], { what: 'the direct route saved' });

    await s.clickText('nav button', 'Travel mode');
    const removable = await s.waitFor('[data-testid=travel-removable]', { timeoutMs: 30_000 });
    assert.match(await removable.text(), /^0 record/);
    assert.match(await (await s.find('[data-testid=travel-remaining]')).text(), /2 record/);
    assert.match(await (await s.find('[data-testid=travel-ssd]')).text(), /SSD/);
    await screenshot('travel-status');
  });

  await t.test('a real sync: enroll at a loopback yaddash-hq, proxy down, send, the coordinator pulls, receipts come back, travel mode removes', async (tt) => {
    if (!CLI || !HQ) {
      tt.skip('YADDASH_CLI_BIN / YADDASH_HQ_BIN not set');
      return;
    }
    await s.quit();
    s = undefined;
    const { url: hqUrl, key: serverKey } = await startHq(join(STICK, 'trust.json'));
    const pf = join(STICK, '..', `${STICK.split('/').pop()}-coordinator-passphrase`);
    await writeFile(pf, PASSPHRASE, { mode: 0o600 });
    const { stdout } = await promisify(execFile)(CLI, ['--vault', COORD_VAULT, '--passphrase-file', pf, '--json', 'hq', 'invite', '--expires', '1h']);
    const code = JSON.parse(stdout).code;
    assert.match(code, /^YDE1-/);
    // The trust file the field device holds names no server key (it was
    // written before the server existed): the coordinator writes it again
    // with the key `yaddash-hq init` printed, for the device to pin.
    const pinnedTrust = join(STICK, 'trust-with-server-key.json');
    await promisify(execFile)(CLI, ['--vault', COORD_VAULT, '--passphrase-file', pf, 'trust', 'export', '--server-key', serverKey, '--out', pinnedTrust]);

    s = await Session.start(URL, APP);
    await unlockApp();
    // Something new to send.
    await (await s.find('[data-testid=new-record]')).click();
    await fill('[data-testid=person-name]', 'Гасанов Рауф');
    await (await s.find('[data-testid=save]')).click();
    await s.waitFor('[data-testid=person-page]');

    await s.clickText('nav button', 'Sync');
    await fill('#enroll-code', code);
    await fill('#enroll-url', hqUrl);
    await screenshot('sync-enroll');
    // Without a pinned server key the device refuses to join (an impostor
    // server could otherwise take the code and every bundle after it).
    await s.clickText('[data-testid=enroll-hq-form] button', 'Join');
    const refused = await s.waitFor('[data-testid=enroll-error]', { timeoutMs: 30_000 });
    assert.match(await refused.text(), /server key/i);
    await screenshot('sync-enroll-no-server-key');

    await s.clickText('nav button', 'Settings');
    await fill('#trust-path', pinnedTrust);
    await s.clickText('[data-testid=trust-form] button', 'Import');
    await s.waitFor('[data-testid=trust-server-fingerprint]', { timeoutMs: 30_000 });
    await s.execute(`document.querySelector('[data-testid=trust-server-fingerprint]').scrollIntoView({ block: 'center' })`);
    await screenshot('settings-trust-server-key');

    await s.clickText('nav button', 'Sync');
    await fill('#enroll-code', code);
    await fill('#enroll-url', hqUrl);
    await s.clickText('[data-testid=enroll-hq-form] button', 'Join');
    const joined = await s.waitUntil(
      `return document.querySelector('[data-testid=enrolled]')?.textContent || (document.querySelector('[data-testid=enroll-error]') ? 'ERROR ' + document.querySelector('[data-testid=enroll-error]').textContent : null)`,
      [],
      { what: 'joining the HQ server', timeoutMs: 30_000 },
    );
    assert.ok(joined.includes(hqUrl), joined);
    await s.waitUntil(`return document.querySelector('#pol-enabled')?.checked === true`, [], { what: 'joining turned sync on' });

    // The proxy is required and down: nothing is sent, nothing is tried directly.
    await clickLabel('Through a SOCKS5 proxy such as Tor');
    await fill('#pol-proxy', `socks5h://127.0.0.1:${await deadPort()}`);
    await clickLabel('Require the proxy');
    await s.clickText('[data-testid=policy-form] button', 'Save policy');
    await s.waitFor('[data-testid=policy-saved]', { timeoutMs: 30_000 });
    await (await s.find('[data-testid=send-now]')).click();
    const err = await s.waitFor('[data-testid=send-error]', { timeoutMs: 60_000 });
    assert.match(await err.text(), /nothing was sent and nothing was tried directly/);
    await s.waitUntil(`return [...document.querySelectorAll('[data-testid=outbox-row]')].some(r => r.dataset.state === 'pending')`, [], { what: 'bundle 2 waiting in the outbox' });
    assert.deepEqual(await outboxStates(), ['2:pending', '1:handed-over']);
    await s.execute(`document.querySelector('[data-testid=send-error]').scrollIntoView({ block: 'center' })`);
    await screenshot('sync-proxy-down');

    // Direct again: the outbox goes.
    await clickLabel('Require the proxy');
    await clickLabel('Directly');
    await s.clickText('[data-testid=policy-form] button', 'Save policy');
    await s.waitUntil(`return document.querySelector('[data-testid=policy-saved]') && !document.querySelector('#pol-proxy')`, [], { what: 'the direct route saved' });
    await (await s.find('[data-testid=send-now]')).click();
    const sent = await s.waitFor('[data-testid=send-result]', { timeoutMs: 60_000 });
    assert.match(await sent.text(), /1 bundle sent \(directly\)/);
    await s.waitUntil(`return [...document.querySelectorAll('[data-testid=outbox-row]')].some(r => r.dataset.state === 'received')`, [], { what: 'bundle 2 received by the server' });
    await s.execute(`document.querySelector('[data-testid=outbox-table]').scrollIntoView({ block: 'center' })`);
    await screenshot('sync-sent');
    await s.quit();

    // The coordinator pulls from the HQ server.
    s = await Session.start(URL, COORD_APP);
    await unlockApp();
    await s.clickText('nav button', 'Import & devices');
    await fill('#pull-url', hqUrl);
    await s.clickText('[data-testid=pull-form] button', 'Pull from HQ');
    const pulled = await s.waitFor('[data-testid=pull-result]', { timeoutMs: 60_000 });
    assert.match(await pulled.text(), /1 bundle imported\. [1-9]\d* receipts? sent back\./);
    await screenshot('coordinator-pulled');
    await s.quit();

    // The field device fetches the receipts: both bundles are imported; travel mode removes them.
    s = await Session.start(URL, APP);
    await unlockApp();
    await s.clickText('nav button', 'Sync');
    await (await s.waitFor('[data-testid=send-now]')).click();
    await s.waitFor('[data-testid=send-result]', { timeoutMs: 60_000 });
    await s.waitUntil(`return [...document.querySelectorAll('[data-testid=outbox-row]')].every(r => r.dataset.state === 'imported')`, [], {
      what: 'both bundles imported by headquarters',
      timeoutMs: 30_000,
    });
    await screenshot('sync-imported');
    await s.clickText('nav button', 'Travel mode');
    await s.waitUntil(`return /^3 record/.test(document.querySelector('[data-testid=travel-removable]')?.textContent ?? '')`, [], { what: 'three records removable' });
    await screenshot('travel-status-confirmed');
    await clickLabel('Do not use the network');
    await fill('#travel-confirm', 'remove');
    await (await s.find('[data-testid=travel-start]')).click();
    const removed = await s.waitFor('[data-testid=travel-removed]', { timeoutMs: 60_000 });
    assert.match(await removed.text(), /^3 record/);
    assert.match(await (await s.find('[data-testid=travel-compacted]')).text(), /free pages 0, write-ahead log 0 bytes/);
    await s.execute(`document.querySelector('[data-testid=travel-result]').scrollIntoView({ block: 'end' })`);
    await screenshot('travel-done');
    await s.clickText('nav button', 'Persons & cases');
    await s.waitFor('[data-testid=search]');
    await s.waitUntil(`return document.querySelectorAll('[data-testid=record-row]').length === 0`, [], { what: 'no person left on the laptop' });
    await s.quit();

    // The coordinator revokes the field device: in its vault and at the HQ
    // server it pulled from (sync was enabled by typing the URL).
    s = await Session.start(URL, COORD_APP);
    await unlockApp();
    await s.clickText('nav button', 'Import & devices');
    await s.clickText('[data-testid=device-row] button', 'Revoke');
    await s.clickText('[data-testid=device-row] button', 'Really revoke? Click again');
    const revoked = await s.waitFor('[data-testid=device-msg]', { timeoutMs: 60_000 });
    assert.equal(await revoked.text(), 'Revoked in this vault and at the HQ server.');
    await s.waitUntil(`return /revoked/.test(document.querySelector('[data-testid=device-row]')?.textContent ?? '')`, [], { what: 'the device marked revoked' });
    await s.execute(`document.querySelector('[data-testid=device-msg]').scrollIntoView({ block: 'center' })`);
    await screenshot('coordinator-device-revoked');
  });
});

// Under coercion (issue 13), over a vault of its own: the quick-delete
// countdown (with the records headquarters does not hold yet) and Cancel,
// the warning before the last failed unlocks, the duress passphrase opening
// the empty decoy, and quick delete ending on the first-run screen.
test('under coercion: quick delete, unlock limit, duress passphrase', async (t) => {
  const DURESS = 'purple monkey dishwasher';
  const vault = join(await mkdtemp(join(tmpdir(), 'yaddash-coercion-')), 'vault');
  const app = join(STICK, '..', `${STICK.split('/').pop()}-coercion-app.sh`);
  await writeFile(app, `#!/bin/sh\nYADDASH_VAULT='${vault}'\nexport YADDASH_VAULT\nexec '${APP}' "$@"\n`);
  await chmod(app, 0o755);
  const choose = (css, value) =>
    s.execute(
      `const sel = document.querySelector(arguments[0]); sel.value = arguments[1]; sel.dispatchEvent(new Event('change', { bubbles: true }));`,
      [css, value],
    );
  const toCard = () => s.execute(`document.querySelector('[data-testid=coercion-card]').scrollIntoView({ block: 'start' })`);

  await t.test('the countdown names what would be lost, in three languages, and Cancel stops it', async () => {
    // The test before leaves its coordinator session open (the driver
    // allows one session at a time).
    await s?.quit();
    s = await Session.start(URL, app);
    await createVault('field', 'coercion-');
    await (await s.find('[data-testid=new-record]')).click();
    await fill('[data-testid=person-name]', 'Əliyev Tofiq');
    await (await s.find('[data-testid=save]')).click();
    await s.waitFor('[data-testid=person-page]');
    await s.clickText('nav button', 'Settings');
    await s.waitFor('[data-testid=coercion-card]');
    await toCard();
    await screenshot('coercion-settings');
    const titles = { en: 'Settings', az: 'Ayarlar', ru: 'Настройки' };
    try {
      for (const lang of ['en', 'az', 'ru']) {
        await choose('.lang select', lang);
        await s.waitUntil(`return document.querySelector('#settings-title')?.textContent === arguments[0]`, [titles[lang]]);
        await toCard();
        if (lang !== 'en') await screenshot(`coercion-settings-${lang}`);
        await (await s.find('[data-testid=quick-delete]')).click();
        const unsent = await s.waitFor('[data-testid=quick-delete-unsent]', { timeoutMs: 10_000 });
        if (lang === 'en') assert.match(await unsent.text(), /^1 record is not held by headquarters yet/);
        await s.execute(`document.querySelector('[data-testid=quick-delete-countdown]').scrollIntoView({ block: 'center' })`);
        await screenshot(`coercion-countdown-${lang}`);
        await (await s.find('[data-testid=quick-delete-cancel]')).click();
        await s.waitFor('[data-testid=quick-delete]');
      }
    } finally {
      await choose('.lang select', 'en').catch(() => {});
    }
    // Cancelled three times: the vault and its record are still there.
    await sleep(6000);
    await s.clickText('nav button', 'Persons');
    await s.waitUntil(`return [...document.querySelectorAll('[data-testid=record-row]')].some(e => e.textContent.includes('Əliyev'))`, [], {
      what: 'the record kept after Cancel',
    });
  });

  await t.test('with an unlock limit, the unlock screen warns before the last attempts', async () => {
    await s.clickText('nav button', 'Settings');
    await s.waitFor('#unlock-limit');
    await setValue('#unlock-limit', '3');
    await s.clickText('[data-testid=coercion-card] button', 'Save');
    await s.waitUntil(`return /after 3 failed unlocks/.test(document.querySelector('[data-testid=coercion-card]')?.textContent ?? '')`, [], {
      what: 'the limit saved',
    });
    await (await s.find('[data-testid=lock]')).click();
    await s.waitFor('[data-testid=attempts-warning]');
    await fill('#secret', 'not the passphrase');
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitUntil(`return /^2 attempts left/.test(document.querySelector('[data-testid=attempts-warning]')?.textContent ?? '')`, [], {
      what: 'the warning with 2 attempts left',
      timeoutMs: 30_000,
    });
    await screenshot('coercion-unlock-warning');
    await unlockApp();
  });

  await t.test('the duress passphrase opens the empty decoy', async () => {
    await s.clickText('nav button', 'Settings');
    await s.waitFor('#duress');
    await fill('#duress', DURESS);
    await fill('#duress-again', DURESS);
    await (await s.find('[data-testid=duress-save]')).click();
    await s.waitUntil(`return document.querySelector('[data-testid=duress-state]')?.textContent === 'A duress passphrase is set.'`, [], {
      what: 'the duress passphrase set',
      timeoutMs: 30_000,
    });
    await toCard();
    await screenshot('coercion-duress-set');
    await (await s.find('[data-testid=lock]')).click();
    await s.waitFor('[data-testid=unlock-form]');
    await fill('#secret', DURESS);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 });
    await s.waitFor('[data-testid=search]');
    await sleep(500);
    assert.equal(await s.execute(`return document.querySelectorAll('[data-testid=record-row]').length`), 0, 'the decoy is empty');
    await screenshot('coercion-decoy-open');
    // The real passphrase opens nothing any more.
    await (await s.find('[data-testid=lock]')).click();
    await fill('#secret', PASSPHRASE);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=unlock-form] .error', { timeoutMs: 30_000 });
    await fill('#secret', DURESS);
    await (await s.find('[data-testid=unlock-form] button[type=submit]')).click();
    await s.waitFor('[data-testid=new-record]', { timeoutMs: 30_000 });
  });

  await t.test('quick delete runs out its countdown and leaves a fresh install', async () => {
    await s.clickText('nav button', 'Settings');
    await (await s.waitFor('[data-testid=quick-delete]')).click();
    await s.waitFor('[data-testid=quick-delete-countdown]');
    await s.waitFor('[data-testid=create-form]', { timeoutMs: 20_000 });
    await screenshot('coercion-after-quick-delete');
    await s.quit();
    s = undefined;
  });
});
