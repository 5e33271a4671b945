import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { formatNotice, noticesOf, refusalOf, remedyFor } from '../../src/run/notices.js';

describe('server notices', () => {
  it("hears a pg client's notices until told to stop", () => {
    const client = new EventEmitter();
    const heard: string[] = [];
    const stop = noticesOf(client)!((notice) => heard.push(formatNotice(notice)));
    client.emit('notice', {
      severity: 'WARNING',
      message: 'publication "p" does not exist on the publisher',
      code: '42704',
    });
    client.emit('notice', { severity: 'NOTICE', message: 'slot dropped', hint: 'none needed' });
    stop();
    client.emit('notice', { severity: 'NOTICE', message: 'after' });
    expect(heard).toEqual([
      'WARNING: publication "p" does not exist on the publisher',
      'NOTICE: slot dropped Hint: none needed',
    ]);
    expect(noticesOf({ query: () => undefined })).toBeUndefined();
  });

  it('turns a missing-publication warning into a refusal naming the subscription, and nothing else', () => {
    const refusal = refusalOf(
      { severity: 'WARNING', message: 'publications "a", "b" do not exist on the publisher' },
      `DO $x$ CREATE SUBSCRIPTION "My Sub" CONNECTION`,
    );
    expect(refusal?.message).toBe(
      'publications "a", "b" do not exist on the publisher: this subscription would receive nothing from "a", "b".',
    );
    expect(refusal?.hint).toContain(
      'ALTER SUBSCRIPTION "My Sub" DISABLE; ALTER SUBSCRIPTION "My Sub" SET (slot_name = NONE); DROP SUBSCRIPTION "My Sub";',
    );
    expect(
      refusalOf({ severity: 'NOTICE', message: 'publication "a" does not exist on the publisher' }),
    ).toBeUndefined();
    expect(refusalOf({ severity: 'WARNING', message: 'something else' })).toBeUndefined();
  });

  it('says what to run when DROP SUBSCRIPTION cannot reach its slot, and only then', () => {
    expect(
      remedyFor(
        'DROP SUBSCRIPTION notes_sub',
        'could not drop replication slot "s" on publisher: ERROR: replication slot "s" does not exist',
      ),
    ).toContain(
      'ALTER SUBSCRIPTION notes_sub DISABLE; ALTER SUBSCRIPTION notes_sub SET (slot_name = NONE); then run this down again',
    );
    expect(remedyFor('DROP SUBSCRIPTION notes_sub', 'permission denied')).toBeUndefined();
    expect(remedyFor('DROP PUBLICATION p', 'could not connect to publisher')).toBeUndefined();
  });
});
