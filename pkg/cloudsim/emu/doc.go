// Package emu holds what every emulated cloud service shares: the emulated clock, the
// credentials the cloud accepts (access keys and STS tokens), the seeded fault model,
// API errors and loopback listeners, the RAM store, and the shape of a service mounted on
// the RPC wire (Service, with its request contract).
package emu
