/**
 * What a process started with `--inspect=127.0.0.1:0` prints first on standard error; the
 * address after it is where {@link connectHeapInspector} connects.
 */
export const INSPECTOR_ANNOUNCEMENT = /Debugger listening on (ws:\/\/\S+)/;

/** The node option that makes a process announce an inspector on a free loopback port. */
export const INSPECT_ON_FREE_PORT = '--inspect=127.0.0.1:0';

export interface HeapUsage {
  /** Bytes of the V8 heap in use (live and not yet collected). */
  readonly usedBytes: number;
  /** Bytes V8 has reserved for its heap. */
  readonly totalBytes: number;
}

/** The process's own `process.memoryUsage()`. */
export type MemoryUsage = Readonly<
  Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers', number>
>;

/**
 * The V8 heap of another Node process, seen through its inspector (Chrome DevTools Protocol
 * over a WebSocket), so a test or tool can read it without any code in the process itself.
 */
export interface HeapInspector {
  usage(): Promise<HeapUsage>;
  /** A full garbage collection, then the heap in use: what is retained. */
  retained(): Promise<HeapUsage>;
  /** `process.memoryUsage()` as the process sees it. */
  memoryUsage(): Promise<MemoryUsage>;
  /** Bytes V8 reserved for each space of its heap (`new_space`, `old_space`, …). */
  spaceSizes(): Promise<Readonly<Record<string, number>>>;
  /** The most the V8 heap may grow to (`heap_size_limit`, set by --max-old-space-size). */
  sizeLimit(): Promise<number>;
  close(): void;
}

/** The `node:v8` module, from an expression evaluated in the process (ESM has no `require`). */
const V8 = "process.getBuiltinModule('node:v8')";

interface Reply {
  readonly id?: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly message: string };
}

export async function connectHeapInspector(url: string): Promise<HeapInspector> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`no inspector at ${url}`)), {
      once: true,
    });
  });
  let nextId = 1;
  const pending = new Map<number, (reply: Reply) => void>();
  socket.addEventListener('message', (event) => {
    const reply = JSON.parse(String(event.data)) as Reply;
    if (reply.id !== undefined) pending.get(reply.id)?.(reply);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => {
        pending.delete(id);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result ?? {});
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async <T>(expression: string): Promise<T> => {
    const { result } = await send('Runtime.evaluate', { expression, returnByValue: true });
    return (result as { value: T }).value;
  };
  const usage = async (): Promise<HeapUsage> => {
    const { usedSize, totalSize } = await send('Runtime.getHeapUsage');
    return { usedBytes: Number(usedSize), totalBytes: Number(totalSize) };
  };

  return {
    usage,
    async retained() {
      await send('HeapProfiler.collectGarbage');
      return usage();
    },
    memoryUsage: () => evaluate<MemoryUsage>('process.memoryUsage()'),
    spaceSizes: () =>
      evaluate<Record<string, number>>(
        `Object.fromEntries(${V8}.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]))`,
      ),
    sizeLimit: () => evaluate<number>(`${V8}.getHeapStatistics().heap_size_limit`),
    close: () => socket.close(),
  };
}
