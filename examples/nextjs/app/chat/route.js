// The App Router route handler: POST /chat relays the upstream completion to the browser. The
// request's signal aborts the upstream when the browser leaves; so does the response body being
// cancelled.
import { SSEClient } from 'native-sse'

// One client is one connection pool, shared by every request this server handles.
const sse = new SSEClient({ headers: { authorization: `Bearer ${process.env.API_KEY ?? 'demo-key'}` } }).create()
const url = `${process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8080/v1/'}chat/completions`

export const dynamic = 'force-dynamic'

export async function POST(request) {
  return sse.stream({ url, body: await request.json(), signal: request.signal, doneData: '[DONE]' }).toResponse()
}
