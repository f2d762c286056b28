import { describe, expect, it } from 'vitest';
import { createGroupCommit } from './group-commit.ts';

/** A writer that records each transaction's ops and refuses any op named "bad". */
function recordingWriter() {
  const writes: string[][] = [];
  return {
    writes,
    write: async (ops: string[]) => {
      if (ops.includes('bad')) throw new Error('bad op');
      writes.push(ops);
    },
  };
}

describe('createGroupCommit', () => {
  it('commits submissions made in the same turn of the event loop in one write', async () => {
    const w = recordingWriter();
    const gc = createGroupCommit<string>({ write: w.write });
    await Promise.all([gc.submit(['a']), gc.submit(['b', 'c']), gc.submit(['d'])]);
    expect(w.writes).toEqual([['a', 'b', 'c', 'd']]);
  });

  it('fails only the submission whose ops fail; its neighbours are written alone', async () => {
    const w = recordingWriter();
    const errors: unknown[] = [];
    const gc = createGroupCommit<string>({ write: w.write, onError: (e) => errors.push(e) });
    const results = await Promise.allSettled([gc.submit(['a']), gc.submit(['bad']), gc.submit(['b'])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(w.writes).toEqual([['a'], ['b']]);
    expect(errors).toHaveLength(1);
  });

  it('answers submitWith through its callback, after the commit, with the error when it fails', async () => {
    const w = recordingWriter();
    const gc = createGroupCommit<string>({ write: w.write });
    const outcomes: string[] = [];
    gc.submitWith(['x'], (e) => outcomes.push(e ? 'x failed' : `x after ${w.writes.length} write(s)`));
    gc.submitWith(['bad'], (e) => outcomes.push(e ? `bad: ${(e as Error).message}` : 'bad ok'));
    expect(outcomes).toEqual([]); // nothing is answered before the write
    await gc.drain();
    expect(outcomes).toEqual(['x after 1 write(s)', 'bad: bad op']);
  });

  it('keeps going when a callback throws', async () => {
    const w = recordingWriter();
    const errors: unknown[] = [];
    const gc = createGroupCommit<string>({ write: w.write, onError: (e) => errors.push(e) });
    gc.submitWith(['a'], () => {
      throw new Error('callback bug');
    });
    const later = gc.submit(['b']);
    await expect(later).resolves.toBeUndefined();
    expect(errors.map((e) => (e as Error).message)).toEqual(['callback bug']);
  });
});

describe('createGroupCommit with a synchronous writer', () => {
  /** Like recordingWriter, but commits before it returns (as SQLite's prepared statements do). */
  function syncWriter() {
    const writes: string[][] = [];
    return {
      writes,
      write: (ops: string[]) => {
        if (ops.includes('bad')) throw new Error('bad op');
        writes.push(ops);
      },
    };
  }

  it('commits a turn’s submissions in one write and answers each, in order', async () => {
    const w = syncWriter();
    const gc = createGroupCommit<string>({ write: w.write });
    const outcomes: string[] = [];
    gc.submitWith(['a'], (e) => outcomes.push(e ? 'a failed' : 'a'));
    const b = gc.submit(['b', 'c']).then(() => outcomes.push('b'));
    gc.submitWith(['d'], (e) => outcomes.push(e ? 'd failed' : 'd'));
    expect(outcomes).toEqual([]);
    await gc.drain();
    await b;
    expect(w.writes).toEqual([['a', 'b', 'c', 'd']]);
    expect(outcomes).toEqual(['a', 'd', 'b']); // callbacks at once; the promise a microtask later
  });

  it('writes each submission alone after a grouped write fails, and fails only the bad one', async () => {
    const w = syncWriter();
    const errors: unknown[] = [];
    const gc = createGroupCommit<string>({ write: w.write, onError: (e) => errors.push(e) });
    const results = await Promise.allSettled([gc.submit(['a']), gc.submit(['bad']), gc.submit(['b'])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(w.writes).toEqual([['a'], ['b']]);
    expect(errors).toHaveLength(1);
  });

  it('follows a writer that answers synchronously once and asynchronously the next time', async () => {
    const writes: string[][] = [];
    let calls = 0;
    const gc = createGroupCommit<string>({
      // Like the SQLite writers: synchronous unless another transaction holds the connection.
      write: (ops) => {
        calls++;
        if (calls % 2 === 0) return new Promise<void>((resolve) => setTimeout(() => resolve(void writes.push(ops)), 5));
        writes.push(ops);
      },
    });
    await Promise.all([gc.submit(['a']), gc.submit(['b'])]);
    await Promise.all([gc.submit(['c'])]);
    const late = gc.submit(['d']);
    gc.submitWith(['e'], () => {});
    await gc.drain();
    await late;
    expect(writes).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
  });
});
