//! The printable report as PDF: the content of the HTML report (counts by
//! status, year of arrest, charge article and facility, then the list with
//! the override notes and testimonies the level allows), on A4 landscape
//! pages with a header, "page N of M", and the table header repeated on
//! every page of the list.
//!
//! Text is set in one TrueType font (DejaVu Sans, taken at build time, see
//! `build.rs`), embedded as a subset: a CIDFontType2 font with Identity-H
//! encoding and a ToUnicode map, so viewers can search and copy the text and
//! `pdftotext` reads it back. No shaping is done: Azerbaijani Latin,
//! Cyrillic and Latin need none once text is in Unicode normalisation form
//! C. A character the font lacks is drawn as `?`.

use std::collections::HashMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;
use ttf_parser::GlyphId;
use unicode_normalization::UnicodeNormalization;

use super::{REPORT_TITLE, count_sections, counts, opt, speaker_label};
use crate::{Entry, Level, RegisterError, Result};

/// DejaVu Sans (or the font named by `YADDASH_REPORT_FONT` at build time).
static FONT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/report-font.ttf"));

const PAGE_W: f32 = 841.89; // A4 landscape, in points
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 36.0;
const TOP: f32 = PAGE_H - MARGIN - 16.0; // below the page header
const BOTTOM: f32 = MARGIN + 14.0; // above the page footer
const BODY: f32 = 8.0;
const LEAD: f32 = 10.0;
const PAD: f32 = 2.0;

/// The list's columns: title and width in points (they fill the page width).
const COLUMNS: [(&str, f32); 10] = [
    ("#", 32.0),
    ("Names", 195.0),
    ("Born", 28.0),
    ("Status", 62.0),
    ("Arrested", 58.0),
    ("Articles", 80.0),
    ("Sentence", 70.0),
    ("Facility", 144.0),
    ("Sources", 40.0),
    ("Last confirmed", 60.0),
];

fn failed(problem: impl std::fmt::Display) -> RegisterError {
    RegisterError::Export {
        format: "pdf",
        problem: problem.to_string(),
    }
}

/// The font, and the glyphs used so far (renumbered for the subset).
struct Font<'a> {
    face: ttf_parser::Face<'a>,
    /// Font units to thousandths of an em (PDF glyph space).
    scale: f32,
    glyphs: HashMap<char, (u16, f32)>,
    remapper: GlyphRemapper,
    /// By subset glyph id: the advance (thousandths of an em) and the
    /// character it stands for (for the ToUnicode map).
    widths: Vec<f32>,
    unicode: Vec<Option<char>>,
}

impl<'a> Font<'a> {
    fn new(data: &'a [u8]) -> Result<Font<'a>> {
        let face = ttf_parser::Face::parse(data, 0).map_err(failed)?;
        let scale = 1000.0 / f32::from(face.units_per_em().max(1));
        Ok(Font {
            face,
            scale,
            glyphs: HashMap::new(),
            remapper: GlyphRemapper::new(),
            widths: vec![0.0],
            unicode: vec![None],
        })
    }

    /// The subset glyph id and advance of `c`.
    fn glyph(&mut self, c: char) -> (u16, f32) {
        if let Some(g) = self.glyphs.get(&c) {
            return *g;
        }
        let found = self.face.glyph_index(c);
        let old = found
            .or_else(|| self.face.glyph_index('?'))
            .unwrap_or(GlyphId(0));
        let advance = f32::from(self.face.glyph_hor_advance(old).unwrap_or(0)) * self.scale;
        let new = self.remapper.remap(old.0);
        let i = usize::from(new);
        if self.widths.len() <= i {
            self.widths.resize(i + 1, 0.0);
            self.unicode.resize(i + 1, None);
        }
        self.widths[i] = advance;
        if found.is_some() && self.unicode[i].is_none() {
            self.unicode[i] = Some(c);
        }
        self.glyphs.insert(c, (new, advance));
        (new, advance)
    }

    fn width(&mut self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.glyph(c).1).sum::<f32>() * size / 1000.0
    }

    /// `s` as two-byte glyph ids (Identity-H).
    fn encode(&mut self, s: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(s.len() * 2);
        for c in s.chars() {
            out.extend(self.glyph(c).0.to_be_bytes());
        }
        out
    }

    /// Splits `text` into lines no wider than `width`: at spaces, and inside
    /// a word only when the word alone is too wide. Never drops text.
    fn wrap(&mut self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, size) > width && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// Text for the page: Unicode NFC, control characters as spaces (a line
/// break is kept only where the caller wraps paragraphs).
fn clean(s: &str) -> String {
    s.nfc()
        .map(|c| {
            if c == '\n' {
                '\n'
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        glyphs: Vec<u8>,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
    },
    Shade {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

struct Layout<'a> {
    font: Font<'a>,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout<'_> {
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        if s.is_empty() {
            return;
        }
        let glyphs = self.font.encode(s);
        self.page().push(Op::Text { x, y, size, glyphs });
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        self.page().push(Op::Rule { x1, x2, y });
    }

    /// The list's header row, at the current position.
    fn table_header(&mut self) {
        let h = LEAD + 2.0 * PAD;
        let y = self.y - h;
        self.page().push(Op::Shade {
            x: MARGIN,
            y,
            w: PAGE_W - 2.0 * MARGIN,
            h,
        });
        let mut x = MARGIN;
        let baseline = self.y - PAD - BODY;
        for (title, w) in COLUMNS {
            self.text(x + PAD, baseline, BODY, title);
            x += w;
        }
        self.y -= h;
    }

    /// Room for `h` points on this page of the list, else a new page that
    /// starts with the table header.
    fn need(&mut self, h: f32) {
        if self.y - h < BOTTOM {
            self.new_page();
            self.table_header();
        }
    }

    /// Counts in three columns across the page, flowing to new pages.
    fn counts(&mut self, sections: &[(&str, std::collections::BTreeMap<String, usize>)]) {
        let gap = 24.0;
        let col_w = (PAGE_W - 2.0 * MARGIN - 2.0 * gap) / 3.0;
        let top = self.y;
        let mut col = 0;
        let mut col_top = top;
        for (title, map) in sections {
            let mut rows: Vec<(String, String)> =
                map.iter().map(|(k, v)| (clean(k), v.to_string())).collect();
            if rows.is_empty() {
                rows.push(("(none)".into(), String::new()));
            }
            let mut first = true;
            for (k, v) in rows {
                let lines = self.font.wrap(&k, BODY, col_w - 50.0);
                let heading = if first { 2.0 * LEAD + 4.0 } else { 0.0 };
                let h = heading + lines.len() as f32 * LEAD;
                if self.y - h < BOTTOM {
                    col += 1;
                    if col == 3 {
                        self.new_page();
                        col = 0;
                        col_top = TOP;
                    }
                    self.y = col_top;
                }
                let x = MARGIN + col as f32 * (col_w + gap);
                if first || self.y == col_top {
                    let cont = if first { "" } else { " (continued)" };
                    self.y -= 4.0;
                    self.text(x, self.y - 10.0, 10.0, &format!("{title}{cont}"));
                    let pw = self.font.width("persons", BODY);
                    self.text(x + col_w - pw, self.y - 10.0, BODY, "persons");
                    self.y -= LEAD + 6.0;
                    self.rule(x, x + col_w, self.y + 2.0);
                    first = false;
                }
                for (n, line) in lines.iter().enumerate() {
                    self.text(x, self.y - BODY, BODY, line);
                    if n == 0 {
                        let vw = self.font.width(&v, BODY);
                        self.text(x + col_w - vw, self.y - BODY, BODY, &v);
                    }
                    self.y -= LEAD;
                }
            }
            self.y -= LEAD;
        }
    }

    /// A line of text across the list's columns after the first (override
    /// notes and testimonies), wrapped, breaking pages between lines.
    fn note(&mut self, text: &str) {
        let x = MARGIN + COLUMNS[0].1 + PAD;
        let width = PAGE_W - MARGIN - x - PAD;
        for line in self.font.wrap(&clean(text), BODY, width) {
            self.need(LEAD);
            self.text(x, self.y - BODY, BODY, &line);
            self.y -= LEAD;
        }
    }

    fn entry(&mut self, n: usize, e: &Entry) {
        let cells = [
            (n + 1).to_string(),
            e.names.join(" / "),
            opt(&e.birth_year),
            e.status.as_str().replace('_', " "),
            opt(&e.arrest_date),
            e.articles.join(", "),
            opt(&e.sentence),
            opt(&e.facility),
            e.sources.to_string(),
            opt(&e.last_confirmed),
        ];
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(COLUMNS)
            .map(|(c, (_, w))| self.font.wrap(&clean(c), BODY, w - 2.0 * PAD))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let h = lines as f32 * LEAD + 2.0 * PAD;
        self.need(h);
        let mut x = MARGIN;
        for (cell, (_, w)) in wrapped.iter().zip(COLUMNS) {
            for (k, line) in cell.iter().enumerate() {
                self.text(x + PAD, self.y - PAD - BODY - k as f32 * LEAD, BODY, line);
            }
            x += w;
        }
        self.y -= h;
        if let Some(o) = &e.status_override {
            let reason = o
                .reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            self.note(&format!(
                "status set by hand to {} (derived: {}){reason}",
                o.status.as_str().replace('_', " "),
                e.derived_status.as_str().replace('_', " "),
            ));
        }
        for t in &e.testimonies {
            let mut meta = String::new();
            if let Some(i) = &t.interviewer {
                meta.push_str(&format!(" interviewed by {i}"));
            }
            if let Some(p) = &t.place {
                meta.push_str(&format!(" in {p}"));
            }
            self.note(&format!(
                "{}, {}{meta}: {}",
                speaker_label(t),
                t.date,
                t.narrative
            ));
        }
        self.y -= PAD;
        let y = self.y;
        self.rule(MARGIN, PAGE_W - MARGIN, y);
    }
}

/// Every piece of text the report draws, in order (for tests: the PDF
/// holds exactly these strings, as glyph ids).
#[cfg(test)]
pub(crate) fn drawn_text(entries: &[Entry], level: Level) -> Result<Vec<String>> {
    let layout = lay_out(entries, level, &mut |_| {})?;
    let mut inverse: HashMap<u16, char> = HashMap::new();
    for (c, (g, _)) in &layout.font.glyphs {
        inverse.entry(*g).or_insert(*c);
    }
    let mut out = Vec::new();
    for op in layout.pages.iter().flatten() {
        if let Op::Text { glyphs, .. } = op {
            out.push(
                glyphs
                    .chunks(2)
                    .map(|b| {
                        let g = u16::from_be_bytes([b[0], b.get(1).copied().unwrap_or(0)]);
                        inverse.get(&g).copied().unwrap_or('?')
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

fn lay_out<'a>(
    entries: &[Entry],
    level: Level,
    progress: &mut dyn FnMut(usize),
) -> Result<Layout<'a>> {
    let mut l = Layout {
        font: Font::new(FONT)?,
        pages: Vec::new(),
        y: TOP,
    };
    l.new_page();
    let c = counts(entries);
    l.text(MARGIN, l.y - 16.0, 16.0, REPORT_TITLE);
    l.y -= 28.0;
    l.text(
        MARGIN,
        l.y - 10.0,
        10.0,
        &format!("Level: {}. Persons: {}.", level.as_str(), c.total),
    );
    l.y -= 22.0;
    l.counts(&count_sections(&c));

    l.new_page();
    l.text(MARGIN, l.y - 12.0, 12.0, "List");
    l.y -= 20.0;
    l.table_header();
    for (n, e) in entries.iter().enumerate() {
        l.entry(n, e);
        if n % 256 == 255 {
            progress(n + 1);
        }
    }
    progress(entries.len());

    // Page header and footer, now that the number of pages is known.
    let total = l.pages.len();
    let head = format!("{REPORT_TITLE} · level: {}", level.as_str());
    for p in 0..total {
        let foot = format!("page {} of {total}", p + 1);
        let fw = l.font.width(&foot, BODY);
        let head_glyphs = l.font.encode(&head);
        let foot_glyphs = l.font.encode(&foot);
        let page = &mut l.pages[p];
        page.push(Op::Text {
            x: MARGIN,
            y: PAGE_H - MARGIN - BODY,
            size: BODY,
            glyphs: head_glyphs,
        });
        page.push(Op::Rule {
            x1: MARGIN,
            x2: PAGE_W - MARGIN,
            y: PAGE_H - MARGIN - BODY - 4.0,
        });
        page.push(Op::Text {
            x: (PAGE_W - fw) / 2.0,
            y: MARGIN,
            size: BODY,
            glyphs: foot_glyphs,
        });
    }
    Ok(l)
}

/// The report as a PDF file.
pub(crate) fn pdf(
    entries: &[Entry],
    level: Level,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<u8>> {
    let layout = lay_out(entries, level, progress)?;
    write(layout, &format!("{REPORT_TITLE} ({})", level.as_str()))
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// A PDF name for the font: a subset tag and the PostScript name.
fn font_name(face: &ttf_parser::Face<'_>) -> String {
    let ps = face
        .names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
        .find_map(|n| n.to_string())
        .map(|s| {
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "ReportFont".into());
    format!("YADDSH+{ps}")
}

fn write(layout: Layout<'_>, title: &str) -> Result<Vec<u8>> {
    let Layout { font, pages, .. } = layout;
    let subset =
        subsetter::subset(FONT, 0, &font.remapper).map_err(|e| failed(format!("{e:?}")))?;

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let type0 = Ref::new(4);
    let cid = Ref::new(5);
    let descriptor = Ref::new(6);
    let to_unicode = Ref::new(7);
    let font_file = Ref::new(8);
    let first_page = 9;
    let page_ref = |n: usize| Ref::new(first_page + 2 * n as i32);
    let content_ref = |n: usize| Ref::new(first_page + 2 * n as i32 + 1);
    let font_res = Name(b"F1");

    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages.len()).map(page_ref))
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("Yaddash"));

    let name = font_name(&font.face);
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(name.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(to_unicode);
    {
        let mut c = pdf.cid_font(cid);
        c.subtype(CidFontType::Type2)
            .base_font(Name(name.as_bytes()))
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        c.widths().consecutive(0, font.widths.iter().copied());
        c.finish();
    }
    let face = &font.face;
    let s = font.scale;
    let bb = face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(Name(name.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bb.x_min) * s,
            f32::from(bb.y_min) * s,
            f32::from(bb.x_max) * s,
            f32::from(bb.y_max) * s,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * s)
        .descent(f32::from(face.descender()) * s)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * s)
        .stem_v(80.0)
        .font_file2(font_file);
    let mut cmap = pdf_writer::types::UnicodeCmap::<u16>::new(Name(b"Yaddash-UCS"), system);
    for (g, c) in font.unicode.iter().enumerate() {
        if let (Ok(g), Some(c)) = (u16::try_from(g), c) {
            cmap.pair(g, *c);
        }
    }
    let cmap = cmap.finish();
    pdf.cmap(to_unicode, &cmap);
    let packed = deflate(&subset);
    pdf.stream(font_file, &packed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);

    for (n, ops) in pages.iter().enumerate() {
        let mut page = pdf.page(page_ref(n));
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(content_ref(n));
        page.resources().fonts().pair(font_res, type0);
        page.finish();

        let mut content = Content::new();
        content.set_line_width(0.4).set_stroke_gray(0.6);
        for op in ops {
            match op {
                Op::Shade { x, y, w, h } => {
                    content
                        .set_fill_gray(0.9)
                        .rect(*x, *y, *w, *h)
                        .fill_nonzero()
                        .set_fill_gray(0.0);
                }
                Op::Rule { x1, x2, y } => {
                    content.move_to(*x1, *y).line_to(*x2, *y).stroke();
                }
                Op::Text { .. } => {}
            }
        }
        content.begin_text();
        let mut size = 0.0;
        for op in ops {
            if let Op::Text {
                x,
                y,
                size: s,
                glyphs,
            } = op
            {
                if *s != size {
                    content.set_font(font_res, *s);
                    size = *s;
                }
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y]);
                content.show(Str(glyphs));
            }
        }
        content.end_text();
        let packed = deflate(&content.finish());
        pdf.stream(content_ref(n), &packed)
            .filter(Filter::FlateDecode);
    }
    Ok(pdf.finish())
}

/// A block of a plain document: a heading or a paragraph (line breaks kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocBlock {
    /// A heading.
    Heading(String),
    /// A paragraph, wrapped to the page width; `\n` starts a new line.
    Text(String),
}

/// A plain document as PDF, in the report's font and page format: the
/// title, then the blocks, with the title and "page N of M" on every page.
/// (The evidence pack's printable summary.)
pub(crate) fn document(title: &str, blocks: &[DocBlock]) -> Result<Vec<u8>> {
    let mut l = Layout {
        font: Font::new(FONT)?,
        pages: Vec::new(),
        y: TOP,
    };
    l.new_page();
    let width = PAGE_W - 2.0 * MARGIN;
    for line in l.font.wrap(&clean(title), 16.0, width) {
        l.text(MARGIN, l.y - 16.0, 16.0, &line);
        l.y -= 20.0;
    }
    l.y -= 8.0;
    for b in blocks {
        let (size, lead, text, before) = match b {
            DocBlock::Heading(t) => (11.0, 14.0, t, 8.0),
            DocBlock::Text(t) => (BODY, LEAD, t, 2.0),
        };
        if l.y - before - 2.0 * lead < BOTTOM {
            l.new_page();
        } else {
            l.y -= before;
        }
        for para in clean(text).split('\n') {
            for line in l.font.wrap(para, size, width) {
                if l.y - lead < BOTTOM {
                    l.new_page();
                }
                l.text(MARGIN, l.y - size, size, &line);
                l.y -= lead;
            }
        }
    }
    let total = l.pages.len();
    for p in 0..total {
        let foot = format!("page {} of {total}", p + 1);
        let fw = l.font.width(&foot, BODY);
        let head_glyphs = l.font.encode(title);
        let foot_glyphs = l.font.encode(&foot);
        let page = &mut l.pages[p];
        page.push(Op::Text {
            x: MARGIN,
            y: PAGE_H - MARGIN - BODY,
            size: BODY,
            glyphs: head_glyphs,
        });
        page.push(Op::Text {
            x: (PAGE_W - fw) / 2.0,
            y: MARGIN,
            size: BODY,
            glyphs: foot_glyphs,
        });
    }
    write(l, title)
}
