// Package sandbox runs a scenario (docs/scenarios.md) on the emulated cloud: the function
// handlers run as separate processes speaking the FC runtime API, fed by the events the
// emulated cloud emits and routed by the trigger filters of s.yaml, on an emulated clock
// that only moves when nothing is left to do now. After every write by the functions it
// records who had access, so that a transient loss of access is caught even when the
// end state is right.
package sandbox
