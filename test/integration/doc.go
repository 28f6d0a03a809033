// Package integration tests the reconcile core through the real SDK against the
// emulated cloud: the observer, the planner and the applier together, over HTTP on
// loopback with signed requests, including throttling and server errors.
package integration
