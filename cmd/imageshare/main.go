// Command imageshare runs the imageshare functions and tools:
//
//	imageshare sandbox [--json] [--syaml FILE] [FILE]   run a scenario (or the demo) on the emulated cloud
//	imageshare function NAME                            run a function under the FC runtime API
//	imageshare plan | explain | status | probe          operate a deployment (see --help)
//	imageshare policy [--account ID] [--region R] …     print the functions' RAM policy
//	imageshare setup [--dry-run] | doctor                make and check what s deploy does not
//
// The operator commands find credentials through the standard Alibaba Cloud chain
// (environment, the aliyun CLI's profile, an ECS RAM role) and read the functions'
// settings from the deployment's s.yaml as s deploy does (the IMAGESHARE_* variables).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"imageshare/pkg/function"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  imageshare sandbox [--json] [--syaml FILE] [--logs] [--trace] [FILE]
      run scenario FILE (the format: docs/scenarios.md) on the embedded emulated cloud; without FILE, the demo (--help)
  imageshare `+functionUsage+`
  imageshare emulator [--functions] [--json] [--port-base N] [FILE]
      serve FILE's (or the demo's) world as an emulated cloud on loopback, with --functions the functions
      running in it (--help; docs/try-it.md walks through it)
  imageshare emulator advance D
      move the running emulator's clock D ahead, doing what falls due on the way

operating a deployment (read-only except probe and tag; credentials: environment variables,
the aliyun CLI profile, or an ECS RAM role; settings: the deployment's s.yaml with the
IMAGESHARE_* variables, as s deploy reads them, or --setting NAME=VALUE):
`+indent(planUsage)+indent(explainUsage)+indent(statusUsage)+indent(reportUsage)+indent(probeUsage)+indent(tagUsage)+`
checking tags offline, before they are set (no credentials):
`+indent(checkTagsUsage)+`
deploying:
`+indent(policyUsage)+indent(setupUsage)+indent(doctorUsage)+`
common flags: --region R, --owner ACCOUNT, --endpoint-ecs URL, --endpoint-resourcemanager URL,
  --endpoint-resourcesharing URL (or ECS_ENDPOINT, RESOURCEMANAGER_ENDPOINT, RESOURCESHARING_ENDPOINT)
`)
}

const functionUsage = `function NAME
      run function NAME (image-events, org-events, reconcile, sweep, dead-letters) under FC_RUNTIME_API,
      as Function Compute runs it (the sandbox and imageshare emulator --functions start it so)`

// indent formats a command's usage for the overview: the synopsis, then its text.
func indent(usage string) string {
	lines := strings.Split(usage, "\n")
	out := "  imageshare " + lines[0] + "\n"
	for _, l := range lines[1:] {
		out += "    " + strings.TrimSpace(l) + "\n"
	}
	return out
}

func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "sandbox":
		return sandboxCmd(args[1:])
	case "function":
		if wantsHelp(args[1:]) {
			fmt.Println("usage: imageshare " + functionUsage)
			return 0
		}
		if len(args) != 2 {
			usage(os.Stderr)
			return 2
		}
		function.Main(args[1]) // never returns
		return 0
	case "emulator":
		return emulatorCmd(args[1:], os.Stdout, os.Stderr)
	case "plan", "explain", "status", "probe", "tag", "report":
		return opsCmd(args[0], args[1:], processEnv())
	case "check-tags":
		return checkTagsCmd(args[1:], processEnv())
	case "policy":
		return policyCmd(args[1:], os.Stdout, os.Stderr)
	case "setup", "doctor":
		return setupCmd(args[0], args[1:], processEnv())
	case "-h", "--help", "help":
		usage(os.Stdout)
		return 0
	}
	fmt.Fprintf(os.Stderr, "imageshare: unknown command %q\n", args[0])
	usage(os.Stderr)
	return 2
}
