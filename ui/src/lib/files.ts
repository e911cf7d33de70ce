// Native open and save dialogs (Tauri's dialog plugin) for the paths the app
// reads and writes: bundles, trust files, device identities, receipts,
// register exports, attachments. The typed path fields stay (WebDriver cannot
// drive a native dialog, and a path can be pasted); a dialog only fills them.
//
// The last folder used is remembered in the window's local storage (like the
// language): a folder, never a file name, and nothing from the vault.
import type { ExportFormat } from './backend/types';
import { t } from './i18n/index.svelte';

export type FileKind = 'bundle' | 'trust' | 'identity' | 'receipts' | 'register' | 'attachment';
export type RegisterFormat = ExportFormat;

export interface DialogFilter {
  name: string;
  extensions: string[];
}

/** What is handed to the platform dialog. */
export interface DialogRequest {
  mode: 'open' | 'save';
  title: string;
  defaultPath?: string;
  filters: DialogFilter[];
  multiple: boolean;
}

/** Opens a platform dialog; resolves to the chosen path(s), or null when cancelled. */
export type Picker = (req: DialogRequest) => Promise<string | string[] | null>;

const LAST_FOLDER_KEY = 'yaddash.last_folder';
let picker: Picker | null = null;

/** Sets the platform dialog (main.ts: Tauri's; tests: a stand-in). Null: no dialog, typed paths only. */
export function setPicker(p: Picker | null): void {
  picker = p;
}

export function pickerAvailable(): boolean {
  return picker !== null;
}

/** The folder part of a path ("/media/usb/a.ydb" -> "/media/usb"), or null. */
export function folderOf(path: string): string | null {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (i < 0) return null;
  return i === 0 ? path.slice(0, 1) : path.slice(0, i);
}

export function lastFolder(): string | null {
  try {
    return localStorage.getItem(LAST_FOLDER_KEY);
  } catch {
    return null;
  }
}

function remember(path: string): void {
  const folder = folderOf(path);
  if (!folder) return;
  try {
    localStorage.setItem(LAST_FOLDER_KEY, folder);
  } catch {
    /* storage may be unavailable: the dialog then starts in its default folder */
  }
}

/** The file name a save dialog suggests, per kind (and register format). */
export function suggestedName(kind: FileKind, format?: RegisterFormat): string {
  switch (kind) {
    case 'bundle':
      return 'yaddash-bundle.ydb';
    case 'trust':
      return 'yaddash-trust.json';
    case 'identity':
      return 'my-device.json';
    case 'receipts':
      return 'yaddash-receipts.json';
    case 'register': {
      const ext = format === 'uwazi' ? 'csv' : format === 'esf' ? 'json' : (format ?? 'csv');
      return `register.${ext}`;
    }
    case 'attachment':
      return '';
  }
}

function filtersFor(kind: FileKind, format?: RegisterFormat): DialogFilter[] {
  const all = { name: t('files.all_files'), extensions: ['*'] };
  switch (kind) {
    case 'bundle':
      return [{ name: t('files.bundles'), extensions: ['ydb', 'yaddash'] }, all];
    case 'trust':
    case 'identity':
    case 'receipts':
      return [{ name: 'JSON', extensions: ['json'] }, all];
    case 'register': {
      const ext = suggestedName('register', format).split('.').pop() ?? 'csv';
      return [{ name: ext.toUpperCase(), extensions: [ext] }, all];
    }
    case 'attachment':
      return [];
  }
}

function join(folder: string | null, name: string): string | undefined {
  if (!folder) return name || undefined;
  if (!name) return folder;
  return folder.endsWith('/') ? folder + name : `${folder}/${name}`;
}

export interface ChooseOptions {
  mode: 'open' | 'save';
  kind: FileKind;
  format?: RegisterFormat;
  multiple?: boolean;
  /** A path already typed: the dialog starts in its folder. */
  current?: string;
}

/**
 * Asks the platform dialog for a path. Resolves to the chosen paths (one
 * unless `multiple`), or [] when cancelled or when there is no dialog.
 */
export async function choosePaths(o: ChooseOptions): Promise<string[]> {
  if (!picker) return [];
  const folder = (o.current && folderOf(o.current.trim())) || lastFolder();
  const name = o.mode === 'save' ? suggestedName(o.kind, o.format) : '';
  const chosen = await picker({
    mode: o.mode,
    title: o.mode === 'save' ? t('files.save_title') : t('files.open_title'),
    defaultPath: join(folder, name),
    filters: filtersFor(o.kind, o.format),
    multiple: o.mode === 'open' && !!o.multiple,
  });
  const paths = chosen === null ? [] : Array.isArray(chosen) ? chosen : [chosen];
  if (paths.length > 0) remember(paths[0]);
  return paths;
}
