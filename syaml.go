// Package imageshare embeds the deployment's s.yaml, so that the sandbox routes events
// and configures functions exactly as `s deploy` would.
package imageshare

import _ "embed"

// SYAML is the content of s.yaml.
//
//go:embed s.yaml
var SYAML []byte
