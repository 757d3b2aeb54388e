import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANCEL_REASONS } from '../../../src/shared/errors.js';
import { decodeFrame, encodeFrame } from '../../../src/protocol/codec.js';
import { ProxyFrameSchemas } from '../../../src/protocol/frames.js';
import {
  cancelNoticeTail,
  encodeCancelNotice,
  encodeTimeoutNotice,
} from '../../../src/protocol/notices.js';

// Any string, lone surrogates, quotes, control characters and `</script>` included.
const text = fc.string({ unit: 'binary', maxLength: 40 });
const reason = fc.constantFrom(...CANCEL_REASONS);

describe('notices encoded by template', () => {
  it('a cancel notice is byte for byte what encodeFrame gives', () => {
    fc.assert(
      fc.property(
        text,
        text,
        reason,
        fc.option(text, { nil: undefined }),
        (id, name, r, detail) => {
          const frame = {
            type: 'agent:tool-call-cancelled',
            call_id: id,
            name,
            reason: r,
            detail,
          } as const;
          expect(encodeCancelNotice(id, name, cancelNoticeTail(r, detail))).toBe(
            encodeFrame(frame),
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('a timeout notice is byte for byte what encodeFrame gives', () => {
    fc.assert(
      fc.property(text, text, (id, name) => {
        const frame = { type: 'agent:tool-call-timeout', call_id: id, name } as const;
        expect(encodeTimeoutNotice(id, name)).toBe(encodeFrame(frame));
      }),
      { numRuns: 2_000 },
    );
  });

  it('a notice decodes with the frame schema providers use', () => {
    const notice = encodeCancelNotice(
      'tc_0123456789ab',
      'move_arm',
      cancelNoticeTail('agent-loop-stopped', 'Stop requested; stop_command'),
    );
    expect(decodeFrame(notice, ProxyFrameSchemas)).toEqual({
      ok: true,
      frame: {
        type: 'agent:tool-call-cancelled',
        call_id: 'tc_0123456789ab',
        name: 'move_arm',
        reason: 'agent-loop-stopped',
        detail: 'Stop requested; stop_command',
      },
    });
  });
});
