// A small approximation of crates/model's name folding, used only by the
// in-memory test double (the real search runs in Rust).
const MAP: Record<string, string> = {
  ə: 'a', ı: 'i', ö: 'o', ü: 'u', ş: 'sh', ç: 'ch', ğ: 'g', q: 'g', x: 'kh', c: 'j',
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y',
  к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f',
  х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sh', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya',
};

export function foldForSearch(text: string): string {
  const lower = text.toLowerCase();
  let out = '';
  for (const ch of lower) out += MAP[ch] ?? ch;
  // Collapse doubled letters (mammadov ~ mamedov is left to the real folding).
  return out
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/(.)\1+/g, '$1')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}
