import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CeaseSubcode, NotificationCode, OpenSubcode, notificationName } from '../../../src/bgp/constants.js';

test('NOTIFICATION names: code/subcode from the RFC tables; subcode 0 of a code without one is Unspecific', () => {
  assert.equal(notificationName(NotificationCode.OpenMessageError, OpenSubcode.BadPeerAs), 'OpenMessageError/BadPeerAs');
  assert.equal(notificationName(NotificationCode.Cease, CeaseSubcode.AdministrativeShutdown), 'Cease/AdministrativeShutdown');
  // RFC 4271 §6.5: Hold Timer Expired has no subcodes.
  assert.equal(notificationName(NotificationCode.HoldTimerExpired, 0), 'HoldTimerExpired/Unspecific');
  assert.equal(notificationName(NotificationCode.HoldTimerExpired, 7), 'HoldTimerExpired/Unknown(7)');
  assert.equal(notificationName(99, 1), 'Unknown(99)/Unknown(1)');
});
