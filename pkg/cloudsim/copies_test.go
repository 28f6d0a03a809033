package cloudsim_test

import (
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"imageshare/pkg/cloudsim"
)

// CopyImage through the SDK: its ActionTrail event is logged in the source region and
// names the destination and the copy; a copy takes its time and may end CreateFailed; a
// copy listed late is found by its ID only once listed; a Marketplace product not
// published in the destination and a full image quota are refused with their codes.
func TestCopyImageLifecycle(t *testing.T) {
	e := world(t, cloudsim.Config{CopyReadyAfter: 40 * time.Minute, CopyFails: map[string]int{"cn-beijing": 1},
		CopyListDelay: 30 * time.Second, ImageQuota: 2})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-Base00000001", Owner: owner})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-Market000001", Owner: owner, ProductCode: "cmjj000123", ProductRegions: []string{region, "cn-beijing"}})
	e.takeEvents()
	c := e.ecs(e.fnKey)
	copyTo := func(image, dst string) (string, error) {
		req := ecs.CreateCopyImageRequest()
		req.RegionId, req.ImageId, req.DestinationRegionId = region, image, dst
		req.Tag = &[]ecs.CopyImageTag{{Key: "imageshare:source", Value: region + "/" + image}}
		resp, err := c.CopyImage(req)
		if err != nil {
			return "", err
		}
		return resp.ImageId, nil
	}
	sh, err := copyTo("m-Base00000001", "cn-shanghai")
	must(t, err)
	evs := e.takeEvents()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	ev := decodeEvent(t, evs[0])
	if ev.Data.EventName != "CopyImage" || ev.Data.AcsRegion != region || ev.Data.RequestParameters["DestinationRegionId"] != "cn-shanghai" ||
		ev.Data.ResponseElements["ImageId"] != sh || ev.Data.UserIdentity["type"] != "assumed-role" {
		t.Fatalf("event %+v", ev.Data)
	}
	list := func(dst string) []ecs.Image {
		req := ecs.CreateDescribeImagesRequest()
		req.RegionId, req.ImageOwnerAlias, req.Status = dst, "self", "Creating,Available,CreateFailed"
		req.PageSize = requests.NewInteger(100)
		resp, err := e.ecs(e.fnKey).DescribeImages(req)
		must(t, err)
		return resp.Images.Image
	}
	if got := list("cn-shanghai"); len(got) != 0 {
		t.Fatalf("listed before its listing delay: %+v", got)
	}
	e.advance(30 * time.Second)
	if got := list("cn-shanghai"); len(got) != 1 || got[0].Status != "Creating" || !got[0].IsCopied {
		t.Fatalf("after the listing delay: %+v", got)
	}
	bj, err := copyTo("m-Base00000001", "cn-beijing")
	must(t, err)
	if bj == sh || bj != cloudsim.CopyID("m-Base00000001", "cn-beijing", 1) {
		t.Fatalf("copy IDs %s %s", sh, bj)
	}
	e.advance(40 * time.Minute)
	if v, _ := e.cloud.Image("cn-shanghai", sh); v.Status != "Available" {
		t.Fatalf("cn-shanghai copy %s", v.Status)
	}
	if v, _ := e.cloud.Image("cn-beijing", bj); v.Status != "CreateFailed" {
		t.Fatalf("cn-beijing copy %s, want CreateFailed (the region's first copy fails)", v.Status)
	}
	bj2, err := copyTo("m-Base00000001", "cn-beijing")
	must(t, err)
	if bj2 != cloudsim.CopyID("m-Base00000001", "cn-beijing", 2) {
		t.Fatalf("second copy %s", bj2)
	}
	if _, err := copyTo("m-Market000001", "cn-shanghai"); code(t, err) != "OperationDenied.NotPublished" {
		t.Fatalf("Marketplace product not published there: %v", err)
	}
	// cn-beijing holds two images of the owner: the quota of two is reached.
	if _, err := copyTo("m-Market000001", "cn-beijing"); code(t, err) != "QuotaExceed.Image" {
		t.Fatalf("image quota: %v", err)
	}
}
