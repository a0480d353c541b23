'use client'
// The page: POSTs a question to /chat and shows the answer as the events arrive (EventSource cannot
// POST, so the body is read by hand: the relay writes `\n` line ends, so a blank line ends a block).
import { useEffect, useState } from 'react'

/** The token of one event block, or null for a comment; throws for the relay's `event: error`. */
function tokenOf(block) {
  let event = 'message'
  const data = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5))
  }
  if (data.length === 0) return null
  const payload = JSON.parse(data.join('\n'))
  if (event === 'error') throw new Error(`${payload.code}: ${payload.message}`)
  return payload.choices?.[0]?.delta?.content ?? ''
}

export default function Page() {
  const [question, setQuestion] = useState('What is native-sse?')
  const [answer, setAnswer] = useState('')
  const [status, setStatus] = useState('idle')
  const [ready, setReady] = useState(false)
  useEffect(() => setReady(true), [])

  async function ask(e) {
    e.preventDefault()
    setAnswer('')
    setStatus('streaming')
    try {
      const res = await fetch('/chat', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo-1', stream: true, messages: [{ role: 'user', content: question }] }),
      })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        const blocks = buffer.split('\n\n')
        buffer = blocks.pop()
        for (const block of blocks) {
          const token = tokenOf(block)
          if (token) setAnswer((text) => text + token)
        }
      }
      setStatus('done')
    } catch (err) {
      setStatus(`error: ${err.message}`)
    }
  }

  return (
    <main>
      <form id="ask" onSubmit={ask} data-ready={ready ? '' : undefined}>
        <input id="question" value={question} onChange={(e) => setQuestion(e.target.value)} autoComplete="off" />
        <button id="send" type="submit" disabled={status === 'streaming'}>
          Ask
        </button>
      </form>
      <p id="answer" aria-live="polite">
        {answer}
      </p>
      <p id="status">{status}</p>
    </main>
  )
}
