/** One server-sent event. */
export interface SseEvent {
  /** `event:` field; `message` when absent. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  id?: string;
}

/**
 * Incremental parser for `text/event-stream` (the WHATWG rules): lines end in CRLF, LF or CR (a CR
 * ending a chunk ends its line at once, and an LF opening the next chunk is then skipped); `data:` lines
 * accumulate, a blank line dispatches, lines starting with `:` are comments, a single space after
 * the colon is dropped. Feed decoded text with {@link push} and call {@link end} once at the end.
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #skipLeadingLf = false;

  push(text: string): SseEvent[] {
    const rest = this.#skipLeadingLf && text.startsWith('\n') ? text.slice(1) : text;
    if (text !== '') this.#skipLeadingLf = false;
    this.#buffer += rest;
    return this.#drain();
  }

  /** Ends the stream: a last event not followed by a blank line is still delivered. */
  end(): SseEvent[] {
    const events = this.#drain();
    if (this.#buffer !== '') {
      const event = this.#line(this.#buffer);
      if (event) events.push(event);
      this.#buffer = '';
    }
    const last = this.#dispatch();
    if (last) events.push(last);
    return events;
  }

  #drain(): SseEvent[] {
    const events: SseEvent[] = [];
    const buffer = this.#buffer;
    let start = 0;
    const terminator = /[\r\n]/g;
    for (;;) {
      terminator.lastIndex = start;
      const match = terminator.exec(buffer);
      if (match === null) break;
      const at = match.index;
      if (buffer[at] === '\r' && at + 1 === buffer.length) this.#skipLeadingLf = true;
      const line = buffer.slice(start, at);
      start = at + (buffer[at] === '\r' && buffer[at + 1] === '\n' ? 2 : 1);
      const event = this.#line(line);
      if (event) events.push(event);
    }
    this.#buffer = buffer.slice(start);
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\u0000')) this.#id = value;
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    if (this.#data.length === 0) {
      this.#event = '';
      return undefined;
    }
    const event: SseEvent = { event: this.#event || 'message', data: this.#data.join('\n') };
    if (this.#id !== undefined) event.id = this.#id;
    this.#data = [];
    this.#event = '';
    return event;
  }
}
