// Package cloudsim is an emulated Alibaba Cloud: ECS images and their sharing, the
// Resource Directory, Resource Sharing and MNS, served over HTTP on loopback in the wire
// formats the real SDKs speak (RPC signed with V1 HMAC-SHA1 or V3 ACS3-HMAC-SHA256, MNS
// XML), on an emulated clock. Further RPC products whose state lives in packages of
// their own (the RAM API, STS, EventBridge, the MNS management API: emu.Service) are
// mounted on the same wire (Config.Services).
//
// It is a cloud, not a mock of imageshare: it knows nothing of tags' meaning, plans or
// rules. It keeps state, checks every request against the action's documented contract
// (contract.go), answers only the error codes its catalogue lists with their sources
// (emu.Catalogue), records every call, emits the ActionTrail CloudEvents the real bus
// would, and injects faults.
package cloudsim
