// Tells the deliveries of the binding to JS apart: one delivery is one synchronous run of callbacks,
// with no microtask checkpoint in between.

/** Groups the values added in one synchronous run (one delivery) together, in `groups`. */
export function deliveries() {
  const groups = []
  let open = false
  return {
    groups,
    add(value) {
      if (!open) {
        open = true
        groups.push([])
        queueMicrotask(() => (open = false))
      }
      groups.at(-1).push(value)
    },
  }
}
