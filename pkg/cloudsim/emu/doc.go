// Package emu holds what every emulated cloud service shares: the emulated clock, the
// credentials the cloud accepts (access keys and STS tokens), the seeded fault model,
// API errors and loopback listeners.
package emu
