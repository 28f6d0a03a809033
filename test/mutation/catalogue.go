package main

// catalogue is every mutant the project keeps. It only grows: when the code a mutant
// names changes, rewrite the mutant for the new code (the same bug), never drop it
// (TestCatalogueOnlyGrows holds a floor). Tests name the test that catches the bug
// directly, with -run where the package is slow or the point is which test catches it.
var catalogue = []Mutant{
	// ---- R1 scope, R2 status ----
	{
		Name: "plan/others-images-touched", Rule: "R1",
		Breaks:   "only images with ImageOwnerAlias=self are reconciled",
		File:     "pkg/plan/planner.go",
		Original: `if img.Missing || img.OwnerAlias != "self" {`, Replacement: `if img.Missing {`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "observe/first-page-of-describe-images", Rule: "R1",
		Breaks:   "the sweep lists every image of the region, page after page",
		File:     "pkg/observe/observe.go",
		Original: `if len(first.Images) == cloud.MaxImagePage {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestSweepReadsEveryPageOfImages"}},
	},
	{
		Name: "plan/creating-not-postponed", Rule: "R2",
		Breaks:   "a Creating image is postponed until it is Available, not refused",
		File:     "pkg/plan/planner.go",
		Original: "case state.Creating, state.Waiting:\n\t\tp.postpone(c)", Replacement: "case state.Waiting:\n\t\tp.postpone(c)",
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "plan/image-wait-max-sign", Rule: "R2",
		Breaks:   "an image Creating for longer than IMAGE_WAIT_MAX after its creation time is refused",
		File:     "pkg/plan/planner.go",
		Original: `age := now.Sub(created)`, Replacement: `age := created.Sub(now)`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},

	// ---- R3 guardrail ----
	{
		Name: "plan/guardrail-lets-outsiders-in", Rule: "R3",
		Breaks:   "a direct target must be a member of the directory or in ALLOWED_EXTERNAL_ACCOUNTS",
		File:     "pkg/plan/planner.go",
		Original: `case p.st.IsMember(a) || p.set.Allowed(a):`, Replacement: `case policy.IsAccount(a):`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "settings/empty-allow-list-allows-all", Rule: "R3",
		Breaks:      "an empty ALLOWED_EXTERNAL_ACCOUNTS (the default) allows no outsider",
		File:        "pkg/settings/settings.go",
		Original:    `func (s Settings) Allowed(account string) bool { return slices.Contains(s.AllowedExternal, account) }`,
		Replacement: `func (s Settings) Allowed(account string) bool { return len(s.AllowedExternal) == 0 || slices.Contains(s.AllowedExternal, account) }`,
		Tests:       []Test{{Pkg: "./pkg/plan", Run: "TestDefaultEmptyAllowListRefusesOutsiders"}},
	},
	{
		Name: "plan/unknown-folder-shared", Rule: "R3",
		Breaks:   "a folder target must exist in the directory",
		File:     "pkg/plan/planner.go",
		Original: `case policy.IsFolder(f) && !p.st.FolderExists(f):`, Replacement: `case false:`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "plan/owner-shared", Rule: "R3",
		Breaks:   "an image is never shared with its owner",
		File:     "pkg/plan/planner.go",
		Original: `case a == p.st.Owner:`, Replacement: `case a == p.st.Owner && a == "":`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "observe/first-page-of-list-accounts", Rule: "R3",
		Breaks:   "every member of the directory counts, not only those on ListAccounts' first page",
		File:     "pkg/observe/observe.go",
		Original: `if len(first.Accounts) == cloud.MaxDirectoryPage {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/observe", Run: "TestTaggedAccountOnTheSecondDirectoryPageIsShared"}},
	},

	// ---- R4 organization part ----
	{
		Name: "plan/break-before-make", Rule: "R4",
		Breaks:   "an image leaves its old managed share only once the new one reads Associated",
		File:     "pkg/plan/planner.go",
		Original: `unblocked := c.name == "" || ready || a.Status == state.Failed`, Replacement: `unblocked := ready || true`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "apply/break-before-make", Rule: "R4",
		Breaks:      "the applier makes (creates, associates, adds) before it breaks (disassociates)",
		File:        "pkg/apply/apply.go",
		Original:    `steps := []func(context.Context) error{r.make, r.associate, r.retain, r.direct, r.breakPhase, r.copies}`,
		Replacement: `steps := []func(context.Context) error{r.breakPhase, r.make, r.associate, r.retain, r.direct, r.copies}`,
		Tests:       []Test{{Pkg: "./pkg/apply"}},
	},
	{
		Name: "aliyun/external-targets-allowed", Rule: "R4",
		Breaks:   "managed resource shares are created with AllowExternalTargets=false",
		File:     "pkg/aliyun/rs.go",
		Original: `req.AllowExternalTargets = requests.NewBoolean(false)`, Replacement: `req.AllowExternalTargets = requests.NewBoolean(true)`,
		Tests: []Test{{Pkg: "./test/guardrail", Run: "TestLibraryStaysInsideTheGuardrails"}},
	},
	{
		Name: "plan/hand-made-share-changed", Rule: "R4",
		Breaks:   "resource shares made by people are never changed; only names imageshare-<hash> are the functions'",
		File:     "pkg/plan/planner.go",
		Original: "if IsManagedName(sh.Name) {\n\t\t\tp.groups[sh.Name]", Replacement: "if sh.Name != \"\" {\n\t\t\tp.groups[sh.Name]",
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "plan/max-managed-shares-off-by-one", Rule: "R4",
		Breaks:   "the functions create at most MAX_MANAGED_SHARES resource shares",
		File:     "pkg/plan/planner.go",
		Original: `if count >= p.set.MaxManagedShares {`, Replacement: `if count > p.set.MaxManagedShares {`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "sweep/no-empty-share-grace", Rule: "R4",
		Breaks:   "a managed share is deleted only once it has held no image for ten minutes",
		File:     "pkg/function/sweep.go",
		Original: `if in.holds || now.Sub(in.latest) < EmptyShareGrace {`, Replacement: `if in.holds {`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestEmptyShareGrace"}},
	},
	{
		Name: "sweep/failed-association-share-deleted", Rule: "R4",
		Breaks:      "a share whose association Failed stays, so the retry a day later counts from the failure",
		File:        "pkg/function/sweep.go",
		Original:    `if as.Status != "Disassociated" && as.Status != "Disassociating" {`,
		Replacement: `if as.Status != "Disassociated" && as.Status != "Disassociating" && as.Status != "Failed" {`,
		Tests:       []Test{{Pkg: "./pkg/function", Run: "TestEmptyShareGrace"}},
	},
	{
		Name: "plan/duplicates-merge-into-newest", Rule: "R4",
		Breaks:   "duplicates of one managed name are merged into the oldest",
		File:     "pkg/plan/planner.go",
		Original: `return g[i].Created.Before(g[j].Created)`, Replacement: `return g[i].Created.After(g[j].Created)`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "plan/share-name-of-unsorted-set", Rule: "R4",
		Breaks:   "a managed share is named by the sorted target set, so one set has one share",
		File:     "pkg/plan/plan.go",
		Original: "s := append([]string(nil), targets...)\n\tsort.Strings(s)", Replacement: "s := append([]string(nil), targets...)",
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},

	{
		Name: "plan/failed-association-retried-every-run", Rule: "R4",
		Breaks:   "a Failed association is tried again when the tags or the directory change, or after a day — not on every run",
		File:     "pkg/plan/planner.go",
		Original: `return p.st.RetryFailed || p.st.Now.Sub(a.Updated) >= FailedRetryAfter`, Replacement: `return true`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},

	// ---- R5 coverage ----
	{
		Name: "state/coverage-counts-associating", Rule: "R5",
		Breaks:      "coverage counts only associations that read Associated, image and target both",
		File:        "pkg/state/state.go",
		Original:    `func (a Association) Active() bool { return a.Status == Associated }`,
		Replacement: `func (a Association) Active() bool { return a.Status == Associated || a.Status == Associating }`,
		Tests:       []Test{{Pkg: "./pkg/state"}, {Pkg: "./pkg/plan"}},
	},
	{
		Name: "state/no-sub-folder-coverage", Rule: "R5",
		Breaks:      "a folder target covers the members of its sub-folders",
		File:        "pkg/state/state.go",
		Original:    `if target == s.Directory.ID || slices.Contains(m.Path, target) {`,
		Replacement: `if target == s.Directory.ID || m.Path[len(m.Path)-1] == target {`,
		Tests:       []Test{{Pkg: "./pkg/state"}, {Pkg: "./pkg/plan"}},
	},

	{
		// The same bug, caught by the planner's property test alone: it measures access
		// with its own model of R5 (pkg/plan/access_model_test.go), not with
		// state.Coverage, so the planner and its check no longer share the bug.
		Name: "state/coverage-no-subfolders", Rule: "R5",
		Breaks:      "a folder target covers the members of its sub-folders, as the planner's property test measures it",
		File:        "pkg/state/state.go",
		Original:    `if target == s.Directory.ID || slices.Contains(m.Path, target) {`,
		Replacement: `if target == s.Directory.ID || slices.Index(m.Path, target) == len(m.Path)-1 {`,
		Tests:       []Test{{Pkg: "./pkg/plan", Run: "TestPlanConverges"}},
	},

	// ---- R6 direct part ----
	{
		Name: "plan/additive-read-as-exact", Rule: "R6",
		Breaks:   "additive mode keeps existing direct shares",
		File:     "pkg/plan/planner.go",
		Original: `if c.pol.Mode == policy.Additive {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "cloud/more-than-ten-per-call", Rule: "R6",
		Breaks:   "ModifyImageSharePermission gets at most ten accounts to add and ten to remove per call",
		File:     "pkg/cloud/cloud.go",
		Original: "MaxAccountsPerCall  = 10 ", Replacement: "MaxAccountsPerCall  = 11 ",
		Tests: []Test{{Pkg: "./pkg/apply"}},
	},
	{
		Name: "plan/quota-off-by-one", Rule: "R6",
		Breaks:      "an image never has more than MAX_ACCOUNTS_PER_IMAGE direct shares",
		File:        "pkg/plan/planner.go",
		Original:    "if room <= 0 {\n\t\t\tc.refuse(a, ReasonShareLimit, fmt.Sprintf(\"the image already has",
		Replacement: "if room < 0 {\n\t\t\tc.refuse(a, ReasonShareLimit, fmt.Sprintf(\"the image already has",
		Tests:       []Test{{Pkg: "./pkg/plan"}},
	},

	// ---- R7 redundancy ----
	{
		Name: "plan/r12-confirmation-skipped", Rule: "R12",
		Breaks:   "access that follows from the tags is taken away only on a second look with unchanged tags",
		File:     "pkg/plan/planner.go",
		Original: "if p.st.ConfirmAll {\n\t\treturn true", Replacement: "if true {\n\t\treturn true",
		Tests: []Test{{Pkg: "./pkg/plan"}, {Pkg: "./test/scenarios", Run: "TestScenarios/r12-"}},
	},
	{
		Name: "plan/r12-fingerprint-ignored", Rule: "R12",
		Breaks:   "a confirming run removes only when the tags' fingerprint is the one the first look saw",
		File:     "pkg/plan/planner.go",
		Original: `if conf.Fingerprint == c.plan.Fingerprint && slices.Contains(conf.Removals, key) {`, Replacement: `if slices.Contains(conf.Removals, key) {`,
		Tests: []Test{{Pkg: "./pkg/plan"}, {Pkg: "./test/scenarios", Run: "TestScenarios/r12-"}},
	},
	{
		Name: "plan/revoke-redundant-false-ignored", Rule: "R7",
		Breaks:   "with REVOKE_REDUNDANT=false no covered account is removed from the direct list",
		File:     "pkg/plan/planner.go",
		Original: "if !p.set.RevokeRedundant && len(covNow[a]) > 0 {", Replacement: "if false && len(covNow[a]) > 0 {",
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "plan/no-restore-on-leave", Rule: "R7",
		Breaks:      "an account that loses coverage because the image leaves a share is shared directly again (when tagged) before the break",
		File:        "pkg/plan/planner.go",
		Original:    "cov := p.st.Coverage(c.img.ID, func(shareID, target string) bool {\n\t\tif target == \"\" {\n\t\t\treturn gone[shareID]\n\t\t}\n\t\treturn p.removing[shareID][target]\n\t})",
		Replacement: "cov := p.st.Coverage(c.img.ID, nil)",
		Tests:       []Test{{Pkg: "./pkg/plan"}},
	},
	{
		Name: "plan/revoke-while-coverage-on-its-way", Rule: "R7",
		Breaks:   "a direct share goes as redundant only once the coverage that replaces it reads Associated",
		File:     "pkg/plan/planner.go",
		Original: "if soon[a] {\n\t\t\t// Coverage on its way will reach the account: revoking now", Replacement: "if false {\n\t\t\t// Coverage on its way will reach the account: revoking now",
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},

	// ---- R8 untagged images ----
	{
		Name: "apply/r8-read-back-ignored", Rule: "R8",
		Breaks:   "R8 revokes only the accounts a read-back of the tags shows recorded",
		File:     "pkg/apply/apply.go",
		Original: `if recorded[acct] {`, Replacement: `if true {`,
		Tests: []Test{{Pkg: "./pkg/apply", Run: "TestRetainRevokesOnlyWhatTheReadBackShows"}},
	},

	// ---- R9 errors ----
	{
		Name: "cloud/throttling-not-retried", Rule: "R9",
		Breaks:   "Throttling* errors are retried with backoff",
		File:     "pkg/cloud/cloud.go",
		Original: "case Throttled(err),", Replacement: "case false,",
		Tests: []Test{{Pkg: "./pkg/cloud"}, {Pkg: "./pkg/apply"}},
	},
	{
		Name: "apply/failing-batch-not-narrowed", Rule: "R9",
		Breaks:   "a batch refused because of one account is narrowed to the accounts failing alone",
		File:     "pkg/apply/apply.go",
		Original: `if len(batch) == 1 {`, Replacement: `if true {`,
		Tests: []Test{{Pkg: "./pkg/apply"}},
	},
	{
		Name: "reconcile/job-acknowledged-on-failure", Rule: "R9",
		Breaks:      "a run that fails fails its invocation, so the job is redelivered and finally dead-lettered",
		File:        "pkg/function/reconcile.go",
		Original:    "out, err := d.run(ctx, api, inv, r, groups[r], now)\n\t\tif err != nil {\n\t\t\treturn nil, err\n\t\t}",
		Replacement: "out, err := d.run(ctx, api, inv, r, groups[r], now)\n\t\tif err != nil {\n\t\t\tcontinue\n\t\t}",
		Tests:       []Test{{Pkg: "./test/guardrail", Run: "TestDeadLettersReportWhatRanOut"}},
	},

	// ---- R10 report ----
	{
		Name: "report/no-marketplace-billing-note", Rule: "R10",
		Breaks:   "notifications about images built from Marketplace images say the recipient is billed",
		File:     "pkg/report/report.go",
		Original: `if e.ProductCode != "" && (e.Action == "share" || e.Action == "associate") {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/report"}},
	},
	{
		Name: "apply/request-ids-dropped", Rule: "R10",
		Breaks:   "every change is reported with the cloud request IDs of its calls",
		File:     "pkg/apply/apply.go",
		Original: `r.entry(image, plan.ActShare, a, reason, "", res.RequestID)`, Replacement: `r.entry(image, plan.ActShare, a, reason, "")`,
		Tests: []Test{{Pkg: "./pkg/apply"}},
	},

	// ---- R11 idempotent ----
	{
		Name: "plan/writes-when-nothing-to-do", Rule: "R11",
		Breaks:   "a run that finds nothing to do calls no write API",
		File:     "pkg/plan/planner.go",
		Original: "if sh.AllowExternal {\n\t\tp.ops = append(p.ops, ShareOp{Op: OpSetInternal", Replacement: "if true {\n\t\tp.ops = append(p.ops, ShareOp{Op: OpSetInternal",
		Tests: []Test{{Pkg: "./pkg/plan"}},
	},

	// ---- §2 tags, §3 settings ----
	{
		Name: "policy/bad-token-dropped", Rule: "§2",
		Breaks:      "a token that is not an account ID is a tag error that freezes the image, never silently dropped",
		File:        "pkg/policy/policy.go",
		Original:    `p.Errors = append(p.Errors, TagError{Key: k.key, Subject: tok, Reason: "not an account ID (16 digits)"})`,
		Replacement: `// dropped`,
		Tests:       []Test{{Pkg: "./pkg/policy"}},
	},
	{
		Name: "policy/account-keys-out-of-order", Rule: "§2",
		Breaks:   "account keys are read in order (numeric suffixes numerically), which decides who is refused at the share limit",
		File:     "pkg/policy/policy.go",
		Original: "if c := compareNumeric(ni, nj); c != 0 {\n\t\t\treturn c < 0", Replacement: "if c := compareNumeric(ni, nj); c != 0 {\n\t\t\treturn c > 0",
		Tests: []Test{{Pkg: "./pkg/policy"}},
	},
	{
		Name: "settings/endpoint-lookalike-accepted", Rule: "§3",
		Breaks:   "endpoint overrides are honoured only for loopback hosts and *.aliyuncs.com, so credentials go nowhere else",
		File:     "pkg/settings/settings.go",
		Original: `if strings.HasSuffix(strings.ToLower(host), ".aliyuncs.com") {`, Replacement: `if strings.Contains(strings.ToLower(host), "aliyuncs.com") {`,
		Tests: []Test{{Pkg: "./pkg/settings"}, {Pkg: "./test/guardrail", Run: "TestEndpointOverridesToOtherHostsAreRefused|FuzzEndpointOverride"}},
	},
	{
		Name: "apply/dry-run-ignored", Rule: "§3",
		Breaks:   "DRY_RUN decides and reports everything and changes nothing",
		File:     "pkg/apply/apply.go",
		Original: "if a.Settings.DryRun {\n\t\tr.dryRun()", Replacement: "if false {\n\t\tr.dryRun()",
		Tests: []Test{{Pkg: "./pkg/apply"}},
	},
	{
		Name: "sweep/dry-run-deletes-empty-shares", Rule: "§3",
		Breaks:   "under DRY_RUN the sweep deletes no empty managed share",
		File:     "pkg/function/sweep.go",
		Original: `if !d.Settings.DryRun {`, Replacement: `if true {`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestSweepUnderDryRunDeletesNothing"}},
	},
	{
		Name: "function/regions-ignored", Rule: "§3",
		Breaks:   "the sweep covers the regions REGIONS lists besides its own",
		File:     "pkg/function/function.go",
		Original: `for _, r := range d.Settings.Regions {`, Replacement: `for _, r := range []string(nil) {`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestSweepCoversREGIONS"}},
	},

	// ---- §5 events ----
	{
		Name: "event/untag-resources-dropped", Rule: "§5",
		Breaks:   "UntagResources events cause a job for the images they name",
		File:     "pkg/event/route.go",
		Original: `"ImportImage", "TagResources", "UntagResources",`, Replacement: `"ImportImage", "TagResources",`,
		Tests: []Test{{Pkg: "./pkg/event"}, {Pkg: "./test/scenarios", Run: "TestScenarios/library/events-untag-resources"}},
	},
	{
		Name: "event/error-code-events-kept", Rule: "§5",
		Breaks:   "events of failed calls (data.errorCode) are dropped, so a failing write cannot loop",
		File:     "pkg/event/route.go",
		Original: `if at.ErrorCode != "" {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/event"}, {Pkg: "./pkg/function"}},
	},
	{
		Name: "event/console-operations-dropped", Rule: "§5",
		Breaks:      "tags set in the console (ConsoleOperation events) are handled like API calls",
		File:        "pkg/event/route.go",
		Original:    `if !strings.HasSuffix(ev.Type, ":ActionTrail:ApiCall") && !strings.HasSuffix(ev.Type, ":ActionTrail:ConsoleOperation") {`,
		Replacement: `if !strings.HasSuffix(ev.Type, ":ActionTrail:ApiCall") {`,
		Tests:       []Test{{Pkg: "./pkg/event"}},
	},
	{
		Name: "event/own-writes-not-dropped", Rule: "§5",
		Breaks:   "events caused by the functions' own role are dropped, so a succeeding write cannot loop",
		File:     "pkg/event/route.go",
		Original: `if ownRole != "" && at.UserIdentity.RoleName() == ownRole {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/function"}},
	},

	// ---- §5 the organization poll ----
	{
		Name: "orgpoll/window-not-overlapping", Rule: "§5",
		Breaks:   "each poll looks back ORG_POLL + ORG_POLL_LAG, so a write ActionTrail lists up to ORG_POLL_LAG late is still found",
		File:     "pkg/function/poll.go",
		Original: `return pollWindow{Start: end.Add(-(poll + lag)), End: end}, true`, Replacement: `return pollWindow{Start: end.Add(-poll), End: end}, true`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestPollFindsEveryWriteListedWithinTheLag"},
			{Pkg: "./test/scenarios", Run: "TestPollFindsLateListedWritesAndPublishesChangesOnly"}},
	},
	{
		Name: "orgpoll/every-minute", Rule: "§5",
		Breaks:   "the poll runs only on the minutes since midnight UTC that are a multiple of ORG_POLL",
		File:     "pkg/function/poll.go",
		Original: `if minutes%int(poll/time.Minute) != 0 {`, Replacement: `if minutes < 0 {`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestPollOnlyOnItsMinutes"}},
	},
	{
		Name: "orgpoll/first-page-only", Rule: "§5",
		Breaks:   "a poll reads every page of LookupEvents (NextToken)",
		File:     "pkg/function/poll.go",
		Original: `if p.NextToken == "" || p.NextToken == in.NextToken {`, Replacement: `if true {`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestPollPagesAndEnqueuesLikeABusEvent"}},
	},
	{
		Name: "orgpoll/refusals-published", Rule: "§5",
		Breaks:   "runs of the poll's jobs publish changes only, not the refusals the overlapping polls find again",
		File:     "pkg/function/reconcile.go",
		Original: `if !r.g.refusals {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./test/scenarios", Run: "TestPollFindsLateListedWritesAndPublishesChangesOnly"}},
	},
	{
		Name: "orgpoll/duplicate-chains-kept", Rule: "§5",
		Breaks:   "an invitation's chains of checks that meet in one batch are one check",
		File:     "pkg/function/reconcile.go",
		Original: `i, dup := byKey[handshakeKey(j)]`, Replacement: `i, dup := 0, false`,
		Tests: []Test{{Pkg: "./pkg/function", Run: "TestDuplicateInvitationChainsEndAtOnce"}},
	},
	{
		Name: "actiontrail/global-events-listed-everywhere", Rule: "emulator",
		Breaks:   "the emulated ActionTrail lists a Resource Directory write only in the account's global-events region, lookup_delay late",
		File:     "pkg/cloudsim/actiontrail/actiontrail.go",
		Original: "\tif global {\n", Replacement: "\tif global && false {\n",
		Tests: []Test{{Pkg: "./pkg/cloudsim/actiontrail"}},
	},
	{
		Name: "actiontrail/no-flow-control", Rule: "emulator",
		Breaks:   "the emulated ActionTrail answers Throttling.User beyond two LookupEvents calls a second per account",
		File:     "pkg/cloudsim/actiontrail/actiontrail.go",
		Original: `if !t.allow(c.Caller.AccountID, c.Now) {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/cloudsim/actiontrail"}},
	},

	// ---- the emulated cloud: the wire is checked as the real one checks it ----
	{
		Name: "cloudsim/rpc-signature-unchecked", Rule: "emulator",
		Breaks:      "the emulated cloud refuses an RPC request whose signature is wrong",
		File:        "pkg/cloudsim/rpc.go",
		Original:    `if !hmac.Equal([]byte(want), []byte(p["Signature"])) {`,
		Replacement: `if false && !hmac.Equal([]byte(want), []byte(p["Signature"])) {`,
		Tests:       []Test{{Pkg: "./pkg/cloudsim"}},
	},
	{
		Name: "cloudsim/v3-signature-unchecked", Rule: "emulator",
		Breaks:      "the emulated cloud refuses a signature V3 (ACS3-HMAC-SHA256) request whose signature is wrong",
		File:        "pkg/cloudsim/sigv3.go",
		Original:    `if !hmac.Equal([]byte(want), []byte(strings.ToLower(q.signature))) ||`,
		Replacement: `if false && !hmac.Equal([]byte(want), []byte(strings.ToLower(q.signature))) ||`,
		Tests:       []Test{{Pkg: "./pkg/cloudsim", Run: "TestSignatureV3"}},
	},

	// ---- the emulated RAM: action AND resource, explicit Deny wins ----
	{
		Name: "ram/deny-ignored", Rule: "emulator",
		Breaks:   "an explicit Deny statement wins over any Allow",
		File:     "pkg/cloudsim/ram/eval.go",
		Original: `if s.Effect == "Deny" {`, Replacement: `if false && s.Effect == "Deny" {`,
		Tests: []Test{{Pkg: "./pkg/cloudsim/ram"}},
	},
	{
		Name: "ram/resource-ignored", Rule: "emulator",
		Breaks:   "RAM checks the resource as well as the action (BatchSendMessage on /queues/NAME/messages)",
		File:     "pkg/cloudsim/ram/eval.go",
		Original: `if wildcard(r, resource) {`, Replacement: `if true || wildcard(r, resource) {`,
		Tests: []Test{{Pkg: "./pkg/cloudsim/ram"}},
	},
	{
		Name: "ram/all-resources-narrowed", Rule: "emulator",
		Breaks:   "an \"All Resources\" action is allowed only by a statement whose Resource is *",
		File:     "pkg/cloudsim/ram/eval.go",
		Original: "\t\t\tif r == \"*\" {\n\t\t\t\treturn true\n\t\t\t}\n\t\t\tcontinue", Replacement: "\t\t\treturn true",
		Tests: []Test{{Pkg: "./pkg/cloudsim/ram"}},
	},
	{
		Name: "cloudsim/mns-signature-unchecked", Rule: "emulator",
		Breaks:   "the emulated MNS refuses a request whose signature is wrong",
		File:     "pkg/cloudsim/mns/http.go",
		Original: `if !hmac.Equal([]byte(want), []byte(sig)) {`, Replacement: `if false && !hmac.Equal([]byte(want), []byte(sig)) {`,
		Tests: []Test{{Pkg: "./pkg/cloudsim/mns"}},
	},

	// ---- the tests themselves ----
	{
		Name: "sandbox/invariant-blind", Rule: "tests",
		Breaks:   "the sandbox flags a write that cuts off an account which has access again once settled",
		File:     "pkg/sandbox/settle.go",
		Original: `if !w.After[im][acct] && (final[im][acct] || cut[im][acct]) {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./test/scenarios", Run: "TestInvariantCatchesATransientGap"}},
	},
	{
		Name: "scenario/refusal-reason-ignored", Rule: "tests",
		Breaks:      "an expected refusal that names a reason matches only a refusal with that reason",
		File:        "pkg/scenario/scenario.go",
		Original:    `return r.Image == image && r.Subject == subject && (r.Reason == "" || r.Reason == reason)`,
		Replacement: `return r.Image == image && r.Subject == subject`,
		Tests:       []Test{{Pkg: "./pkg/scenario"}, {Pkg: "./pkg/sandbox"}},
	},
	{
		Name: "sandbox/unexpected-refusals-accepted", Rule: "tests",
		Breaks:   "with no_other_refusals a refusal the scenario does not expect fails it",
		File:     "pkg/sandbox/check.go",
		Original: `if exp.NoOtherRefusals {`, Replacement: `if false {`,
		Tests: []Test{{Pkg: "./pkg/sandbox"}, {Pkg: "./test/cli", Run: "TestRefusalExpectations"}},
	},
	// ---- copies in other regions (docs/regions.md) ----
	{
		Name: "regions/second-copy-after-a-lost-answer", Rule: "regions",
		Breaks:   "a CopyImage retried after a lost answer finds the copy it made instead of making a second",
		File:     "pkg/apply/copies.go",
		Original: `Tags: op.Tags, KMSKeyID: op.KMSKeyID, ClientToken: op.Token})`, Replacement: `Tags: op.Tags, KMSKeyID: op.KMSKeyID})`,
		Tests: []Test{{Pkg: "./pkg/apply", Run: "TestCopyAfterALostAnswerMakesNoSecondCopy"},
			{Pkg: "./test/scenarios", Run: "TestScenarios/library/regions-faults$"}},
	},
	{
		Name: "regions/copy-token-per-attempt", Rule: "regions",
		Breaks:   "every attempt of a day at one source and destination carries the same ClientToken",
		File:     "pkg/plan/copies.go",
		Original: `"@" + now.UTC().Format("2006-01-02")`, Replacement: `"@" + now.UTC().Format(time.RFC3339Nano)`,
		Tests: []Test{{Pkg: "./pkg/plan", Run: "TestCopyToken"}},
	},
	{
		Name: "regions/failed-copy-counts-as-live", Rule: "regions",
		Breaks:   "a copy that ended CreateFailed is told apart from a live one and replaced a day later",
		File:     "pkg/state/state.go",
		Original: `func (c Copy) Live() bool { return c.Status != CreateFailed }`, Replacement: `func (c Copy) Live() bool { return true }`,
		Tests: []Test{{Pkg: "./pkg/plan", Run: "TestFailedEncryptedAndDuplicateCopies"}, {Pkg: "./test/scenarios", Run: "TestScenarios/library/regions-copy-failed$"}},
	},
	{
		Name: "regions/copy-withdrawn-on-one-look", Rule: "regions",
		Breaks:      "a retag of a copy that takes access away waits for a second look at the source's unchanged tags (R12)",
		File:        "pkg/plan/copies.go",
		Original:    "\ta, b := policy.Parse(prefix, current), policy.Parse(prefix, desired)\n\tif len(a.Errors) > 0 {",
		Replacement: "\ta, b := policy.Parse(prefix, current), policy.Parse(prefix, desired)\n\tif len(a.Errors) >= 0 {\n\t\treturn false\n\t}\n\tif len(a.Errors) > 0 {",
		Tests:       []Test{{Pkg: "./pkg/plan", Run: "TestLiveCopiesFollowTheSource"}},
	},
	{
		Name: "regions/copy-carries-regions", Rule: "regions",
		Breaks:   "a copy carries the source's sharing keys and its origin, never regions (it is never copied again)",
		File:     "pkg/policy/policy.go",
		Original: "\treturn rest == keyMode || rest == keyAccounts ||", Replacement: "\treturn rest == keyMode || rest == keyRegions || rest == keyAccounts ||",
		Tests: []Test{{Pkg: "./pkg/policy", Run: "TestCopyTags"}},
	},
	{
		Name: "regions/encrypted-copied-without-a-key", Rule: "regions",
		Breaks:   "an encrypted image is copied only with a customer-managed key of the destination region",
		File:     "pkg/plan/copies.go",
		Original: `if key = p.set.CopyKMSKeys[r]; key == "" {`, Replacement: `if key = p.set.CopyKMSKeys[r]; false {`,
		Tests: []Test{{Pkg: "./pkg/plan", Run: "TestFailedEncryptedAndDuplicateCopies"}, {Pkg: "./test/scenarios", Run: "TestScenarios/library/regions-encrypted$"}},
	},
	{
		Name: "cli/built-binary-sources-undeclared", Rule: "tests",
		Breaks:   "a test of a binary built in a subprocess is never a cached result of other code",
		File:     "test/cli/cli_test.go",
		Original: "\tsources.Declare()\n", Replacement: "\t_ = sources\n",
		Tests: []Test{{Pkg: "./test/testcache"}},
	},
}
