//! Folding names and text to comparison keys that see through the spelling
//! variants of Azerbaijani names across scripts.
//!
//! A key is for *matching only*: the original spelling is always kept as the
//! source gave it. The rules, in order (documented in `docs/search.md`):
//!
//! 1. Unicode NFD; combining marks are dropped after the letters that carry
//!    meaning without them are mapped (ə, ı, ğ, ş, ç, ö, ü have their own rules).
//! 2. Case folding without the Turkic/ASCII dotted-I trap: `İ`, `I`, `ı`, `i`
//!    all fold to the same vowel class, so naive lower-casing never matters.
//! 3. Cyrillic (Azerbaijani and Russian) is transliterated to Latin first
//!    (`дж`→`j`, `ш`→`sh`, `ю`→`yu`, `ә`→`e`, `һ`→`h`, ...).
//! 4. Latin digraphs from English/Russian romanisations collapse:
//!    `dzh`, `dj`, `zh`, `ch` → `j`; `sh` → `s`; `kh`, `gh` → `g`.
//! 5. Letters fold to classes (`a e ə ä` → `a`; `i ı y` → `i`; `o ö` → `o`;
//!    `u ü` → `u`; `g ğ q k h x` → `g`; `c ç j` → `j`; `s ş` → `s`; `w` → `v`).
//! 6. A glide before a rounded vowel is dropped (`iu` → `u`, `io` → `o`: Гюль
//!    → Gül) and repeated letters collapse (Məmmədov → Mamedov).
//!
//! The classes are deliberately wide: search must find every spelling, and
//! duplicate detection weighs the other evidence before suggesting a merge.

use unicode_normalization::UnicodeNormalization;

/// Version of the folding rules. Stored in each vault so that an index built
/// with older rules is rebuilt when the rules change.
pub const FOLD_VERSION: u32 = 1;

/// Folds a whole text (a name, a query or a narrative) to space-separated
/// word keys. Punctuation separates words; digits are kept (article numbers).
pub fn fold_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in words(text) {
        let key = fold_word(word);
        if key.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&key);
    }
    out
}

/// The folded keys of each word of `text`, in order.
pub fn fold_words(text: &str) -> Vec<String> {
    words(text)
        .map(fold_word)
        .filter(|k| !k.is_empty())
        .collect()
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || is_mark(c) || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
}

fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

/// Folds one word to its key.
pub fn fold_word(word: &str) -> String {
    // Steps 1-3: to a lower-case Latin spelling.
    let mut latin = String::with_capacity(word.len() + 4);
    for c in word.nfd() {
        if is_mark(c) {
            continue;
        }
        push_latin(c, &mut latin);
    }
    // Step 4: digraphs of the romanisations.
    let latin = latin
        .replace("dzh", "j")
        .replace("dj", "j")
        .replace("zh", "j")
        .replace("ch", "j")
        .replace("sh", "s")
        .replace("kh", "g")
        .replace("gh", "g");
    // Step 5: letter classes.
    let mut classes = String::with_capacity(latin.len());
    for c in latin.chars() {
        let k = match c {
            'a' | 'e' | 'ə' | 'ä' => 'a',
            'i' | 'ı' | 'y' => 'i',
            'o' | 'ö' => 'o',
            'u' | 'ü' => 'u',
            'g' | 'ğ' | 'q' | 'k' | 'h' | 'x' => 'g',
            'c' | 'ç' | 'j' => 'j',
            's' | 'ş' => 's',
            'w' => 'v',
            '\'' | '’' => continue,
            other => other,
        };
        classes.push(k);
    }
    // Step 6: glides before rounded vowels, then repeated letters.
    let classes = classes.replace("iu", "u").replace("io", "o");
    let mut out = String::with_capacity(classes.len());
    let mut last = None;
    for c in classes.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// Maps one decomposed character to lower-case Latin, transliterating
/// Azerbaijani and Russian Cyrillic.
fn push_latin(c: char, out: &mut String) {
    let s: &str = match c {
        // Azerbaijani letters that NFD does not decompose.
        'Ə' | 'ə' | 'Ä' => "ə",
        'I' | 'ı' | 'İ' => "i",
        // Cyrillic, upper and lower case.
        'А' | 'а' => "a",
        'Б' | 'б' => "b",
        'В' | 'в' => "v",
        'Г' | 'г' | 'Ғ' | 'ғ' | 'Ҝ' | 'ҝ' => "g",
        'Д' | 'д' => "d",
        'Е' | 'е' | 'Э' | 'э' | 'Ә' | 'ә' => "e",
        'Ё' | 'ё' => "yo",
        'Ж' | 'ж' => "zh",
        'З' | 'з' => "z",
        'И' | 'и' => "i",
        'Й' | 'й' | 'Ј' | 'ј' => "y",
        'К' | 'к' | 'Ҡ' | 'ҡ' => "k",
        'Л' | 'л' => "l",
        'М' | 'м' => "m",
        'Н' | 'н' => "n",
        'О' | 'о' | 'Ө' | 'ө' => "o",
        'П' | 'п' => "p",
        'Р' | 'р' => "r",
        'С' | 'с' => "s",
        'Т' | 'т' => "t",
        'У' | 'у' | 'Ү' | 'ү' => "u",
        'Ф' | 'ф' => "f",
        'Х' | 'х' | 'Һ' | 'һ' => "h",
        'Ц' | 'ц' => "ts",
        'Ч' | 'ч' | 'Ҹ' | 'ҹ' => "ch",
        'Ш' | 'ш' => "sh",
        'Щ' | 'щ' => "sh",
        'Ъ' | 'ъ' | 'Ь' | 'ь' => "",
        'Ы' | 'ы' => "i",
        'Ю' | 'ю' => "yu",
        'Я' | 'я' => "ya",
        _ => {
            for l in c.to_lowercase() {
                out.push(l);
            }
            return;
        }
    };
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(fold_text(a), fold_text(b), "{a} vs {b}");
    }

    #[test]
    fn surnames_across_scripts() {
        for v in ["Məmmədov", "Mammadov", "Mamedov", "Мамедов", "MƏMMƏDOV"] {
            same("mamedov", v);
        }
        for v in ["Hüseynov", "Huseynov", "Guseynov", "Гусейнов"] {
            same("huseynov", v);
        }
        for v in ["Həsənov", "Hasanov", "Гасанов", "Gasanov"] {
            same("hasanov", v);
        }
        for v in ["Cəfərov", "Jafarov", "Dzhafarov", "Джафаров"] {
            same("Jafarov", v);
        }
        for v in ["Qasımov", "Gasimov", "Kasimov", "Гасымов", "Касимов"] {
            same("qasimov", v);
        }
        for v in ["Əhmədov", "Ахмедов", "Akhmedov", "Ahmadov"] {
            same("ahmedov", v);
        }
        same("Aliyev", "Aliev");
        same("Алиев", "Əliyev");
        same("Intiqam", "Intigam");
        same("Leyla", "Leila");
        same("Tofiq", "Тофик");
        same("Elçin", "Elchin");
        same("Эльчин", "Elçin");
        same("Gülnarə", "Гюльнара");
        same("Rüstəmzadə", "Rustamzade");
    }

    #[test]
    fn dotted_and_dotless_i() {
        same("İSMAYILOVA", "ismayilova");
        same("Ismayılova", "Исмаилова");
    }

    #[test]
    fn distinct_names_stay_distinct() {
        assert_ne!(fold_text("Mamedov"), fold_text("Muradov"));
        assert_ne!(fold_text("Leyla"), fold_text("Lala"));
        assert_ne!(fold_text("Tofiq"), fold_text("Rafiq"));
    }

    #[test]
    fn text_is_split_into_words_and_digits_kept() {
        assert_eq!(
            fold_text("Article 206.3.2, Məmmədov!"),
            "artijla 206 3 2 mamadov"
        );
        assert_eq!(fold_text("  "), "");
    }
}
