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
