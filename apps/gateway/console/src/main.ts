/**
 * The Quire console: documents, upload, ask, batches and evals for the tenant of the API key entered,
 * through the gateway's public API only.
 */
import { ApiFailure, errorText, hasKey, request, setKey } from './api.js';
import { askView } from './ask.js';
import { batchesView } from './batches.js';
import { documentsView } from './documents.js';
import { h, show } from './dom.js';
import { evalsView } from './evals.js';
import { forgetJobs } from './jobs.js';
import { uploadView } from './upload.js';

type ViewName = 'documents' | 'upload' | 'ask' | 'batches' | 'evals';
const VIEWS: { name: ViewName; label: string }[] = [
  { name: 'documents', label: 'Documents' },
  { name: 'upload', label: 'Upload' },
  { name: 'ask', label: 'Ask' },
  { name: 'batches', label: 'Batches' },
  { name: 'evals', label: 'Evals' },
];

function start(): void {
  const main = h('main', { id: 'main' });
  const header = h('header', {}, h('h1', {}, 'Quire console'));
  document.body.replaceChildren(header, main);
  showKeyForm(main);
}

function showKeyForm(main: HTMLElement, message = ''): void {
  const key = h('input', {
    id: 'api-key',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
  });
  const status = h('p', { role: 'status', class: message ? 'reason' : 'status' }, message);
  const form = h(
    'form',
    { class: 'key-form', 'aria-labelledby': 'key-title' },
    h('h2', { id: 'key-title' }, 'Sign in with an API key'),
    h(
      'p',
      { class: 'muted' },
      'The key decides the tenant you see. It stays in this page’s memory only: reloading the page asks for it again.',
    ),
    h('label', { for: 'api-key' }, 'API key'),
    key,
    h('button', { type: 'submit' }, 'Open the console'),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      setKey(key.value.trim());
      status.textContent = 'Checking the key…';
      try {
        await request('GET', 'v1/documents?limit=1');
        key.value = '';
        showConsole(main);
      } catch (error) {
        setKey(null);
        status.className = 'reason';
        status.textContent =
          error instanceof ApiFailure && error.status === 401
            ? 'The gateway refused this key.'
            : `Could not check the key: ${errorText(error)}`;
      }
    })();
  });
  show(main, form);
  key.focus();
}

function showConsole(main: HTMLElement): void {
  const documents = documentsView();
  const evals = evalsView();
  const views: Record<ViewName, HTMLElement> = {
    documents: documents.element,
    upload: uploadView(),
    ask: askView(),
    batches: batchesView(),
    evals: evals.element,
  };
  const tabs = VIEWS.map(({ name, label }) =>
    h('button', { type: 'button', 'data-view': name, onclick: () => select(name) }, label),
  );
  const signOut = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: () => {
        setKey(null);
        forgetJobs();
        document.querySelector('nav')?.remove();
        showKeyForm(main);
      },
    },
    'Sign out',
  );
  const nav = h('nav', { 'aria-label': 'Views' }, ...tabs, signOut);
  document.querySelector('header')?.appendChild(nav);
  const select = (name: ViewName) => {
    if (!hasKey()) return;
    for (const tab of tabs) {
      if (tab.dataset.view === name) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    show(main, views[name]);
    if (name === 'documents') void documents.refresh();
    if (name === 'evals') void evals.refresh();
  };
  select('documents');
}

start();
