'use strict';
// @alicloud/pop-core (signature V1, HMAC-SHA1) against the emulator: the calls the
// product makes on ECS, Resource Manager and Resource Sharing, and documented errors.
const RPCClient = require('@alicloud/pop-core');
const { load, world: w, reporter, same } = require('./lib');

const e = load();
const r = reporter('@alicloud/pop-core (V1 HMAC-SHA1)');

function client(product, version, secret) {
  return new RPCClient({
    accessKeyId: e.access_key_id,
    accessKeySecret: secret || e.access_key_secret,
    endpoint: e.endpoints[product],
    apiVersion: version,
  });
}

async function main() {
  const ecs = client('ecs', '2014-05-26');
  const post = { method: 'POST' };

  // DescribeImages: Available only unless Status says otherwise (GET and POST).
  let res = await r.check('ecs:DescribeImages', () => ecs.request('DescribeImages', { RegionId: w.region, ImageOwnerAlias: 'self', PageSize: 100 }));
  let ids = res ? res.Images.Image.map((i) => i.ImageId) : [];
  if (res && (!ids.includes(w.imgAvail) || ids.includes(w.imgUnavail))) {
    r.fail('ecs:DescribeImages (no Status)', `images ${ids}, want ${w.imgAvail} and not ${w.imgUnavail}`);
  }
  res = await r.check('ecs:DescribeImages Status', () => ecs.request('DescribeImages',
    { RegionId: w.region, ImageOwnerAlias: 'self', Status: 'Available,UnAvailable', PageSize: 100 }, post));
  ids = res ? res.Images.Image.map((i) => i.ImageId) : [];
  if (res && !(ids.includes(w.imgAvail) && ids.includes(w.imgUnavail))) {
    r.fail('ecs:DescribeImages Status=Available,UnAvailable', `images ${ids}`);
  }

  const shared = async (image) => {
    const s = await r.check('ecs:DescribeImageSharePermission', () => ecs.request('DescribeImageSharePermission',
      { RegionId: w.region, ImageId: image, PageSize: 100 }, post));
    return s ? s.Accounts.Account.map((a) => a.AliyunId) : [];
  };
  let got = await shared(w.imgAvail);
  if (!same(got, [w.member])) {
    r.fail('ecs:DescribeImageSharePermission', `${w.imgAvail} is shared with ${got}, want ${w.member}`);
  }

  // Eleven accounts in one call: the first ten are shared, the eleventh ignored.
  const eleven = [];
  for (let i = 51; i <= 61; i++) eleven.push(w.outside(i));
  await r.check('ecs:ModifyImageSharePermission (11 AddAccount)', () => ecs.request('ModifyImageSharePermission',
    { RegionId: w.region, ImageId: w.imgShare, AddAccount: eleven }, post));
  got = await shared(w.imgShare);
  if (!same(got, eleven.slice(0, 10))) {
    r.fail('ecs:ModifyImageSharePermission (11 AddAccount)', `shared with ${got}, want the first ten (the 11th ignored)`);
  }
  await r.check('ecs:ModifyImageSharePermission (RemoveAccount)', () => ecs.request('ModifyImageSharePermission',
    { RegionId: w.region, ImageId: w.imgShare, RemoveAccount: [w.outside(51)] }, post));
  got = await shared(w.imgShare);
  if (got.length !== 9 || got.includes(w.outside(51))) {
    r.fail('ecs:ModifyImageSharePermission (RemoveAccount)', `shared with ${got}`);
  }

  await r.check('ecs:TagResources', () => ecs.request('TagResources', {
    RegionId: w.region, ResourceType: 'image', ResourceId: [w.imgShare], Tag: [{ Key: 'imageshare:mode', Value: 'additive' }],
  }, post));
  res = await r.check('ecs:DescribeImages ImageId', () => ecs.request('DescribeImages', { RegionId: w.region, ImageId: w.imgShare }));
  const tags = res && res.Images.Image[0] ? res.Images.Image[0].Tags.Tag : [];
  if (!tags.some((t) => t.TagKey === 'imageshare:mode' && t.TagValue === 'additive')) {
    r.fail('ecs:TagResources', `tags of ${w.imgShare} afterwards: ${JSON.stringify(tags)}`);
  }

  await r.expectError('ecs:DescribeImageSharePermission (no such image)', 'InvalidImageId.NotFound',
    () => ecs.request('DescribeImageSharePermission', { RegionId: w.region, ImageId: 'm-Nope00000001' }, post));
  await r.expectError('ecs:ModifyImageSharePermission (51st account)', 'QuotaExceed.ShareImageUser',
    () => ecs.request('ModifyImageSharePermission', { RegionId: w.region, ImageId: w.imgFull, AddAccount: [w.outside(51)] }, post));
  await r.expectError('ecs:DescribeImages (wrong secret)', 'SignatureDoesNotMatch',
    () => client('ecs', '2014-05-26', 'not-the-secret').request('DescribeImages', { RegionId: w.region }));

  // Resource Manager.
  const rm = client('resourcemanager', '2020-03-31');
  res = await r.check('resourcemanager:GetResourceDirectory', () => rm.request('GetResourceDirectory', {}, post));
  if (res && (res.ResourceDirectory.ResourceDirectoryId !== w.directory || res.ResourceDirectory.RootFolderId !== w.root)) {
    r.fail('resourcemanager:GetResourceDirectory', JSON.stringify(res));
  }
  res = await r.check('resourcemanager:ListAccounts', () => rm.request('ListAccounts', { PageSize: 100 }, post));
  const members = res ? res.Accounts.Account.map((a) => a.AccountId) : [];
  if (res && !same(members, [w.owner, w.member, '1000000000000003', '1000000000000004'])) {
    r.fail('resourcemanager:ListAccounts', `members ${members}`);
  }
  res = await r.check('resourcemanager:GetAccount', () => rm.request('GetAccount', { AccountId: w.member }, post));
  if (res && res.Account.FolderId !== w.prod) {
    r.fail('resourcemanager:GetAccount', JSON.stringify(res));
  }
  await r.expectError('resourcemanager:GetAccount (not a member)', 'EntityNotExists.Account',
    () => rm.request('GetAccount', { AccountId: w.outside(1) }, post));

  // Resource Sharing.
  const rs = client('resourcesharing', '2020-01-10');
  res = await r.check('resourcesharing:ListResourceShares', () => rs.request('ListResourceShares',
    { RegionId: w.region, ResourceOwner: 'Self', ResourceShareName: w.shareName }, post));
  const premade = res && res.ResourceShares.length === 1 ? res.ResourceShares[0].ResourceShareId : '';
  if (!premade) {
    r.fail('resourcesharing:ListResourceShares', `shares named ${w.shareName}: ${JSON.stringify(res)}`);
    return;
  }
  res = await r.check('resourcesharing:ListResourceShareAssociations', () => rs.request('ListResourceShareAssociations',
    { RegionId: w.region, AssociationType: 'Target', ResourceShareIds: [premade] }, post));
  if (res && !(res.ResourceShareAssociations.length === 1 && res.ResourceShareAssociations[0].EntityId === w.prod &&
      res.ResourceShareAssociations[0].AssociationStatus === 'Associated')) {
    r.fail('resourcesharing:ListResourceShareAssociations', JSON.stringify(res.ResourceShareAssociations));
  }
  res = await r.check('resourcesharing:CreateResourceShare', () => rs.request('CreateResourceShare', {
    RegionId: w.region, ResourceShareName: 'conf-node-new', Resources: [{ ResourceId: w.imgExtra, ResourceType: 'Image' }], Targets: [w.prod],
  }, post));
  const created = res ? res.ResourceShare.ResourceShareId : '';
  if (created) {
    res = await r.check('resourcesharing:UpdateResourceShare', () => rs.request('UpdateResourceShare',
      { RegionId: w.region, ResourceShareId: created, ResourceShareName: 'conf-node-renamed' }, post));
    if (res && res.ResourceShare.ResourceShareName !== 'conf-node-renamed') {
      r.fail('resourcesharing:UpdateResourceShare', JSON.stringify(res));
    }
  }
  res = await r.check('resourcesharing:AssociateResourceShare', () => rs.request('AssociateResourceShare', {
    RegionId: w.region, ResourceShareId: premade, Resources: [{ ResourceId: w.imgShare, ResourceType: 'Image' }],
  }, post));
  if (res && res.ResourceShareAssociations[0].AssociationStatus !== 'Associating') {
    r.fail('resourcesharing:AssociateResourceShare', JSON.stringify(res));
  }
  await r.expectError('resourcesharing:DisassociateResourceShare (while Associating)', 'DisassociateConflict',
    () => rs.request('DisassociateResourceShare',
      { RegionId: w.region, ResourceShareId: premade, Resources: [{ ResourceId: w.imgShare, ResourceType: 'Image' }] }, post));
  res = await r.check('resourcesharing:DisassociateResourceShare', () => rs.request('DisassociateResourceShare',
    { RegionId: w.region, ResourceShareId: premade, Resources: [{ ResourceId: w.imgAvail, ResourceType: 'Image' }] }, post));
  if (res && res.ResourceShareAssociations[0].AssociationStatus !== 'Disassociating') {
    r.fail('resourcesharing:DisassociateResourceShare', JSON.stringify(res));
  }
  if (created) {
    await r.check('resourcesharing:DeleteResourceShare', () => rs.request('DeleteResourceShare',
      { RegionId: w.region, ResourceShareId: created }, post));
    res = await r.check('resourcesharing:ListResourceShares', () => rs.request('ListResourceShares',
      { RegionId: w.region, ResourceOwner: 'Self', ResourceShareIds: [created] }, post));
    if (res && !['Deleting', 'Deleted'].includes((res.ResourceShares[0] || {}).ResourceShareStatus)) {
      r.fail('resourcesharing:DeleteResourceShare', `the share afterwards: ${JSON.stringify(res.ResourceShares)}`);
    }
  }
}

main().then(() => r.done('ECS, Resource Manager, Resource Sharing'), (err) => {
  r.fail('(script)', err.stack || err);
  r.done('');
});
