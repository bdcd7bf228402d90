/** Upload: several files at once, dropped or chosen; each with its upload progress, then its ingestion. */
import { errorText, upload } from './api.js';
import { h, show } from './dom.js';
import { describeJob, onJobsChange, type TrackedJob, track } from './jobs.js';
import type { JobAccepted } from './types.js';

interface Entry {
  file: File;
  sent: number;
  error: string | null;
  job: TrackedJob | null;
  item: HTMLLIElement;
}

export function uploadView(): HTMLElement {
  const input = h('input', {
    type: 'file',
    id: 'upload-files',
    multiple: true,
    class: 'visually-hidden-focusable',
  });
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const entries: Entry[] = [];

  const renderEntry = (entry: Entry) => {
    const { file, job } = entry;
    const percent = file.size === 0 ? 100 : Math.round((entry.sent / file.size) * 100);
    const state =
      entry.error ?? (job ? describeJob(job) : percent < 100 ? `uploading ${percent}%` : 'uploaded');
    show(
      entry.item,
      h('span', { class: 'file-name' }, file.name),
      h('progress', { max: 100, value: percent, 'aria-label': `Upload of ${file.name}` }),
      h('span', { class: `upload-state${entry.error || job?.state === 'failed' ? ' reason' : ''}` }, state),
    );
  };

  const send = async (files: readonly File[]) => {
    for (const file of files) {
      const entry: Entry = { file, sent: 0, error: null, job: null, item: h('li') };
      entries.push(entry);
      list.appendChild(entry.item);
      renderEntry(entry);
    }
    // One after another: a large batch does not open dozens of connections at once.
    for (const entry of entries.filter((e) => e.sent === 0 && e.job === null && e.error === null)) {
      try {
        const accepted = await upload<JobAccepted>(entry.file, (sent) => {
          entry.sent = sent;
          renderEntry(entry);
        });
        entry.sent = entry.file.size;
        entry.job = track(accepted.jobId, accepted.documentId ?? entry.file.name, 'ingest');
      } catch (error) {
        entry.error = `not sent: ${errorText(error)}`;
      }
      renderEntry(entry);
    }
  };

  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    void send(files);
  });
  const zone = h(
    'div',
    { class: 'drop-zone', 'data-testid': 'drop-zone' },
    h('p', {}, 'Drop files here, or '),
    h('label', { for: 'upload-files', class: 'button' }, 'choose files'),
    input,
    h(
      'p',
      { class: 'muted' },
      'PDF, text, Markdown, HTML, DOCX, CSV, JSON. Each file becomes a document named after it.',
    ),
  );
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    void send([...(event.dataTransfer?.files ?? [])]);
  });
  onJobsChange(() => {
    for (const entry of entries) if (entry.job) renderEntry(entry);
  });
  return h(
    'section',
    { 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload'),
    zone,
    list,
  );
}
