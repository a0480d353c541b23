// The custom fetch the drop-ins' tests hand to EventSource and fetchEventSource: it records every
// call, and a Response whose body arrives one byte at a time.

/**
 * A custom fetch over the global one that records each call as { input, init } (headers copied,
 * as they were at the call). `steps[i]`, when given, replaces call i: it gets (input, init) and
 * returns what the fetch returns.
 */
export function recordingFetch(steps = []) {
  const calls = []
  const fn = (input, init) => {
    calls.push({ input, init: { ...init, headers: { ...init.headers } } })
    const step = steps[calls.length - 1]
    return step === undefined ? fetch(input, init) : step(input, init)
  }
  fn.calls = calls
  return fn
}

/** A Response whose body is the given one re-cut into one-byte chunks. */
export function oneByteChunks(response) {
  const split = new TransformStream({
    transform(chunk, controller) {
      for (const byte of chunk) controller.enqueue(new Uint8Array([byte]))
    },
  })
  return new Response(response.body.pipeThrough(split), { status: response.status, headers: response.headers })
}
