// A small seeded PRNG (xorshift32), so that a failing property round can be replayed with its seed.
export function rng(seed) {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 0x100000000
  }
}

/** One element of `list`, chosen by the PRNG `r`. */
export const pick = (r, list) => list[Math.floor(r() * list.length)]
