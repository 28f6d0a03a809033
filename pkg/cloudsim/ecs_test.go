package cloudsim_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"imageshare/pkg/cloudsim"
)

func modify(cl *ecs.Client, image string, add, remove []string, public bool) error {
	req := ecs.CreateModifyImageSharePermissionRequest()
	req.RegionId = region
	req.ImageId = image
	if len(add) > 0 {
		req.AddAccount = &add
	}
	if len(remove) > 0 {
		req.RemoveAccount = &remove
	}
	if public {
		req.IsPublic = requests.NewBoolean(true)
	}
	_, err := cl.ModifyImageSharePermission(req)
	return err
}

func TestModifyImageSharePermissionErrors(t *testing.T) {
	e := world(t, cloudsim.Config{})
	c := e.cloud
	for _, im := range []cloudsim.ImageSpec{
		{ID: "m-avail", Owner: owner, SharedWith: []string{m4}},
		{ID: "m-market", Owner: owner, ProductCode: "cmjj00000001"},
		{ID: "m-cmk", Owner: owner, Encrypted: "cmk"},
		{ID: "m-svc", Owner: owner, Encrypted: "service-key"},
		{ID: "m-depr", Owner: owner, Status: "Deprecated"},
		{ID: "m-creating", Owner: owner, Status: "Creating"},
		{ID: "m-failed", Owner: owner, Status: "CreateFailed"},
		{ID: "m-waiting", Owner: owner, Status: "Waiting"},
		{ID: "m-unavail", Owner: owner, Status: "UnAvailable", SharedWith: []string{m4}},
		{ID: "m-theirs", Owner: m2},
	} {
		c.PutImage(region, im)
	}
	cl := e.ecs(e.ownerKey)
	const unknown = "1999999999999999"
	cases := []struct {
		name        string
		image       string
		add, remove []string
		public      bool
		code        string
		status      int
	}{
		{"unknown account", "m-avail", []string{unknown}, nil, false, "InvalidAccount.NotFound", 404},
		{"unknown account after a good one", "m-avail", []string{m2, unknown}, nil, false, "InvalidAccount.NotFound", 404},
		{"unknown account removed", "m-avail", nil, []string{unknown}, false, "InvalidAccount.NotFound", 404},
		{"the owner itself", "m-avail", []string{owner}, nil, false, "InvalidAccount.Forbbiden", 404},
		{"marketplace image to the other site", "m-market", []string{intl}, nil, false, "InvalidImageId.BidMismatch", 403},
		{"cmk without the role", "m-cmk", []string{m2}, nil, false, "AssumeRoleError", 403},
		{"service key", "m-svc", []string{m2}, nil, false, "InvalidOperation.ServiceKeyEncryptedImageUnsupported", 403},
		{"deprecated", "m-depr", []string{m2}, nil, false, "OperationDenied.InvalidImageStatus", 403},
		{"creating", "m-creating", []string{m2}, nil, false, "IncorrectImageStatus", 400},
		{"create failed", "m-failed", []string{m2}, nil, false, "IncorrectImageStatus", 400},
		{"waiting", "m-waiting", []string{m2}, nil, false, "IncorrectImageStatus", 400},
		{"unavailable", "m-unavail", []string{m2}, nil, false, "IncorrectImageStatus", 400},
		{"remove from an unavailable image", "m-unavail", nil, []string{m4}, false, "IncorrectImageStatus", 400},
		{"remove from a creating image", "m-creating", nil, []string{m2}, false, "IncorrectImageStatus", 400},
		{"deprecated, add and remove", "m-depr", []string{m2}, []string{m3}, false, "OperationDenied.InvalidImageStatus", 403},
		{"another account's image", "m-theirs", []string{m3}, nil, false, "InvalidImageId.NotFound", 404},
		{"no such image", "m-nothere", []string{m3}, nil, false, "InvalidImageId.NotFound", 404},
		{"community publication", "m-avail", []string{m2}, nil, true, "PublicImageAgreement.NotSigned", 403},
		{"marketplace image on the same site", "m-market", []string{outside}, nil, false, "", 0},
		{"repeated add", "m-avail", []string{m4}, nil, false, "", 0},
		{"remove of an account not shared", "m-avail", nil, []string{m3}, false, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := c.Image(region, tc.image)
			err := modify(cl, tc.image, tc.add, tc.remove, tc.public)
			if got := code(t, err); got != tc.code {
				t.Fatalf("code = %q, want %q (%v)", got, tc.code, err)
			}
			if tc.code == "" {
				return
			}
			if got := status(t, err); got != tc.status {
				t.Errorf("HTTP status = %d, want %d", got, tc.status)
			}
			after, _ := c.Image(region, tc.image)
			if !slices.Equal(before.Direct, after.Direct) {
				t.Errorf("a failed call changed the shares: %v → %v", before.Direct, after.Direct)
			}
		})
	}
	c.AddRole(owner, "AliyunECSShareEncryptImageDefaultRole")
	if err := modify(cl, "m-cmk", []string{m2}, nil, false); err != nil {
		t.Fatalf("cmk image with the role: %v", err)
	}
	// Unsharing needs neither the role nor an available image.
	if err := modify(cl, "m-depr", nil, []string{m2}, false); err != nil {
		t.Fatalf("remove from a deprecated image: %v", err)
	}
}

func TestModifyImageSharePermissionHonoursTenOfEach(t *testing.T) {
	e := world(t, cloudsim.Config{})
	var ids []string
	for i := 1; i <= 11; i++ {
		ids = append(ids, accountID(i))
		e.cloud.AddAccount(accountID(i), "china")
	}
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-ten", Owner: owner})
	cl := e.ecs(e.ownerKey)
	must(t, modify(cl, "m-ten", ids, nil, false))
	im, _ := e.cloud.Image(region, "m-ten")
	if !slices.Equal(im.Direct, ids[:10]) {
		t.Fatalf("after 11 adds: %v, want the first 10", im.Direct)
	}
	// Removing 11: the eleventh (not shared anyway) and only ten are looked at.
	must(t, modify(cl, "m-ten", []string{ids[10]}, nil, false))
	must(t, modify(cl, "m-ten", nil, ids, false))
	im, _ = e.cloud.Image(region, "m-ten")
	if !slices.Equal(im.Direct, ids[10:]) {
		t.Fatalf("after 11 removes: %v, want only the eleventh left", im.Direct)
	}
}

func TestShareQuotaPerImage(t *testing.T) {
	e := world(t, cloudsim.Config{})
	var ids []string
	for i := 1; i <= 51; i++ {
		ids = append(ids, accountID(i))
		e.cloud.AddAccount(accountID(i), "china")
	}
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-full", Owner: owner, SharedWith: ids[:50]})
	cl := e.ecs(e.ownerKey)
	err := modify(cl, "m-full", ids[50:], nil, false)
	if got := code(t, err); got != "QuotaExceed.ShareImageUser" || status(t, err) != 403 {
		t.Fatalf("51st account: %v", err)
	}
	// Swapping one for another stays within the quota.
	must(t, modify(cl, "m-full", ids[50:], ids[:1], false))
	im, _ := e.cloud.Image(region, "m-full")
	if len(im.Direct) != 50 || slices.Contains(im.Direct, ids[0]) || !slices.Contains(im.Direct, ids[50]) {
		t.Fatalf("after the swap: %d shares", len(im.Direct))
	}
}

func describe(t *testing.T, cl *ecs.Client, mut func(*ecs.DescribeImagesRequest)) *ecs.DescribeImagesResponse {
	t.Helper()
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = region
	if mut != nil {
		mut(req)
	}
	resp, err := cl.DescribeImages(req)
	if err != nil {
		t.Fatalf("DescribeImages: %v", err)
	}
	return resp
}

func ids(resp *ecs.DescribeImagesResponse) []string {
	var out []string
	for _, im := range resp.Images.Image {
		out = append(out, im.ImageId)
	}
	slices.Sort(out)
	return out
}

func TestDescribeImages(t *testing.T) {
	e := world(t, cloudsim.Config{})
	c := e.cloud
	t0 := e.clock.Now()
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-a1", Owner: owner, Tags: map[string]string{"team": "x", "env": "prod"},
		ProductCode: "cmjj00000001", Encrypted: "cmk", SharedWith: []string{m2}, Created: t0.Add(-time.Hour)})
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-a2", Owner: owner, Tags: map[string]string{"team": "y"}})
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-c", Owner: owner, Status: "Creating"})
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-d", Owner: owner, Status: "Deprecated"})
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-shared", Owner: m2, SharedWith: []string{owner}, Tags: map[string]string{"team": "x"}})
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-hidden", Owner: m2})
	cl := e.ecs(e.ownerKey)

	if got := ids(describe(t, cl, nil)); !slices.Equal(got, []string{"m-a1", "m-a2", "m-shared"}) {
		t.Errorf("default listing = %v, want the Available images the caller sees", got)
	}
	got := ids(describe(t, cl, func(r *ecs.DescribeImagesRequest) { r.Status = "Creating,Deprecated"; r.ImageOwnerAlias = "self" }))
	if !slices.Equal(got, []string{"m-c", "m-d"}) {
		t.Errorf("Status=Creating,Deprecated = %v", got)
	}
	others := describe(t, cl, func(r *ecs.DescribeImagesRequest) { r.ImageOwnerAlias = "others" })
	if got := ids(others); !slices.Equal(got, []string{"m-shared"}) || others.Images.Image[0].ImageOwnerAlias != "others" ||
		len(others.Images.Image[0].Tags.Tag) != 0 {
		t.Errorf("others = %v %+v", got, others.Images.Image)
	}
	tagged := describe(t, cl, func(r *ecs.DescribeImagesRequest) {
		r.Tag = &[]ecs.DescribeImagesTag{{Key: "team", Value: "x"}}
	})
	if got := ids(tagged); !slices.Equal(got, []string{"m-a1"}) {
		t.Errorf("Tag team=x = %v (tags of others' images are not the caller's)", got)
	}
	if got := ids(describe(t, cl, func(r *ecs.DescribeImagesRequest) {
		r.Tag = &[]ecs.DescribeImagesTag{{Key: "team"}}
		r.ImageOwnerAlias = "self"
	})); !slices.Equal(got, []string{"m-a1", "m-a2"}) {
		t.Errorf("Tag key team = %v", got)
	}
	if got := ids(describe(t, cl, func(r *ecs.DescribeImagesRequest) { r.ImageId = "m-a2,m-d"; r.Status = "Available,Deprecated" })); !slices.Equal(got, []string{"m-a2", "m-d"}) {
		t.Errorf("ImageId filter = %v", got)
	}

	im := tagged.Images.Image[0]
	if im.ImageOwnerAlias != "self" || im.IsSelfShared != "true" || im.ProductCode != "cmjj00000001" || im.ImageOwnerId != 1000000000000001 ||
		im.Status != "Available" || im.CreationTime != "2025-12-31T23:00:00Z" {
		t.Errorf("fields: %+v", im)
	}
	if len(im.DiskDeviceMappings.DiskDeviceMapping) != 1 || !im.DiskDeviceMappings.DiskDeviceMapping[0].Encrypted {
		t.Errorf("encrypted image's disk mapping: %+v", im.DiskDeviceMappings)
	}
	tags := map[string]string{}
	for _, tg := range im.Tags.Tag {
		tags[tg.TagKey] = tg.TagValue
	}
	if tags["team"] != "x" || tags["env"] != "prod" || len(tags) != 2 {
		t.Errorf("tags = %v", tags)
	}

	for _, tc := range []struct {
		mut  func(*ecs.DescribeImagesRequest)
		code string
	}{
		{func(r *ecs.DescribeImagesRequest) { r.ImageOwnerAlias = "mine" }, "InvalidImageOwnerAlias.ValueNotSupported"},
		// DescribeImages documents no codes of its own for its page ranges: its general one.
		{func(r *ecs.DescribeImagesRequest) { r.PageSize = requests.NewInteger(101) }, "InvalidParamter"},
		{func(r *ecs.DescribeImagesRequest) { r.PageNumber = requests.NewInteger(0) }, "InvalidParamter"},
		{func(r *ecs.DescribeImagesRequest) { r.OSType = "beos" }, "InvalidOSType"},
	} {
		req := ecs.CreateDescribeImagesRequest()
		req.RegionId = region
		tc.mut(req)
		if _, err := cl.DescribeImages(req); code(t, err) != tc.code {
			t.Errorf("want %s, got %v", tc.code, err)
		}
	}
}

func TestDescribeImagesPagesEveryImageOnce(t *testing.T) {
	e := world(t, cloudsim.Config{})
	for i := range 250 {
		// Creation times collide in threes: the order must still be total.
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: fmt.Sprintf("m-page%05d", i), Owner: owner, Created: emuTime(i / 3)})
	}
	cl := e.ecs(e.ownerKey)
	seen := map[string]int{}
	for page := 1; page <= 4; page++ {
		resp := describe(t, cl, func(r *ecs.DescribeImagesRequest) {
			r.PageNumber = requests.NewInteger(page)
			r.PageSize = requests.NewInteger(100)
			r.ImageOwnerAlias = "self"
		})
		if resp.TotalCount != 250 || resp.PageNumber != page || resp.PageSize != 100 {
			t.Fatalf("page %d: total %d number %d size %d", page, resp.TotalCount, resp.PageNumber, resp.PageSize)
		}
		want := []int{100, 100, 50, 0}[page-1]
		if len(resp.Images.Image) != want {
			t.Fatalf("page %d has %d images, want %d", page, len(resp.Images.Image), want)
		}
		for _, im := range resp.Images.Image {
			seen[im.ImageId]++
		}
	}
	if len(seen) != 250 {
		t.Fatalf("saw %d distinct images, want 250", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", id, n)
		}
	}
}

func emuTime(minutes int) time.Time { return time.Date(2025, 6, 1, 0, minutes, 0, 0, time.UTC) }

func TestDescribeImageSharePermission(t *testing.T) {
	e := world(t, cloudsim.Config{})
	var shared []string
	for i := 1; i <= 25; i++ {
		e.cloud.AddAccount(accountID(i), "china")
		shared = append(shared, accountID(i))
	}
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-perm", Owner: owner, SharedWith: shared})
	cl := e.ecs(e.ownerKey)
	var got []string
	for page := 1; page <= 3; page++ {
		req := ecs.CreateDescribeImageSharePermissionRequest()
		req.RegionId, req.ImageId = region, "m-perm"
		req.PageNumber, req.PageSize = requests.NewInteger(page), requests.NewInteger(10)
		resp, err := cl.DescribeImageSharePermission(req)
		must(t, err)
		if resp.TotalCount != 25 || resp.ImageId != "m-perm" {
			t.Fatalf("page %d: %+v", page, resp)
		}
		for _, a := range resp.Accounts.Account {
			if a.SharedTime == "" {
				t.Errorf("no SharedTime for %s", a.AliyunId)
			}
			got = append(got, a.AliyunId)
		}
	}
	if !slices.Equal(got, shared) {
		t.Fatalf("pages = %v, want %v", got, shared)
	}
	req := ecs.CreateDescribeImageSharePermissionRequest()
	req.RegionId, req.ImageId = region, "m-none"
	if _, err := cl.DescribeImageSharePermission(req); code(t, err) != "InvalidImageId.NotFound" {
		t.Fatalf("unknown image: %v", err)
	}
}

func tag(cl *ecs.Client, images []string, tags map[string]string) error {
	req := ecs.CreateTagResourcesRequest()
	req.RegionId, req.ResourceType = region, "image"
	req.ResourceId = &images
	var ts []ecs.TagResourcesTag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		ts = append(ts, ecs.TagResourcesTag{Key: k, Value: tags[k]})
	}
	req.Tag = &ts
	_, err := cl.TagResources(req)
	return err
}

func TestTags(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-t1", Owner: owner, Tags: map[string]string{"acs:ecs:image:osVersion": "3"}})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-t2", Owner: owner})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-theirs", Owner: m2})
	cl := e.ecs(e.ownerKey)

	must(t, tag(cl, []string{"m-t1", "m-t2"}, map[string]string{"imageshare:accounts": m2, "team": "x"}))
	for _, id := range []string{"m-t1", "m-t2"} {
		im, _ := e.cloud.Image(region, id)
		if im.Tags["imageshare:accounts"] != m2 || im.Tags["team"] != "x" {
			t.Fatalf("%s tags = %v", id, im.Tags)
		}
	}

	many := func(n int, f func(i int) string) []string {
		var out []string
		for i := range n {
			out = append(out, f(i))
		}
		return out
	}
	tooManyTags := map[string]string{}
	for i := range 21 {
		tooManyTags[fmt.Sprintf("k%02d", i)] = "v"
	}
	nineteen := map[string]string{}
	for i := range 19 {
		nineteen[fmt.Sprintf("q%02d", i)] = "v"
	}
	for _, tc := range []struct {
		name   string
		images []string
		tags   map[string]string
		code   string
	}{
		{"51 resources", many(51, func(i int) string { return fmt.Sprintf("m-x%d", i) }), map[string]string{"a": "b"}, "NumberExceed.ResourceIds"},
		{"21 tags", []string{"m-t2"}, tooManyTags, "NumberExceed.Tags"},
		{"acs: key", []string{"m-t2"}, map[string]string{"acs:mine": "v"}, "InvalidTagKey.Malformed"},
		{"aliyun key", []string{"m-t2"}, map[string]string{"aliyunfoo": "v"}, "InvalidTagKey.Malformed"},
		{"url in key", []string{"m-t2"}, map[string]string{"see http://x": "v"}, "InvalidTagKey.Malformed"},
		{"long value", []string{"m-t2"}, map[string]string{"k": string(make([]byte, 129))}, "InvalidTagValue.Malformed"},
		{"unknown image", []string{"m-t2", "m-nope"}, map[string]string{"k": "v"}, "InvalidResourceId.NotFound"},
		{"another account's image", []string{"m-theirs"}, map[string]string{"k": "v"}, "InvalidResourceId.NotFound"},
		// m-t1 holds 2 user tags and one acs: tag; 19 more make 21 user tags.
		{"over 20 tags on an image", []string{"m-t2", "m-t1"}, nineteen, "OperationDenied.QuotaExceed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := e.cloud.Image(region, "m-t2")
			if got := code(t, tag(cl, tc.images, tc.tags)); got != tc.code {
				t.Fatalf("code = %q, want %q", got, tc.code)
			}
			after, _ := e.cloud.Image(region, "m-t2")
			if len(after.Tags) != len(before.Tags) {
				t.Fatalf("a failed call changed tags: %v → %v", before.Tags, after.Tags)
			}
		})
	}
	// 18 more on m-t1 reach exactly 20 user tags (acs: tags do not count).
	eighteen := map[string]string{}
	for i := range 18 {
		eighteen[fmt.Sprintf("q%02d", i)] = "v"
	}
	must(t, tag(cl, []string{"m-t1"}, eighteen))

	un := ecs.CreateUntagResourcesRequest()
	un.RegionId, un.ResourceType = region, "image"
	un.ResourceId, un.TagKey = strs("m-t2"), strs("team")
	_, err := cl.UntagResources(un)
	must(t, err)
	if im, _ := e.cloud.Image(region, "m-t2"); len(im.Tags) != 1 || im.Tags["imageshare:accounts"] != m2 {
		t.Fatalf("after UntagResources team: %v", im.Tags)
	}
	un = ecs.CreateUntagResourcesRequest()
	un.RegionId, un.ResourceType = region, "image"
	un.ResourceId, un.All = strs("m-t1"), requests.NewBoolean(true)
	_, err = cl.UntagResources(un)
	must(t, err)
	if im, _ := e.cloud.Image(region, "m-t1"); len(im.Tags) != 1 || im.Tags["acs:ecs:image:osVersion"] != "3" {
		t.Fatalf("after UntagResources All: %v (system tags stay)", im.Tags)
	}

	add := ecs.CreateAddTagsRequest()
	add.RegionId, add.ResourceType, add.ResourceId = region, "image", "m-t1"
	add.Tag = &[]ecs.AddTagsTag{{Key: "legacy", Value: "1"}}
	_, err = cl.AddTags(add)
	must(t, err)
	rm := ecs.CreateRemoveTagsRequest()
	rm.RegionId, rm.ResourceType, rm.ResourceId = region, "image", "m-t2"
	rm.Tag = &[]ecs.RemoveTagsTag{{Key: "imageshare:accounts"}}
	_, err = cl.RemoveTags(rm)
	must(t, err)
	if a, _ := e.cloud.Image(region, "m-t1"); a.Tags["legacy"] != "1" {
		t.Fatalf("AddTags: %v", a.Tags)
	}
	if b, _ := e.cloud.Image(region, "m-t2"); len(b.Tags) != 0 {
		t.Fatalf("RemoveTags: %v", b.Tags)
	}
}

func TestListTagResourcesPagesEveryPairOnce(t *testing.T) {
	e := world(t, cloudsim.Config{})
	var all []string
	for i := range 60 {
		id := fmt.Sprintf("m-lt%03d", i)
		all = append(all, id)
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner, Tags: map[string]string{"a": "1", "b": fmt.Sprint(i % 2)}})
	}
	cl := e.ecs(e.ownerKey)
	seen := map[string]int{}
	pages := 0
	for token := ""; ; {
		// Tags or resources must be named: every image has tag a.
		req := ecs.CreateListTagResourcesRequest()
		req.RegionId, req.ResourceType, req.NextToken = region, "image", token
		req.Tag = &[]ecs.ListTagResourcesTag{{Key: "a"}}
		resp, err := cl.ListTagResources(req)
		must(t, err)
		pages++
		for _, tr := range resp.TagResources.TagResource {
			seen[tr.ResourceId+"/"+tr.TagKey]++
		}
		if token = resp.NextToken; token == "" {
			break
		}
	}
	if len(seen) != 120 || pages != 3 {
		t.Fatalf("%d pairs in %d pages, want 120 in 3", len(seen), pages)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", k, n)
		}
	}
	req := ecs.CreateListTagResourcesRequest()
	req.RegionId, req.ResourceType = region, "image"
	req.Tag = &[]ecs.ListTagResourcesTag{{Key: "b", Value: "1"}}
	req.ResourceId = &[]string{all[0], all[1], all[3]}
	resp, err := cl.ListTagResources(req)
	must(t, err)
	var hit []string
	for _, tr := range resp.TagResources.TagResource {
		if !slices.Contains(hit, tr.ResourceId) {
			hit = append(hit, tr.ResourceId)
		}
	}
	if !slices.Equal(hit, []string{all[1], all[3]}) {
		t.Fatalf("filtered = %v", hit)
	}
}

func TestImageLifecycle(t *testing.T) {
	e := world(t, cloudsim.Config{ImageReadyAfter: 3 * time.Minute})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-src", Owner: owner, ProductCode: "cmjj00000001", SharedWith: []string{m2}})
	cl := e.ecs(e.ownerKey)

	cr := ecs.CreateCreateImageRequest()
	cr.RegionId, cr.ImageName, cr.InstanceId = region, "built", "i-builder"
	cr.Tag = &[]ecs.CreateImageTag{{Key: "imageshare:accounts", Value: m3}}
	resp, err := cl.CreateImage(cr)
	must(t, err)
	id := resp.ImageId
	if len(id) != 22 || id[:2] != "m-" {
		t.Fatalf("new image id %q", id)
	}
	im, _ := e.cloud.Image(region, id)
	if im.Status != "Creating" || im.Tags["imageshare:accounts"] != m3 || im.Owner != owner {
		t.Fatalf("new image: %+v", im)
	}
	if at, ok := e.cloud.NextDue(); !ok || !at.Equal(e.clock.Now().Add(3*time.Minute)) {
		t.Fatalf("NextDue = %v %v", at, ok)
	}
	e.advance(2 * time.Minute)
	if im, _ = e.cloud.Image(region, id); im.Status != "Creating" {
		t.Fatalf("ready too early: %s", im.Status)
	}
	e.advance(time.Minute)
	if im, _ = e.cloud.Image(region, id); im.Status != "Available" {
		t.Fatalf("not ready after 3m: %s", im.Status)
	}

	cp := ecs.CreateCopyImageRequest()
	cp.RegionId, cp.ImageId, cp.DestinationRegionId = region, "m-src", "cn-shanghai"
	cpr, err := cl.CopyImage(cp)
	must(t, err)
	cim, ok := e.cloud.Image("cn-shanghai", cpr.ImageId)
	if !ok || cim.Status != "Creating" || cim.ProductCode != "cmjj00000001" || len(cim.Direct) != 0 {
		t.Fatalf("copy: %+v", cim)
	}

	// A person's CreateImage with a chosen id and delay.
	if err := e.cloud.CreateImageAs(e.ownerKey.Identity, region, "m-Chosen00001", map[string]string{"k": "v"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if im, ok := e.cloud.Image(region, "m-Chosen00001"); !ok || im.Status != "Creating" || im.Tags["k"] != "v" {
		t.Fatalf("CreateImageAs: %+v", im)
	}

	// DeleteImage takes the direct shares and the resource-share associations with it.
	e.cloud.PutResourceShare(region, owner, "golden", []string{prod}, []string{"m-src"})
	if !e.cloud.Access(region, "m-src")[m3] {
		t.Fatal("m3 should reach m-src through the prod share")
	}
	del := ecs.CreateDeleteImageRequest()
	del.RegionId, del.ImageId = region, "m-src"
	if _, err = cl.DeleteImage(del); code(t, err) != "ImageUseShared" || status(t, err) != 403 {
		t.Fatalf("deleting a shared image without Force: %v", err)
	}
	del.Force = requests.NewBoolean(true)
	_, err = cl.DeleteImage(del)
	must(t, err)
	if _, ok := e.cloud.Image(region, "m-src"); ok {
		t.Fatal("image still there")
	}
	for _, s := range e.cloud.ResourceShares(region) {
		if _, ok := s.Resources["m-src"]; ok {
			t.Fatalf("share %s still holds the deleted image", s.Name)
		}
	}
	if _, err = cl.DeleteImage(del); code(t, err) != "InvalidImageId.NotFound" {
		t.Fatalf("second delete: %v", err)
	}
}
