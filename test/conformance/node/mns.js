'use strict';
// @alicloud/mns against the emulator: the queue and topic calls the product makes.
//
// The client insists on the real endpoint's host name, <uid>.mns.<region>.aliyuncs.com,
// which the emulator reads the account and region from. It is reached on loopback with
// a resolver hook: names under aliyuncs.com resolve to 127.0.0.1 in this process, and
// the endpoint carries the emulator's port (docs/emulator.md).
const dns = require('dns');
const MNS = require('@alicloud/mns');
const { load, world: w, reporter } = require('./lib');

const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (typeof hostname === 'string' && hostname.endsWith('.aliyuncs.com')) {
    const all = typeof options === 'object' && options.all;
    return process.nextTick(() => (all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));
  }
  return lookup.call(this, hostname, options, callback);
};

const e = load();
const r = reporter('@alicloud/mns');
const port = new URL(e.endpoints.mns).port;

function client(secret) {
  return new MNS(w.owner, {
    accessKeyId: e.access_key_id,
    accessKeySecret: secret || e.access_key_secret,
    endpoint: `http://${e.mns_host}:${port}`,
  });
}

async function main() {
  const c = client();
  let res = await r.check('SendMessage', () => c.sendMessage(w.queue, { MessageBody: 'job-1', Priority: 8 }));
  if (res && (res.code !== 201 || !res.body.MessageId)) {
    r.fail('SendMessage', JSON.stringify(res));
  }
  res = await r.check('BatchSendMessage', () => c.batchSendMessage(w.queue, [{ MessageBody: 'job-2' }, { MessageBody: 'job-3' }]));
  if (res && (res.code !== 201 || res.body.length !== 2)) {
    r.fail('BatchSendMessage', JSON.stringify(res));
  }
  const seen = [];
  let used = '';
  for (let i = 0; i < 3; i++) {
    res = await r.check('ReceiveMessage', () => c.receiveMessage(w.queue, 1));
    if (!res) break;
    seen.push(res.body.MessageBody);
    const handle = res.body.ReceiptHandle;
    used = handle;
    const del = await r.check('DeleteMessage', () => c.deleteMessage(w.queue, handle));
    if (del && del.code !== 204) {
      r.fail('DeleteMessage', JSON.stringify(del));
    }
  }
  if (seen.sort().join(',') !== 'job-1,job-2,job-3') {
    r.fail('ReceiveMessage', `received ${seen}, want job-1, job-2, job-3`);
  }
  await r.expectError('ReceiveMessage (empty queue)', 'MessageNotExist', () => c.receiveMessage(w.queue, 1));
  await r.expectError('DeleteMessage (a handle already used)', 'MessageNotExist', () => c.deleteMessage(w.queue, used));
  await r.expectError('DeleteMessage (not a handle)', 'ReceiptHandleError', () => c.deleteMessage(w.queue, 'bogus-handle'));
  res = await r.check('PublishMessage', () => c.publishMessage(w.topic, { MessageBody: '{"action":"share"}' }));
  if (res && (res.code !== 201 || !res.body.MessageId)) {
    r.fail('PublishMessage', JSON.stringify(res));
  }
  await r.expectError('SendMessage (no such queue)', 'QueueNotExist', () => c.sendMessage('no-such-queue', { MessageBody: 'x' }));
  await r.expectError('SendMessage (wrong secret)', 'SignatureDoesNotMatch', () => client('not-the-secret').sendMessage(w.queue, { MessageBody: 'x' }));
}

main().then(() => r.done('SendMessage, BatchSendMessage, ReceiveMessage, DeleteMessage, PublishMessage'), (err) => {
  r.fail('(script)', err.stack || err);
  r.done('');
});
