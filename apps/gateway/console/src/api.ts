/**
 * The console's only way to the gateway: its public `/v1` routes, with the API key in the
 * Authorization header. The key lives in this module's memory alone: never in a URL, a cookie or
 * storage, so a reload asks for it again (a password manager can fill it in). No cookies means no
 * request the browser sends on its own, so there is nothing for a cross-site request to forge.
 */

export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The gateway's base URL: the console is served at `<base>/console/`, so this works behind a path prefix too. */
const BASE = new URL('../', window.location.href);

let apiKey: string | null = null;

export function setKey(key: string | null): void {
  apiKey = key;
}

export function hasKey(): boolean {
  return apiKey !== null;
}

function url(path: string): string {
  return new URL(path.replace(/^\//, ''), BASE).toString();
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  if (apiKey === null) throw new ApiFailure(401, 'unauthorized', 'enter an API key first');
  return { authorization: `Bearer ${apiKey}`, ...extra };
}

async function failure(response: Response): Promise<ApiFailure> {
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) message = body.error.message;
    if (body.error?.code) code = body.error.code;
  } catch {
    // Not the gateway's error shape (a proxy's page): the status says enough.
  }
  return new ApiFailure(response.status, code, message);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(url(path), {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

export async function download(path: string): Promise<Blob> {
  const response = await fetch(url(path), { headers: headers(), credentials: 'omit', cache: 'no-store' });
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/** Uploads one file (multipart), reporting the bytes sent; resolves with the accepted job. */
export function upload<T>(file: File, onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url('v1/documents/upload'));
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      const body = xhr.response as { error?: { code?: string; message?: string } } | null;
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else
        reject(
          new ApiFailure(
            xhr.status,
            body?.error?.code ?? 'http_error',
            body?.error?.message ?? `upload failed (${xhr.status})`,
          ),
        );
    });
    xhr.addEventListener('error', () => reject(new ApiFailure(0, 'network', 'the gateway did not answer')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
