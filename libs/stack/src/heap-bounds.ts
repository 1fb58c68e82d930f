/**
 * The V8 heap bounds every service process runs with. Left alone, V8 sizes its heap from the
 * machine's memory (on 24 GB: a 4 GB limit and 32 MB semi-spaces), and under steady traffic a
 * gateway that keeps 30 MB alive grows a 64 MB young generation plus tens of MB of old garbage
 * between full collections, its RSS following. 4 MB semi-spaces and a 512 MB old generation keep
 * the heap near what is alive (docs/benchmarks.md, "Memory under malformed traffic").
 */
export const SERVICE_HEAP_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--max-old-space-size=512',
];

/**
 * NODE_OPTIONS for a service: the heap bounds first, then what the environment already gives,
 * so that its own `--max-old-space-size` (the later one wins) can still raise them.
 */
export function withHeapBounds(nodeOptions: string | undefined): string {
  return [...SERVICE_HEAP_FLAGS, nodeOptions?.trim()].filter(Boolean).join(' ');
}
