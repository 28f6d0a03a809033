package emu

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Faults is the scenario's fault model. Rates are probabilities in [0, 1].
type Faults struct {
	Seed        int64
	Throttle    float64 // answer Throttling.User (RPC) or QpsLimitExceeded (MNS)
	ServerError float64 // answer ServiceUnavailable / InternalError (5xx)
	Kill        float64 // end the calling function process mid-invocation
}

// Decision is what the fault model decided for one request.
type Decision struct {
	Throttle    bool
	ServerError bool
	// ApplyWrite: with ServerError on a write, whether the write is applied before the
	// error is answered (half of the time).
	ApplyWrite bool
	Kill       bool
	Attempt    int
}

// FaultPlan decides faults per request as hash(seed, action, sorted parameters,
// attempt) < rate, so a scenario replays the same faults. Attempt counts earlier
// identical requests, so a retry of a throttled call rolls again.
type FaultPlan struct {
	mu       sync.Mutex
	faults   Faults
	attempts map[string]int
}

// NewFaultPlan returns a plan for f.
func NewFaultPlan(f Faults) *FaultPlan {
	return &FaultPlan{faults: f, attempts: map[string]int{}}
}

// Set replaces the fault rates (the attempt counts are kept).
func (p *FaultPlan) Set(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
}

// Get returns the current fault rates.
func (p *FaultPlan) Get() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// unsignedParams are the request parameters that change on every send of the same
// request (signature, nonce, timestamp, credentials) and so are not part of its identity.
var unsignedParams = map[string]bool{
	"Signature": true, "SignatureNonce": true, "Timestamp": true, "AccessKeyId": true,
	"SecurityToken": true, "SignatureMethod": true, "SignatureVersion": true,
	"SignatureType": true, "Format": true,
}

// Decide rolls the dice for one request of a function. params are the request's
// parameters (for MNS: the resource path and body digest).
func (p *FaultPlan) Decide(action string, params map[string]string) Decision {
	keys := make([]string, 0, len(params))
	for k := range params {
		if !unsignedParams[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(action)
	for _, k := range keys {
		b.WriteByte('\x00')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	id := b.String()

	p.mu.Lock()
	attempt := p.attempts[id]
	p.attempts[id] = attempt + 1
	f := p.faults
	p.mu.Unlock()

	d := Decision{Attempt: attempt}
	u := roll(f.Seed, "fault", id, attempt)
	switch {
	case u < f.Throttle:
		d.Throttle = true
	case u < f.Throttle+f.ServerError:
		d.ServerError = true
		d.ApplyWrite = roll(f.Seed, "apply", id, attempt) < 0.5
	}
	d.Kill = roll(f.Seed, "kill", id, attempt) < f.Kill
	return d
}

// roll maps (seed, salt, id, attempt) to a number in [0, 1).
func roll(seed int64, salt, id string, attempt int) float64 {
	h := sha256.New()
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(seed))
	h.Write(buf[:])
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(attempt)))
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}
