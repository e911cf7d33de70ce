import { afterEach, describe, expect, it } from 'vitest';
import { choosePaths, folderOf, lastFolder, pickerAvailable, setPicker, suggestedName, type DialogRequest } from './files';

describe('native file dialogs (lib/files.ts)', () => {
  afterEach(() => {
    setPicker(null);
    localStorage.clear();
  });

  it('without a platform dialog there is no button and nothing is chosen', async () => {
    expect(pickerAvailable()).toBe(false);
    expect(await choosePaths({ mode: 'open', kind: 'bundle' })).toEqual([]);
  });

  it('remembers the last folder (never the file name) and starts the next dialog there', async () => {
    const asked: DialogRequest[] = [];
    setPicker(async (req) => {
      asked.push(req);
      return req.mode === 'save' ? '/media/usb/field/yaddash-bundle.ydb' : ['/media/usb/field/trust.json'];
    });
    expect(pickerAvailable()).toBe(true);
    expect(await choosePaths({ mode: 'save', kind: 'bundle' })).toEqual(['/media/usb/field/yaddash-bundle.ydb']);
    expect(asked[0].defaultPath).toBe('yaddash-bundle.ydb');
    expect(asked[0].filters[0].extensions).toEqual(['ydb', 'yaddash']);
    expect(lastFolder()).toBe('/media/usb/field');
    expect(localStorage.getItem('yaddash.last_folder')).not.toContain('.ydb');

    expect(await choosePaths({ mode: 'open', kind: 'trust' })).toEqual(['/media/usb/field/trust.json']);
    expect(asked[1].defaultPath).toBe('/media/usb/field');
    expect(asked[1].multiple).toBe(false);

    // A path already typed wins over the remembered folder.
    await choosePaths({ mode: 'save', kind: 'register', format: 'pdf', current: '/home/a/exports/old.pdf' });
    expect(asked[2].defaultPath).toBe('/home/a/exports/register.pdf');
    expect(asked[2].filters[0].extensions).toEqual(['pdf']);
  });

  it('a cancelled dialog changes nothing', async () => {
    setPicker(async () => null);
    localStorage.setItem('yaddash.last_folder', '/media/usb');
    expect(await choosePaths({ mode: 'open', kind: 'attachment', multiple: true })).toEqual([]);
    expect(lastFolder()).toBe('/media/usb');
  });

  it('folders and suggested names', () => {
    expect(folderOf('/media/usb/a.ydb')).toBe('/media/usb');
    expect(folderOf('/a.ydb')).toBe('/');
    expect(folderOf('a.ydb')).toBeNull();
    expect(suggestedName('register', 'uwazi')).toBe('register.csv');
    expect(suggestedName('register', 'esf')).toBe('register.json');
    expect(suggestedName('identity')).toBe('my-device.json');
  });
});
