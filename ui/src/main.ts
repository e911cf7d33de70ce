import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { TauriBackend } from './lib/backend/tauri';
import { setBackend } from './lib/app.svelte';
import { applyTheme, theme } from './lib/theme.svelte';
import { i18n, setLocale } from './lib/i18n/index.svelte';

setBackend(new TauriBackend());
applyTheme(theme.choice);
setLocale(i18n.locale);

const target = document.getElementById('app');
if (target) mount(App, { target });
