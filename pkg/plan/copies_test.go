package plan

import (
	"slices"
	"testing"
	"time"

	"imageshare/pkg/policy"
	"imageshare/pkg/state"
)

const src = "m-Base00000001"

func copyOf(id, region, status string, tags map[string]string) state.Copy {
	return state.Copy{ID: id, Region: region, Status: status, Created: t0.Add(-time.Hour), Tags: tags}
}

// looked records what the run found in each region it looked in.
func looked(st *state.State, image string, byRegion map[string][]state.Copy) {
	if st.Copies == nil {
		st.Copies = map[string]map[string][]state.Copy{}
	}
	st.Copies[image] = byRegion
}

func copyOps(ip *ImagePlan) []string {
	var out []string
	for _, op := range ip.Copies {
		s := op.Op + "|" + op.Region
		if op.Copy != "" {
			s += "|" + op.Copy
		}
		if op.Withdrawn {
			s += "|withdrawn"
		}
		out = append(out, s)
	}
	return out
}

func TestCopiesAreMadeWithTheSourcesSharingKeys(t *testing.T) {
	tags := map[string]string{"imageshare:accounts": m2, "imageshare:folders": prod, "imageshare:regions": "cn-shanghai cn-beijing cn-hangzhou", "Name": "golden"}
	st := testState(img(src, tags))
	looked(st, src, map[string][]state.Copy{"cn-shanghai": {}, "cn-beijing": {}})
	p := Make(st, testSettings(t, nil))
	ip := p.Image(src)
	eq(t, "ops", copyOps(ip), []string{"copy|cn-beijing", "copy|cn-shanghai"})
	want := map[string]string{"imageshare:accounts": m2, "imageshare:folders": prod, "imageshare:source": "cn-hangzhou/" + src}
	for _, op := range ip.Copies {
		eq(t, "tags of the copy", op.Tags, want)
		if op.Token != CopyToken("cn-hangzhou", src, op.Region, t0) || len(op.Token) > 64 {
			t.Errorf("token %q", op.Token)
		}
	}
	if !p.Writes() {
		t.Fatal("a plan that copies writes")
	}
	// Nothing looked in: nothing decided.
	st = testState(img(src, tags))
	if ip := Make(st, testSettings(t, nil)).Image(src); len(ip.Copies) > 0 {
		t.Fatalf("copied without looking: %v", copyOps(ip))
	}
}

func TestCopyTokenIsPerDay(t *testing.T) {
	a := CopyToken("cn-hangzhou", src, "cn-shanghai", t0)
	if a != CopyToken("cn-hangzhou", src, "cn-shanghai", t0.Add(11*time.Hour)) {
		t.Fatal("the token changed within the day")
	}
	if a == CopyToken("cn-hangzhou", src, "cn-shanghai", t0.Add(12*time.Hour)) || a == CopyToken("cn-hangzhou", src, "cn-beijing", t0) {
		t.Fatal("the token is the same on another day or for another region")
	}
}

func TestLiveCopiesFollowTheSource(t *testing.T) {
	copyTags := func(accounts string) map[string]string {
		return map[string]string{"imageshare:accounts": accounts, "imageshare:source": "cn-hangzhou/" + src}
	}
	tags := map[string]string{"imageshare:accounts": m2 + "," + m3, "imageshare:regions": "cn-shanghai,cn-beijing"}
	st := testState(img(src, tags))
	looked(st, src, map[string][]state.Copy{
		"cn-shanghai": {copyOf("m-Sh1", "cn-shanghai", state.Available, copyTags(m2))},              // an account added: at once
		"cn-beijing":  {copyOf("m-Bj1", "cn-beijing", state.Creating, copyTags(m2+","+m3))},         // in line
		"cn-qingdao":  {copyOf("m-Qd1", "cn-qingdao", state.Available, copyTags(m2+","+m3+","+m4))}, // covered, no longer asked for
	})
	p := Make(st, testSettings(t, nil))
	ip := p.Image(src)
	eq(t, "ops", copyOps(ip), []string{"retag|cn-shanghai|m-Sh1"})
	eq(t, "set", ip.Copies[0].Tags, map[string]string{"imageshare:accounts": m2 + "," + m3})
	eq(t, "awaiting", confirmKeys(ip), []string{"cn-qingdao|the region is no longer asked for"})
	// The second look at unchanged tags withdraws it: accounts=none, nothing else shared.
	carry(st, p)
	ip = Make(st, testSettings(t, nil)).Image(src)
	eq(t, "ops after confirmation", copyOps(ip), []string{"retag|cn-qingdao|m-Qd1|withdrawn", "retag|cn-shanghai|m-Sh1"})
	eq(t, "withdrawn tags", ip.Copies[0].Tags, map[string]string{"imageshare:accounts": "none"})
	eq(t, "confirmed", ip.Confirmed, []string{"cn-qingdao"})
	// Tags that changed between the looks: not withdrawn on the old look.
	tags["imageshare:accounts"] = m2
	st.Images[0].Tags = tags
	ip = Make(st, testSettings(t, nil)).Image(src)
	eq(t, "after a change", copyOps(ip), []string(nil))
	eq(t, "new first looks", confirmKeys(ip), []string{"cn-beijing|the source's sharing keys narrowed", "cn-qingdao|the region is no longer asked for"})
}

func TestRetagRemovals(t *testing.T) {
	c := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		cur, des map[string]string
		removes  bool
	}{
		{c("imageshare:accounts", m2), c("imageshare:accounts", m2+" "+m3), false},
		{c("imageshare:accounts", m2+" "+m3), c("imageshare:accounts", m3), true},
		{c("imageshare:folders", prod), c("imageshare:folders", prod, "imageshare:accounts", m2), false},
		{c("imageshare:folders", prod+" "+dev), c("imageshare:folders", prod), true},
		{c("imageshare:mode", "additive"), c(), true},
		{c(), c("imageshare:mode", "additive"), false},
		{c("imageshare:accounts", "12"), c("imageshare:accounts", m2), true}, // frozen tags
		{c("imageshare:accounts", m2, "imageshare:regions", "cn-beijing"), c("imageshare:accounts", m2), false},
	} {
		if got := retagRemoves("imageshare", tc.cur, tc.des); got != tc.removes {
			t.Errorf("%v → %v: removes %v, want %v", tc.cur, tc.des, got, tc.removes)
		}
	}
}

func TestFailedEncryptedAndDuplicateCopies(t *testing.T) {
	tags := map[string]string{"imageshare:accounts": m2, "imageshare:regions": "cn-shanghai cn-beijing cn-qingdao"}
	im := img(src, tags)
	st := testState(im)
	failed := copyOf("m-Fail1", "cn-beijing", state.CreateFailed, map[string]string{"imageshare:source": "cn-hangzhou/" + src})
	failed.Created = t0.Add(-23 * time.Hour)
	ok := map[string]string{"imageshare:accounts": m2, "imageshare:source": "cn-hangzhou/" + src}
	looked(st, src, map[string][]state.Copy{
		"cn-shanghai": {copyOf("m-Sh1", "cn-shanghai", state.Available, ok), copyOf("m-Sh2", "cn-shanghai", state.Creating, map[string]string{"imageshare:source": "cn-hangzhou/" + src})},
		"cn-beijing":  {failed},
		"cn-qingdao":  {},
	})
	ip := Make(st, testSettings(t, nil)).Image(src)
	eq(t, "ops", copyOps(ip), []string{"copy|cn-qingdao", "retag|cn-shanghai|m-Sh2"})
	eq(t, "refusals", refusalKeys(ip), []string{"cn-beijing|copy-failed", "cn-shanghai|duplicate-copy"})
	// A day after the failure, a new copy.
	st.Now = t0.Add(2 * time.Hour)
	ip = Make(st, testSettings(t, nil)).Image(src)
	eq(t, "a day later", copyOps(ip), []string{"copy|cn-beijing", "copy|cn-qingdao", "retag|cn-shanghai|m-Sh2"})
	// Encrypted: only regions with a key of their own.
	st.Images[0].Encrypted = true
	ip = Make(st, testSettings(t, map[string]string{"COPY_KMS_KEYS": "cn-qingdao=key-qd-1"})).Image(src)
	eq(t, "encrypted", copyOps(ip), []string{"copy|cn-qingdao", "retag|cn-shanghai|m-Sh2"})
	eq(t, "key", ip.Copies[0].KMSKeyID, "key-qd-1")
	eq(t, "refusals", refusalKeys(ip), []string{"cn-beijing|copy-encrypted-no-key", "cn-shanghai|duplicate-copy"})
}

func TestNothingIsCopiedFromAnImageThatCannotBe(t *testing.T) {
	tags := map[string]string{"imageshare:accounts": m2, "imageshare:regions": "cn-shanghai"}
	for name, mk := range map[string]func() state.Image{
		"creating": func() state.Image { i := img(src, tags); i.Status = state.Creating; return i },
		"failed":   func() state.Image { i := img(src, tags); i.Status = state.CreateFailed; return i },
		"tag error": func() state.Image {
			return img(src, map[string]string{"imageshare:accounts": "12", "imageshare:regions": "cn-shanghai"})
		},
		"bad region": func() state.Image {
			return img(src, map[string]string{"imageshare:accounts": m2, "imageshare:regions": "cn-shanghai Beijing"})
		},
	} {
		st := testState(mk())
		looked(st, src, map[string][]state.Copy{"cn-shanghai": {copyOf("m-Sh1", "cn-shanghai", state.Available, map[string]string{"imageshare:source": "cn-hangzhou/" + src})}})
		if ip := Make(st, testSettings(t, nil)).Image(src); len(ip.Copies) > 0 || len(ip.Confirm) > 0 {
			t.Errorf("%s: %v %v", name, copyOps(ip), confirmKeys(ip))
		}
	}
}

func TestACopyChecksItsSource(t *testing.T) {
	origin := "cn-hangzhou/" + src
	copyTags := map[string]string{"imageshare:accounts": m2, "imageshare:source": origin}
	st := testState(img("m-Copy1", copyTags))
	st.Region = "cn-shanghai"
	sourceTags := map[string]string{"imageshare:accounts": m2, "imageshare:regions": "cn-shanghai"}
	st.Sources = map[string]state.Image{"m-Copy1": img(src, sourceTags)}
	ip := Make(st, testSettings(t, nil)).Image("m-Copy1")
	if ip.AskSource != nil || len(ip.Keep) > 0 {
		t.Fatalf("a copy in line: %+v %+v", ip.AskSource, ip.Keep)
	}
	eq(t, "shared as its own tags say", ip.Share, []string{m2})
	// The source asks for more: the copy asks the source's deployment.
	sourceTags["imageshare:accounts"] = m2 + " " + m3
	ip = Make(st, testSettings(t, nil)).Image("m-Copy1")
	eq(t, "ask", ip.AskSource, &SourceAsk{Region: "cn-hangzhou", Image: src, Copy: "cn-shanghai"})
	// The source no longer asks for this region: the copy's tags should be withdrawn.
	sourceTags["imageshare:regions"] = "none"
	if ip = Make(st, testSettings(t, nil)).Image("m-Copy1"); ip.AskSource == nil {
		t.Fatal("a copy whose region the source dropped does not ask")
	}
	st.Images[0].Tags = policy.CopyTags("imageshare", sourceTags, "cn-hangzhou", src, false)
	if ip = Make(st, testSettings(t, nil)).Image("m-Copy1"); ip.AskSource != nil {
		t.Fatal("an already withdrawn copy asks again")
	}
	// The source is gone: kept and reported.
	st.Sources["m-Copy1"] = state.Image{ID: src, Missing: true}
	ip = Make(st, testSettings(t, nil)).Image("m-Copy1")
	if len(ip.Keep) != 1 || ip.Keep[0].Reason != "source-deleted" || ip.AskSource != nil {
		t.Fatalf("orphan: %+v", ip.Keep)
	}
	// A regions key on a copy is refused and ignored.
	st.Images[0].Tags = map[string]string{"imageshare:accounts": m2, "imageshare:source": origin, "imageshare:regions": "cn-beijing"}
	st.Copies = map[string]map[string][]state.Copy{"m-Copy1": {"cn-beijing": {}}}
	ip = Make(st, testSettings(t, nil)).Image("m-Copy1")
	if !slices.Contains(refusalKeys(ip), "imageshare:regions|regions-on-copy") || len(ip.Copies) > 0 {
		t.Fatalf("regions on a copy: %v %v", refusalKeys(ip), copyOps(ip))
	}
}
