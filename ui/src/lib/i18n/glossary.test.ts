import { describe, expect, it } from 'vitest';
import { allDicts } from './index.svelte';

// The catalogues follow docs/glossary.md: the chosen terms are used, the rejected ones appear nowhere.
const { az, ru } = allDicts();

/** Every entry of a catalogue whose text matches `re`, as "key: text". */
function hits(d: Record<string, string>, re: RegExp, except: string[] = []): string[] {
  return Object.entries(d)
    .filter(([k, v]) => !except.includes(k) && re.test(v))
    .map(([k, v]) => `${k}: ${v}`);
}

describe('glossary (docs/glossary.md)', () => {
  it('Azerbaijani: no rejected rendering remains', () => {
    expect(hits(az, /qərargah/i), 'headquarters is "mərkəz", not the military "qərargah"').toEqual([]);
    expect(hits(az, /\bHQ\b/), 'HQ is "mərkəz", never left in English').toEqual([]);
    expect(hits(az, /təcili açar/i), 'kill switch is "təcili dayandırma" (açar is a cryptographic key)').toEqual([]);
    expect(hits(az, /(?<!yadda )saxlanılıb/i), '"saxlanılıb" alone also reads as "detained": saved is "yadda saxlanılıb"').toEqual([]);
    expect(hits(az, /azadlıq\b/i), 'release is "azadlığa buraxılma", not "azadlıq" (freedom)').toEqual([]);
    // "parol" alone is an ordinary password; the vault's passphrase is "parol ifadəsi" everywhere.
    expect(hits(az, /parol(?!\s+ifadə)/i, ['first_run.passphrase_hint']), 'passphrase is "parol ifadəsi"').toEqual([]);
    expect(hits(az, /\{\w+\}-(ci|cı|cu|cü)\b/), 'ordinals come from ordinal()').toEqual([]);
  });

  it('Russian: no rejected rendering remains', () => {
    expect(hits(ru, /Новое лицо/), 'a person is «человек» («Новый человек»), not «лицо» (face)').toEqual([]);
    expect(hits(ru, /показани/i), 'testimony is «свидетельство»/«рассказ», not «показания» (statements to investigators)').toEqual([]);
    expect(hits(ru, /Данное согласие/), 'consent: «Согласие рассказчика»').toEqual([]);
    expect(hits(ru, /\bHQ\b/), 'HQ server is «сервер штаба»').toEqual([]);
    expect(hits(ru, /(?<!парольн[а-яё]{1,3}\s)фраз/i), 'passphrase is «парольная фраза», never «фраза» alone').toEqual([]);
  });

  it('the chosen terms are used', () => {
    expect(az['register.status_detained']).toBe('Həbsdədir');
    expect(az['evidence.title']).toBe('Sübut toplusu');
    expect(ru['evidence.title']).toBe('Комплект доказательств');
    expect(az['event.arrest']).toBe('Tutulma');
    expect(az['event.detention']).toBe('Həbsdə saxlanma');
    expect(az['event.release']).toBe('Azadlığa buraxılma');
    expect(az['release.pardon']).toBe('Əfv');
    expect(az['trust.hq']).toBe('Mərkəz');
    expect(az['trust.server_key']).toBe('Mərkəz serverinin açarı');
    expect(az['sync.blocked_kill']).toContain('Təcili dayandırma');
    expect(az['unlock.passphrase']).toBe('Parol ifadəsi');
    expect(az['unlock.recovery_code']).toBe('Bərpa kodu');
    expect(az['history.saved_at']).toBe('Yadda saxlanılıb');
    expect(az['person_role.witness']).toBe('Şahid');
    expect(az['register.title']).toBe('Siyasi məhbusların reyestri');

    expect(ru['event.arrest']).toBe('Задержание');
    expect(ru['event.detention']).toBe('Содержание под стражей');
    expect(ru['event.release']).toBe('Освобождение');
    expect(ru['person.new_title']).toBe('Новый человек');
    expect(ru['records.new_person']).toBe('Новый человек');
    expect(ru['interview.consent']).toBe('Согласие рассказчика');
    expect(ru['records.search_testimony']).toBe('Искать в свидетельствах');
    expect(ru['trust.hq']).toBe('Штаб');
    expect(ru['trust.server_key']).toBe('Ключ сервера штаба');
    expect(ru['unlock.passphrase']).toBe('Парольная фраза');
    expect(ru['settings.change_passphrase']).toBe('Сменить парольную фразу');
    expect(ru['sync.blocked_kill']).toContain('Аварийный выключатель');
    expect(ru['register.title']).toBe('Реестр политических заключённых');
  });

  it('"what it does not protect" says it gives no protection against these threats', () => {
    // It used to read as "cannot protect the malware / the camera" (objects of protection).
    expect(az['settings.not_protects']).toMatch(/^Seyf bunlardan qoruya bilməz: /);
    expect(az['settings.not_protects']).not.toMatch(/proqramı|kameranı/);
    expect(ru['settings.not_protects']).toMatch(/^Хранилище не защищает от /);
    expect(ru['settings.not_protects']).toMatch(/от вредоносной программы/);
  });
});
