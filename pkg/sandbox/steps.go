package sandbox

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/scenario"
)

// person performs one API call as the owner (a person, not the functions): it emits
// the ActionTrail event a real call would.
func (sb *sandbox) person(product, action string, params map[string]string) {
	sb.personAs(sb.owner, product, action, params)
}

// personAs performs one API call as a person of the caller's account, in the region of
// the image it names (the scenario's region when it names none or an unknown one).
func (sb *sandbox) personAs(caller emu.Identity, product, action string, params map[string]string) {
	if params["RegionId"] == "" && product != "resourcemanager" {
		params["RegionId"] = sb.regionOf(firstNonEmpty(params["ImageId"], params["ResourceId.1"]))
	}
	if _, _, err := sb.cloud.Call(caller, product, action, params); err != nil {
		sb.tracef("step %s failed: %s %s", action, err.Code, err.Message)
		return
	}
	sb.tracef("step %s %v", action, params)
}

// step performs one scenario step. Inside `together`, no settle happens in between.
func (sb *sandbox) step(ctx context.Context, st scenario.Step, inTogether bool) error {
	region := sb.sc.Region
	switch {
	case st.TagImage != nil:
		p := map[string]string{"ResourceType": "image", "ResourceId.1": st.TagImage.Image}
		keys := make([]string, 0, len(st.TagImage.Tags))
		for k := range st.TagImage.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			p["Tag."+strconv.Itoa(i+1)+".Key"] = k
			p["Tag."+strconv.Itoa(i+1)+".Value"] = st.TagImage.Tags[k]
		}
		sb.person("ecs", "TagResources", p)
	case st.UntagImage != nil:
		p := map[string]string{"ResourceType": "image", "ResourceId.1": st.UntagImage.Image}
		for i, k := range st.UntagImage.Keys {
			p["TagKey."+strconv.Itoa(i+1)] = k
		}
		sb.person("ecs", "UntagResources", p)
	case st.CreateImage != nil:
		c := st.CreateImage
		if err := sb.cloud.CreateImageAs(sb.owner, region, c.Image, c.Tags, c.ReadyAfter); err != nil {
			sb.tracef("step CreateImage failed: %s", err.Code)
		}
	case st.DeleteImage != nil:
		sb.person("ecs", "DeleteImage", map[string]string{"ImageId": st.DeleteImage.Image, "Force": "true"})
	case st.ShareImage != nil:
		s := st.ShareImage
		for i := 0; i < len(s.Add) || i < len(s.Remove) || i == 0; i += 10 {
			p := map[string]string{"ImageId": s.Image}
			for j := i; j < i+10 && j < len(s.Add); j++ {
				p["AddAccount."+strconv.Itoa(j-i+1)] = s.Add[j]
			}
			for j := i; j < i+10 && j < len(s.Remove); j++ {
				p["RemoveAccount."+strconv.Itoa(j-i+1)] = s.Remove[j]
			}
			sb.person("ecs", "ModifyImageSharePermission", p)
		}
	// The directory steps are the management account's writes (the owner's, unless the
	// scenario names another management account).
	case st.CreateAccount != nil:
		if err := sb.cloud.CreateAccountAs(sb.manager, st.CreateAccount.Account, st.CreateAccount.Folder); err != nil {
			sb.tracef("step CreateResourceAccount failed: %s", err.Code)
		}
	case st.InviteAccount != nil:
		i := st.InviteAccount
		if err := sb.cloud.InviteAccountAs(sb.manager, i.Account, i.Folder, i.AcceptAfter); err != nil {
			sb.tracef("step InviteAccountToResourceDirectory failed: %s", err.Code)
		}
	case st.MoveAccount != nil:
		sb.personAs(sb.manager, "resourcemanager", "MoveAccount", map[string]string{"AccountId": st.MoveAccount.Account, "DestinationFolderId": st.MoveAccount.To})
	case st.RemoveAccount != nil:
		sb.personAs(sb.manager, "resourcemanager", "RemoveCloudAccount", map[string]string{"AccountId": st.RemoveAccount.Account})
	case st.OrgShare != nil:
		sb.orgShare(st.OrgShare)
	case st.Events != "":
		sb.mu.Lock()
		sb.eventsOn = st.Events == "on"
		sb.mu.Unlock()
	case st.Event != nil:
		sb.mu.Lock()
		sb.bus = append(sb.bus, pending{body: append([]byte(nil), st.Event...)})
		sb.mu.Unlock()
	case st.Advance > 0:
		return sb.advance(ctx, st.Advance)
	case st.Together != nil:
		for _, inner := range st.Together {
			if err := sb.step(ctx, inner, true); err != nil {
				return err
			}
		}
	case st.Wait > 0:
		return sb.advance(ctx, st.Wait)
	default:
		return fmt.Errorf("line %d: empty step", st.Line)
	}
	if inTogether {
		return nil
	}
	return nil
}

// orgShare is a person's edit of a resource share (created if absent); with several
// of the name, the oldest (ResourceShares lists them oldest first).
func (sb *sandbox) orgShare(o *scenario.OrgShare) {
	id := ""
	for _, s := range sb.cloud.ResourceShares(sb.sc.Region) {
		if s.Name == o.Name && s.Owner == sb.sc.Owner && s.Status == "Active" {
			id = s.ID
			break
		}
	}
	list := func(prefix string, xs []string, p map[string]string, resource bool) {
		for i, x := range xs {
			if resource {
				p[prefix+"."+strconv.Itoa(i+1)+".ResourceId"] = x
				p[prefix+"."+strconv.Itoa(i+1)+".ResourceType"] = "Image"
			} else {
				p[prefix+"."+strconv.Itoa(i+1)] = x
			}
		}
	}
	if id == "" {
		p := map[string]string{"ResourceShareName": o.Name}
		list("Resources", o.AddImages, p, true)
		list("Targets", o.AddTargets, p, false)
		sb.person("resourcesharing", "CreateResourceShare", p)
	} else if len(o.AddImages)+len(o.AddTargets) > 0 {
		p := map[string]string{"ResourceShareId": id}
		list("Resources", o.AddImages, p, true)
		list("Targets", o.AddTargets, p, false)
		sb.person("resourcesharing", "AssociateResourceShare", p)
	}
	if id != "" && len(o.RemoveImages)+len(o.RemoveTargets) > 0 {
		p := map[string]string{"ResourceShareId": id, "ResourceOwner": "Self"}
		list("Resources", o.RemoveImages, p, true)
		list("Targets", o.RemoveTargets, p, false)
		sb.person("resourcesharing", "DisassociateResourceShare", p)
	}
}

// regionOf returns the region holding an image (the scenario's region when none does).
func (sb *sandbox) regionOf(image string) string {
	if image != "" {
		for _, v := range sb.cloud.AllImages() {
			if v.ID == image {
				return v.Region
			}
		}
	}
	return sb.sc.Region
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
