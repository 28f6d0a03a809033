package cloudsim

import (
	"maps"
	"slices"

	"imageshare/pkg/cloudsim/emu"
)

// Mounted services: products whose state and semantics live in packages of their own
// (emu.Service) and which the cloud serves through its wire and dispatcher, exactly as
// ECS, Resource Manager and Resource Sharing: one endpoint each, signatures checked,
// RAM evaluated for RAM users and roles, every call recorded and every answer checked
// against the error catalogue.

// spec returns the action of a product: one of the built-in products, or a mounted
// service's, whose contract is checked before it runs.
func (c *Cloud) spec(product, action string) (actionSpec, bool) {
	if s, ok := actions[product][action]; ok {
		return s, true
	}
	svc := c.services[product]
	if svc == nil {
		return actionSpec{}, false
	}
	a, ok := svc.Actions()[action]
	if !ok {
		return actionSpec{}, false
	}
	return actionSpec{write: a.Write, fn: func(c *Cloud, x *exec) (map[string]any, *emu.APIError) {
		if err := emu.CheckParams(a.Params, x.params); err != nil {
			return nil, err
		}
		return a.Do(&emu.Call{Caller: x.caller, Params: x.params, Region: x.region, Now: x.now, RequestID: x.reqID})
	}}, true
}

// version returns the API version a product's requests must name.
func (c *Cloud) version(product string) (string, bool) {
	if v, ok := versions[product]; ok {
		return v, true
	}
	if svc := c.services[product]; svc != nil {
		return svc.Version(), true
	}
	return "", false
}

// host returns the public endpoint host of a product, for error answers.
func (c *Cloud) host(product string) string {
	if h, ok := hosts[product]; ok {
		return h
	}
	if svc := c.services[product]; svc != nil {
		return svc.Host()
	}
	return ""
}

// ServedProducts returns every product the cloud serves: the built-in ones (Products),
// then the mounted services in the order of Config.Services.
func (c *Cloud) ServedProducts() []string {
	out := slices.Clone(Products)
	for _, s := range c.cfg.Services {
		out = append(out, s.Product())
	}
	return out
}

// ServiceActions returns the actions a mounted service answers, sorted (nil for a
// product that is not mounted).
func (c *Cloud) ServiceActions(product string) []string {
	svc := c.services[product]
	if svc == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(svc.Actions()))
}
