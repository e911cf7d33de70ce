import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { TauriBackend } from './lib/backend/tauri';
import { setBackend } from './lib/app.svelte';
import { applyTheme, theme } from './lib/theme.svelte';
import { i18n, setLocale } from './lib/i18n/index.svelte';
import { setPicker } from './lib/files';
import { open, save } from '@tauri-apps/plugin-dialog';

setBackend(new TauriBackend());
// The platform's open and save dialogs (the capability allows only these two).
setPicker((req) =>
  req.mode === 'save'
    ? save({ title: req.title, defaultPath: req.defaultPath, filters: req.filters })
    : open({ title: req.title, defaultPath: req.defaultPath, filters: req.filters, multiple: req.multiple, directory: false }),
);
applyTheme(theme.choice);
setLocale(i18n.locale);

const target = document.getElementById('app');
if (target) mount(App, { target });
