// Type test of the drop-in modules against the DOM lib, checked by
// `tsc -p __test__/tsconfig.compat-dom.json`: an EventSource is assignable where the DOM
// EventSource is expected, and code typed with @microsoft/fetch-event-source's own types compiles
// against this fetchEventSource.
import { EventSource } from 'native-sse/eventsource'
import { fetchEventSource } from 'native-sse/fetch-event-source'
import {
  fetchEventSource as microsoftFetchEventSource,
  type FetchEventSourceInit as MicrosoftInit,
  type EventSourceMessage as MicrosoftMessage,
} from '@microsoft/fetch-event-source'

const es = new EventSource('http://127.0.0.1:1/sse')
const dom: globalThis.EventSource = es
const DomCtor: typeof globalThis.EventSource = EventSource
void [dom, DomCtor]

// A function written for the DOM EventSource accepts this one.
function listen(source: globalThis.EventSource): void {
  source.onmessage = (ev) => void ev.data
  source.addEventListener('open', () => source.close())
}
listen(es)

// Options typed with the Microsoft package's types are accepted as they are.
const init: MicrosoftInit = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: '{}',
  async onopen(response: Response) {
    if (!response.ok) throw new Error(String(response.status))
  },
  onmessage: (ev: MicrosoftMessage) => void ev.data,
  onerror: () => 100,
  fetch: (input: RequestInfo | URL, fetchInit?: RequestInit) => fetch(input, fetchInit),
}
const done: Promise<void> = fetchEventSource('http://127.0.0.1:1/sse', init)
void done
// And this fetchEventSource fits where the package's is expected.
const asMicrosoft: typeof microsoftFetchEventSource = fetchEventSource
void asMicrosoft
