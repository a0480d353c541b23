// The floor: node:net, the HTTP request written by hand, keep-alive sockets reused. It does no SSE
// parsing: it counts events as the "\n\n" that end them (the server never splits an event across
// two HTTP chunks, so chunked framing cannot hide or fake one) and knows the response is over at
// the last chunk, "0\r\n\r\n". Only where a scenario needs the event data (latency) does it cut
// the `data:` lines out of the bytes.
import net from 'node:net'

const NL = 10
const LAST_CHUNK = Buffer.from('0\r\n\r\n')
const DATA_LINE = /data: ([^\n]*)\n\n/g

export function createClient({ url, wantData }) {
  const { hostname, port, pathname, search } = new URL(url)
  const idle = []

  function connect() {
    const socket = idle.pop()
    if (socket !== undefined) return socket
    const fresh = net.connect({ host: hostname, port: Number(port), noDelay: true })
    // A stream in flight has its own listeners; these cover an idle socket the server closes.
    fresh.on('error', () => {})
    fresh.on('close', () => {
      const at = idle.indexOf(fresh)
      if (at !== -1) idle.splice(at, 1)
    })
    return fresh
  }

  return {
    stream(body, sink) {
      const json = JSON.stringify(body)
      const request =
        `POST ${pathname}${search} HTTP/1.1\r\nhost: ${hostname}:${port}\r\naccept: text/event-stream\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`
      const socket = connect()
      return new Promise((resolve, reject) => {
        let first = true
        let endsWithNewline = false
        let text = ''
        const decoder = new TextDecoder()
        // The last bytes seen, to spot LAST_CHUNK when it straddles two reads.
        let tail = Buffer.alloc(0)

        const finish = (err) => {
          socket.off('data', onData)
          socket.off('error', finish)
          socket.off('close', onClose)
          if (err) {
            socket.destroy()
            reject(err)
            return
          }
          idle.push(socket)
          resolve()
        }
        const onClose = () => finish(new Error('connection closed before the end of the stream'))
        const onData = (chunk) => {
          if (first) {
            first = false
            if (!chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 200')) {
              finish(new Error(`bad response: ${chunk.toString('latin1', 0, 40)}`))
              return
            }
          }
          if (wantData) {
            text += decoder.decode(chunk, { stream: true })
            let last = 0
            for (const match of text.matchAll(DATA_LINE)) {
              if (match[1] !== '[DONE]') sink.data(match[1])
              last = match.index + match[0].length
            }
            text = text.slice(last)
          } else {
            let n = 0
            let pos = 0
            if (endsWithNewline && chunk[0] === NL) {
              n++
              pos = 1
            }
            while ((pos = chunk.indexOf('\n\n', pos)) !== -1) {
              n++
              pos += 2
            }
            endsWithNewline = chunk[chunk.length - 1] === NL
            if (n > 0) sink.many(n)
          }
          tail = Buffer.concat([tail, chunk.subarray(-LAST_CHUNK.length)]).subarray(-LAST_CHUNK.length)
          if (tail.equals(LAST_CHUNK)) {
            // Every block was counted as an event, the final [DONE] too: take it back.
            if (!wantData) sink.many(-1)
            finish()
          }
        }
        socket.on('data', onData)
        socket.on('error', finish)
        socket.on('close', onClose)
        socket.write(request)
      })
    },
    close() {
      for (const socket of idle) socket.destroy()
      idle.length = 0
    },
  }
}
