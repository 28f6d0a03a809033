'use strict';
// Shared by the conformance scripts: the running emulator (IMAGESHARE_EMULATOR names the
// file holding what `imageshare emulator --json` printed), the world's IDs
// (test/conformance/world.yaml) and the failure report: one line per failure, starting
// "CONFORMANCE FAIL", naming the client, the call and the answer.
const fs = require('fs');

function load() {
  const path = process.env.IMAGESHARE_EMULATOR;
  if (!path) {
    console.error('IMAGESHARE_EMULATOR is not set: run test/conformance/run, which starts `imageshare emulator --json`');
    process.exit(2);
  }
  const e = JSON.parse(fs.readFileSync(path, 'utf8'));
  if (e.region !== 'cn-hangzhou' || e.account_id !== '1000000000000001') {
    console.error(`CONFORMANCE FAIL setup: the emulator serves ${e.region}/${e.account_id}, not test/conformance/world.yaml`);
    process.exit(1);
  }
  return e;
}

const world = {
  region: 'cn-hangzhou',
  owner: '1000000000000001',
  directory: 'rd-Conf01',
  root: 'r-Conf01',
  prod: 'fd-Prod000001',
  member: '1000000000000002',
  imgAvail: 'm-NodeAvail00001',
  imgUnavail: 'm-NodeUnavail0001',
  imgShare: 'm-NodeShare00001',
  imgExtra: 'm-NodeExtra00001',
  imgFull: 'm-NodeFull000001',
  shareName: 'conf-node',
  queue: 'imageshare-jobs',
  topic: 'imageshare-notify',
  outside: (i) => '20000000000000' + String(i).padStart(2, '0'),
};

function reporter(client) {
  let failures = 0;
  const oneLine = (s) => String(s).split(/\s+/).join(' ');
  return {
    fail(call, answer) {
      failures++;
      console.log(`CONFORMANCE FAIL ${client} ${call}: ${oneLine(answer)}`);
    },
    // check runs fn; a thrown error is the answer.
    async check(call, fn) {
      try {
        return await fn();
      } catch (err) {
        this.fail(call, `${err.code || err.name}: ${err.message}`);
        return undefined;
      }
    },
    // expectError runs fn and wants it to fail with code (and status, when given).
    async expectError(call, code, fn) {
      try {
        const res = await fn();
        this.fail(call, `succeeded (${JSON.stringify(res)}), want ${code}`);
      } catch (err) {
        const got = err.code || (err.name || '').replace(/^MNS/, '').replace(/Error$/, '');
        if (got !== code) {
          this.fail(call, `answered ${got}: ${err.message}, want ${code}`);
        }
      }
    },
    done(what) {
      if (failures > 0) {
        console.log(`${client}: ${failures} failure(s)`);
        process.exit(1);
      }
      console.log(`${client}: ${what}: ok`);
    },
  };
}

const sorted = (xs) => [...xs].sort();
const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

module.exports = { load, world, reporter, same };
