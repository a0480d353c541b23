// The events an EventSource dispatches, recorded for assertions (the drop-in's tests, with and
// without a custom fetch).

/**
 * Logs every event of `es` (the three standard types and `extra` named ones) as
 * [type, readyState at dispatch, event]; `until(pred)` resolves once pred(log) holds.
 */
export function record(es, extra = []) {
  const log = []
  let checks = []
  for (const type of ['open', 'message', 'error', ...extra]) {
    es.addEventListener(type, (event) => {
      log.push([type, es.readyState, event])
      checks = checks.filter((check) => !check())
    })
  }
  log.until = (pred) =>
    new Promise((resolve) => {
      const check = () => {
        if (!pred(log)) return false
        resolve(log)
        return true
      }
      if (!check()) checks.push(check)
    })
  log.count = (type) => log.filter(([t]) => t === type).length
  log.states = () =>
    log.map(([type, state, event]) => (type === 'message' ? `${type}:${event.data}@${state}` : `${type}@${state}`))
  log.errors = () => log.filter(([t]) => t === 'error').map(([, state, event]) => [state, event.message])
  return log
}
