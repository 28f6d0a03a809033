package eventbridge

import (
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

const tagCall = `{"specversion":"1.0","id":"e-1","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall",
 "subject":"acs.ecs:cn-hangzhou:1000000000000001:image/m-1","aliyunaccountid":"1000000000000001",
 "data":{"eventName":"TagResources","eventVersion":1,"acsRegion":"cn-hangzhou","errorCode":null,"isGlobal":false,
  "sourceIpAddress":"10.0.0.17","requestParameters":{"ResourceId":["m-1","m-2"],"ResourceType":"image","Count":3},
  "userIdentity":{"type":"assumed-role","accountId":"1000000000000001","userName":"imageshare-fc"},
  "referencedResources":[{"kind":"image","id":"m-1"},{"kind":"snapshot","id":"s-1"}]}}`

const consoleTag = `{"specversion":"1.0","id":"e-2","source":"acs.ecs","type":"ecs:ActionTrail:ConsoleOperation",
 "data":{"eventName":"TagResources","eventVersion":1}}`

const orgCall = `{"specversion":"1.0","id":"e-3","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall",
 "data":{"eventName":"MoveAccount"}}`

// matchCases are the documented semantics on examples; the reference matcher
// (reference_test.go) is checked against them too.
var matchCases = []struct {
	name    string
	pattern string
	event   string
	want    bool
}{
	{"suffix on type", `{"source":["acs.ecs"],"type":[{"suffix":":ActionTrail:ApiCall"}]}`, tagCall, true},
	{"suffix does not match a console operation", `{"source":["acs.ecs"],"type":[{"suffix":":ActionTrail:ApiCall"}]}`, consoleTag, false},
	{"exact type list excludes console operation", `{"type":["ecs:ActionTrail:ApiCall"]}`, consoleTag, false},
	{"both types listed", `{"type":["ecs:ActionTrail:ApiCall","ecs:ActionTrail:ConsoleOperation"]}`, consoleTag, true},
	{"source differs", `{"source":["acs.ecs"]}`, orgCall, false},
	{"nested eventName in list", `{"source":["acs.ecs"],"data":{"eventName":["CreateImage","TagResources","DeleteImage"]}}`, tagCall, true},
	{"nested eventName not in list", `{"data":{"eventName":["CreateImage","DeleteImage"]}}`, tagCall, false},
	{"nested object missing", `{"data":{"eventName":["MoveAccount"]},"extra":{"x":["y"]}}`, orgCall, false},
	{"deep nesting", `{"data":{"userIdentity":{"type":["assumed-role"],"userName":[{"prefix":"imageshare"}]}}}`, tagCall, true},
	{"case-sensitive", `{"data":{"eventName":["tagresources"]}}`, tagCall, false},
	{"prefix", `{"source":[{"prefix":"acs."}]}`, orgCall, true},
	{"prefix mismatch", `{"type":[{"prefix":"ecs:"}]}`, orgCall, false},
	{"contains", `{"type":[{"contains":"ActionTrail"}]}`, orgCall, true},
	{"anything-but string", `{"data":{"eventName":[{"anything-but":"DeleteImage"}]}}`, tagCall, true},
	{"anything-but string excluded", `{"data":{"eventName":[{"anything-but":"TagResources"}]}}`, tagCall, false},
	{"anything-but list", `{"data":{"eventName":[{"anything-but":["MoveAccount","DeleteAccount"]}]}}`, orgCall, false},
	{"anything-but list allows", `{"data":{"eventName":[{"anything-but":["CreateImage","DeleteImage"]}]}}`, tagCall, true},
	{"anything-but number", `{"data":{"eventVersion":[{"anything-but":2}]}}`, tagCall, true},
	{"anything-but number excluded", `{"data":{"eventVersion":[{"anything-but":1}]}}`, tagCall, false},
	{"anything-but prefix", `{"type":[{"anything-but":{"prefix":"ecs:"}}]}`, orgCall, true},
	{"anything-but prefix excluded", `{"type":[{"anything-but":{"prefix":"ecs:"}}]}`, tagCall, false},
	{"anything-but suffix excluded", `{"type":[{"anything-but":{"suffix":":ConsoleOperation"}}]}`, consoleTag, false},
	{"anything-but needs the field", `{"data":{"missing":[{"anything-but":"x"}]}}`, tagCall, false},
	{"exists true", `{"data":{"acsRegion":[{"exists":true}]}}`, tagCall, true},
	{"exists true on null", `{"data":{"errorCode":[{"exists":true}]}}`, tagCall, true},
	{"exists false present", `{"data":{"acsRegion":[{"exists":false}]}}`, tagCall, false},
	{"exists false absent", `{"data":{"errorMessage":[{"exists":false}]}}`, tagCall, true},
	{"exists false in missing object", `{"data":{"eventName":["MoveAccount"],"errorCode":[{"exists":false}]}}`, orgCall, true},
	{"null value", `{"data":{"errorCode":[null]}}`, tagCall, true},
	{"null does not match empty string", `{"data":{"errorCode":[""]}}`, tagCall, false},
	{"boolean", `{"data":{"isGlobal":[false]}}`, tagCall, true},
	{"boolean is not the string", `{"data":{"isGlobal":["false"]}}`, tagCall, false},
	{"number exact", `{"data":{"eventVersion":[1]}}`, tagCall, true},
	{"number compared as text", `{"data":{"eventVersion":[1.0]}}`, tagCall, false},
	{"number is not the string", `{"data":{"eventVersion":["1"]}}`, tagCall, false},
	{"numeric range", `{"data":{"requestParameters":{"Count":[{"numeric":[">",0,"<=",5]}]}}}`, tagCall, true},
	{"numeric out of range", `{"data":{"requestParameters":{"Count":[{"numeric":[">",3]}]}}}`, tagCall, false},
	{"numeric equal", `{"data":{"eventVersion":[{"numeric":["=",1.0]}]}}`, tagCall, true},
	{"numeric on a string", `{"data":{"eventName":[{"numeric":[">",0]}]}}`, tagCall, false},
	{"cidr", `{"data":{"sourceIpAddress":[{"cidr":"10.0.0.0/24"}]}}`, tagCall, true},
	{"cidr outside", `{"data":{"sourceIpAddress":[{"cidr":"10.0.1.0/24"}]}}`, tagCall, false},
	{"array field any element", `{"data":{"requestParameters":{"ResourceId":["m-2"]}}}`, tagCall, true},
	{"array field no element", `{"data":{"requestParameters":{"ResourceId":["m-3"]}}}`, tagCall, false},
	{"array field prefix", `{"data":{"requestParameters":{"ResourceId":[{"prefix":"m-"}]}}}`, tagCall, true},
	{"array of objects", `{"data":{"referencedResources":{"kind":["snapshot"],"id":["s-1"]}}}`, tagCall, true},
	{"array of objects, no single element matches", `{"data":{"referencedResources":{"kind":["snapshot"],"id":["m-1"]}}}`, tagCall, false},
	{"value condition on an object", `{"data":["x"]}`, tagCall, false},
	{"or within a field", `{"data":{"eventName":["Nope",{"prefix":"Tag"}]}}`, tagCall, true},
	{"and across fields", `{"source":["acs.ecs"],"data":{"eventName":["MoveAccount"]}}`, tagCall, false},
	{"empty pattern matches all", `{}`, orgCall, true},
	{"not JSON", `{"source":["acs.ecs"]}`, `{"source":`, false},
	{"event not an object", `{"source":["acs.ecs"]}`, `["acs.ecs"]`, false},
}

func TestMatch(t *testing.T) {
	for _, c := range matchCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile([]byte(c.pattern))
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if got := p.Match([]byte(c.event)); got != c.want {
				t.Errorf("Match = %v, want %v", got, c.want)
			}
		})
	}
}

// compileErrorCases are patterns Compile rejects, with a part of the error.
var compileErrorCases = []struct{ pattern, want string }{
	{`not json`, "not JSON"},
	{`["acs.ecs"]`, "must be a JSON object"},
	{`{"source":"acs.ecs"}`, `source: value must be an array`},
	{`{"source":[]}`, "source: empty array"},
	{`{"data":{}}`, "data: empty object"},
	{`{"data":{"eventName":[["a"]]}}`, "data.eventName[0]: a condition is a value or an operator object"},
	{`{"type":[{"prefix":"a","suffix":"b"}]}`, "exactly one key"},
	{`{"type":[{"prefix":1}]}`, "type[0].prefix: want a string"},
	{`{"type":[{"equals-ignore-case":"x"}]}`, `unsupported operator "equals-ignore-case"`},
	{`{"type":[{"wildcard":"*"}]}`, `unsupported operator "wildcard"`},
	{`{"type":[{"anything-but":{"contains":"x"}}]}`, "inside anything-but"},
	{`{"type":[{"anything-but":[]}]}`, "empty list"},
	{`{"type":[{"anything-but":true}]}`, "anything-but"},
	{`{"n":[{"numeric":[">"]}]}`, "want [op, number]"},
	{`{"n":[{"numeric":["~",1]}]}`, "operator must be one of"},
	{`{"n":[{"numeric":[">","1"]}]}`, "want a number"},
	{`{"ip":[{"cidr":"fe80::/10"}]}`, "not an IPv4 CIDR"},
	{`{"ip":[{"cidr":"10.0.0.0"}]}`, "not an IPv4 CIDR"},
	{`{"x":[{"exists":"yes"}]}`, "want true or false"},
	{`{"a":["b"]} {}`, "trailing data"},
}

func TestCompileErrors(t *testing.T) {
	for _, c := range compileErrorCases {
		_, err := Compile([]byte(c.pattern))
		if err == nil {
			t.Errorf("%s: compiled", c.pattern)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.pattern, err, c.want)
		}
	}
}

// The filters in the project's s.yaml compile, and route as docs/architecture.md says.
func TestProjectFilters(t *testing.T) {
	data, err := os.ReadFile("../../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var imagePattern string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "eventRuleFilterPattern:") && strings.Contains(line, "acs.ecs") {
			imagePattern = strings.Trim(strings.TrimSpace(strings.TrimPrefix(line, "eventRuleFilterPattern:")), "'")
		}
	}
	if imagePattern == "" {
		t.Fatal("s.yaml has no acs.ecs filter")
	}
	p, err := Compile([]byte(imagePattern))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Match([]byte(tagCall)) || !p.Match([]byte(consoleTag)) {
		t.Error("image-events filter misses TagResources (API call or console operation)")
	}
	if p.Match([]byte(orgCall)) {
		t.Error("image-events filter takes a Resource Directory event")
	}
	if p.Match([]byte(strings.Replace(tagCall, "TagResources", "DescribeImages", 1))) {
		t.Error("image-events filter takes DescribeImages")
	}
}

func FuzzMatch(f *testing.F) {
	f.Add(`{"source":["acs.ecs"],"type":[{"suffix":":ActionTrail:ApiCall"}]}`, tagCall)
	f.Add(`{"data":{"eventName":[{"anything-but":["a",1]}],"x":[{"exists":false}]}}`, consoleTag)
	f.Add(`{"data":{"requestParameters":{"Count":[{"numeric":[">",0,"<=",5]}]},"sourceIpAddress":[{"cidr":"10.0.0.0/8"}]}}`, tagCall)
	f.Add(`{"a":[null,true,1e400,""]}`, `{"a":[[1],{"b":2},1e400]}`)
	// Property: Compile accepts only patterns the reference matcher (reference_test.go)
	// finds valid, and Match answers as the reference does — on the fuzzed pair, and on
	// a pattern and an event generated from a seed the pair gives.
	f.Fuzz(func(t *testing.T, pattern, event string) {
		if why := agree(pattern, event); why != "" {
			t.Fatalf("%s\npattern %s\nevent   %s", why, pattern, event)
		}
		h := fnv.New64a()
		h.Write([]byte(pattern + "\x00" + event))
		g := gen{rand.New(rand.NewPCG(h.Sum64(), 0))}
		gp, ge := g.pattern(0), g.event(0)
		if why := agree(gp, ge); why != "" {
			t.Fatalf("%s\ngenerated pattern %s\ngenerated event   %s", why, gp, ge)
		}
	})
}
