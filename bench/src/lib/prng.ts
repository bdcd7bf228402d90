/**
 * A small deterministic PRNG (an LCG): `random(n)` is an integer in [0, n). The same seed gives the same
 * sequence on every run, so benchmarks build the same data and ask the same questions.
 */
export function prng(seed: number): (n: number) => number {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}
