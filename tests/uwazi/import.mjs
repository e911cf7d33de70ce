// Reads Yaddash's Uwazi CSV exports the way Uwazi's CSV import does, to
// check that nothing is lost (tests/tests/uwazi_import.rs runs it).
//
// Uwazi's own parser libraries do the reading: csvtojson 2.0.10 (with the
// options Uwazi's app/api/csv/csv.ts passes: delimiter [',', ';'],
// flatKeys) and moment 2.30.1 (dates). The rules around them are
// re-implemented here from reading Uwazi's source (app/api/csv/,
// app/shared/propertyNames.ts, app/api/templates/utils.ts), not copied:
//
// - a template property's name is generated from its label: trimmed, every
//   character outside a-z/0-9 (case-insensitive) to "_", lower case (the
//   older naming); the newer naming replaces a fixed set of characters and
//   whitespace with "_", drops one leading _ - + $, lower case. A CSV header
//   goes through the same function; a column whose name is no property
//   (nor title, id, file, attachments) is ignored without an error;
// - a property is set only if its cell is not empty;
// - text and rich text: the cell as csvtojson gives it (trimmed);
// - numeric: Number(cell), or the cell if that is NaN;
// - select: the cell is one label; "a::b" is parent::child; more than one
//   "::" is an error that stops the row;
// - multiple select: labels separated by "|", each trimmed, empty ones
//   dropped, each as in select, duplicates (case-insensitive) dropped;
// - date range: "from:to", each side parsed in UTC by moment with the
//   formats [settings' format upper-cased (default YYYY/MM/DD), LL,
//   YYYY MM DD, YYYY/MM/DD, YYYY-MM-DD, YYYY], stored as Unix seconds;
// - relationship: titles separated by "|", empty and repeated ones
//   dropped; each names the entity of the related template with exactly
//   that title.
//
// Usage: node import.mjs TEMPLATES.md PERSONS.csv CASES.csv
// TEMPLATES.md is docs/register.md: the templates are read from its tables
// marked <!-- uwazi-template:persons --> and <!-- uwazi-template:cases -->.
// Prints JSON: for each file the template, the ignored columns, and every
// entity's parsed values.

import { readFileSync } from 'node:fs';
import csvtojson from 'csvtojson';
import moment from 'moment';

const oldSafeName = label => label.trim().replace(/[^a-z0-9]/gi, '_').toLowerCase();
const newSafeName = label =>
  label
    .trim()
    .replace(/[#|\\/*?"<>=\s:.[\]%]/g, '_')
    .replace(/^[_|\-+$]/, '')
    .toLowerCase();

// The documented template: | label | `name` | type | ... |
function template(doc, marker) {
  const at = doc.indexOf(`<!-- uwazi-template:${marker} -->`);
  if (at < 0) throw new Error(`no template marked ${marker}`);
  const lines = doc.slice(at).split('\n').slice(1);
  const rows = [];
  let inTable = false;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.split('|').slice(1, -1).map(c => c.trim());
    if (cells[0] === 'label (type exactly)' || /^-+$/.test(cells[0])) continue;
    const name = cells[1].replace(/`/g, '');
    const type = cells[2].toLowerCase();
    const kind = type.startsWith('(built in)')
      ? 'title'
      : type.startsWith('text')
        ? 'text'
        : type.startsWith('rich text')
          ? 'markdown'
          : type.startsWith('numeric')
            ? 'numeric'
            : type.startsWith('select')
              ? 'select'
              : type.startsWith('multiple select')
                ? 'multiselect'
                : type.startsWith('date range')
                  ? 'daterange'
                  : type.startsWith('relationship')
                    ? 'relationship'
                    : `unknown: ${type}`;
    rows.push({ label: cells[0], documentedName: name, type: kind });
  }
  return rows;
}

const DATE_FORMATS = ['YYYY/MM/DD', 'LL', 'YYYY MM DD', 'YYYY/MM/DD', 'YYYY-MM-DD', 'YYYY'];
const dateValue = s => moment.utc(s, DATE_FORMATS).unix();

function parentChild(label) {
  if (!label.trim()) return null;
  const split = label.split('::');
  if (split.length > 2) throw new Error(`Label "${label}" has too many parent-child separators.`);
  return split.length === 2 ? { label: split[0], child: split[1] } : { label: split[0] };
}

function parse(type, cell) {
  switch (type) {
    case 'text':
    case 'markdown':
      return cell;
    case 'numeric':
      return Number.isNaN(Number(cell)) ? cell : Number(cell);
    case 'select':
      return parentChild(cell);
    case 'multiselect': {
      const seen = new Set();
      const out = [];
      for (const l of cell.split('|').map(x => x.trim()).filter(x => x.length > 0)) {
        const info = parentChild(l);
        const key = (info.child ?? info.label).trim().toLowerCase();
        if (!seen.has(key)) {
          seen.add(key);
          out.push(info);
        }
      }
      return out;
    }
    case 'daterange': {
      const [from, to] = cell.split(':');
      return {
        from: from !== '' ? dateValue(from) : null,
        to: to !== '' ? dateValue(to) : null,
      };
    }
    case 'relationship':
      return [...new Set(cell.split('|').filter(v => v !== ''))];
    default:
      throw new Error(`no parser for ${type}`);
  }
}

async function importFile(path, props) {
  const text = readFileSync(path, 'utf8');
  const rows = await csvtojson({ delimiter: [',', ';'], flatKeys: true }).fromString(text);
  const names = new Map();
  for (const p of props) {
    for (const gen of [oldSafeName, newSafeName]) {
      if (gen(p.label) !== p.documentedName) {
        throw new Error(
          `label "${p.label}" generates "${gen(p.label)}", not the documented "${p.documentedName}"`
        );
      }
    }
    names.set(p.documentedName, p);
  }
  const special = new Set(['title', 'id', 'file', 'attachments']);
  const header = rows.length ? Object.keys(rows[0]) : [];
  const ignored = header.map(h => oldSafeName(h)).filter(h => !special.has(h) && !names.has(h));
  const entities = rows.map(row => {
    const safe = Object.fromEntries(Object.entries(row).map(([k, v]) => [oldSafeName(k), v]));
    const values = {};
    for (const p of props) {
      const cell = safe[p.documentedName];
      if (p.type === 'title') {
        values.title = cell;
      } else if (cell) {
        values[p.documentedName] = parse(p.type, cell);
      }
    }
    return values;
  });
  return { header, ignored, entities };
}

const [doc, persons, cases] = process.argv.slice(2);
const md = readFileSync(doc, 'utf8');
const result = {
  persons: await importFile(persons, template(md, 'persons')),
  cases: await importFile(cases, template(md, 'cases')),
};
process.stdout.write(JSON.stringify(result, null, 1));
