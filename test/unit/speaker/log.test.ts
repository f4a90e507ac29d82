import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, isLogLevel } from '../../../src/log.js';

describe('createLogger', () => {
  it('writes one JSON object per line with ts, level, event and fields; filters by level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l), now: () => new Date(0) }).with({ node: 'n1' });
    log.debug('hidden');
    log.info('sessionUp', { peer: '10.0.0.1:179', error: new Error('boom'), big: 5n, none: undefined });
    log.error('configStale', { event: 'spoofed', level: 'debug', file: '/x' });
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
    assert.deepEqual(JSON.parse(lines[0]!), { ts: '1970-01-01T00:00:00.000Z', level: 'info', event: 'sessionUp', node: 'n1', peer: '10.0.0.1:179', error: 'boom', big: '5', none: null });
    const second = JSON.parse(lines[1]!) as Record<string, unknown>;
    assert.equal(second['event'], 'configStale', 'fields cannot hide the event');
    assert.equal(second['level'], 'error');
  });

  it('isLogLevel', () => {
    assert.equal(isLogLevel('warn'), true);
    assert.equal(isLogLevel('verbose'), false);
  });
});
