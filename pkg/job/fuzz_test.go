package job

import (
	"reflect"
	"strings"
	"testing"
)

// Job bodies as the functions write them (image-events, org-events, re-checks,
// postponed checks, the sweep and the handshake chain), and hostile ones.
var samples = []string{
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-Base00000001"],"reason":"event","retryFailed":true,"cause":"45ef4dew-7c35","notify":true}`,
	`{"v":1,"kind":"region","region":"cn-hangzhou","reason":"org","retryFailed":true,"cause":"e-9","notify":true}`,
	`{"v":1,"kind":"images","region":"cn-shanghai","images":["m-A","m-B"],"reason":"recheck","attempt":3,"notify":true,"notified":["0a1b2c3d","ffffffff"]}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-New000000001"],"reason":"postpone","retryFailed":true}`,
	`{"v":1,"kind":"handshake","region":"cn-hangzhou","reason":"handshake","attempt":2,"handshake":"h-Ab12Cd34","account":"2000000000000001","cause":"e-3"}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A","m-B"],"reason":"sweep","split":2,"splitFrom":"3C8B2D1E-M","splitOf":7}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"reason":"org","split":9,"splitOf":1}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":[],"reason":"sweep"}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A","m-B"],"reason":"confirm","notify":true,"confirm":[{"image":"m-A","fp":"` + strings.Repeat("0a", 32) + `","remove":["1000000000000002","imageshare-0123456789abcdef0123456789abcdef"]}],"actors":[{"type":"ram-user","accountId":"1000000000000001","principalId":"2811","userName":"alice"}],"untagged":["m-B"]}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"reason":"confirm","confirm":[{"image":"m-Z","fp":"00","remove":[]}]}`,
	`{"v":1,"kind":"region","region":"cn-hangzhou","reason":"org","actors":[{"userName":"` + strings.Repeat("x", 200) + `"}]}`,
	`{"v":2,"kind":"images","region":"cn-hangzhou","images":["m-A"]}`,
	`{"v":1,"kind":"images","region":"../../etc","images":["m-A"]}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["i-notanimage"]}`,
	`{"v":1,"kind":"region","region":"cn-hangzhou","images":["m-A"]}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":"m-A"}`,
	`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"attempt":-1}`,
	`{"v":"1"}`, `[]`, `null`, ``, `{`,
}

// FuzzDecode: a job body from the queue is either refused with a reason that names
// the problem, or a valid job that survives Encode and Decode unchanged (an empty list may come back absent).
func FuzzDecode(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Add(strings.Repeat(`{"v":1,`, 20000))
	f.Fuzz(func(t *testing.T, body string) {
		j, err := Decode(body)
		if err != nil {
			if msg := err.Error(); len(msg) < 8 || !strings.Contains(msg, "job") {
				t.Fatalf("a refusal must say what is wrong with the job: %q", msg)
			}
			if len(err.Error()) > 4096 {
				t.Fatalf("a refusal must not repeat the body (%d bytes)", len(err.Error()))
			}
			return
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("Decode accepted an invalid job: %v", err)
		}
		again, err := Decode(j.Encode())
		if err != nil {
			t.Fatalf("a decoded job does not decode again: %v", err)
		}
		if again.Encode() != j.Encode() || !reflect.DeepEqual(again.Images, j.Images) && len(j.Images) > 0 {
			t.Fatalf("round trip changed the job:\n%+v\n%+v", j, again)
		}
	})
}
