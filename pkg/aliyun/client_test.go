package aliyun

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"imageshare/pkg/cloud"
)

// TestTransportErrorsCarryNoCredentials: when the endpoint cannot be reached, the error
// the caller logs must not contain the access key ID, the STS token or the signature
// that the SDK puts in the request's query string.
func TestTransportErrorsCarryNoCredentials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there any more
	creds := cloud.Credentials{AccessKeyID: "STS.SECRETKEYID123", AccessKeySecret: "topsecret", SecurityToken: "CAISTOKENVALUE"}
	c, err := New(Config{Region: "cn-hangzhou", Credentials: creds, Endpoints: map[string]string{"ecs": "http://" + addr}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeImages(context.Background(), cloud.DescribeImagesInput{Region: "cn-hangzhou", Page: 1, PageSize: 10})
	if err == nil {
		t.Fatal("want a transport error")
	}
	for _, secret := range []string{"STS.SECRETKEYID123", "CAISTOKENVALUE", "topsecret", "Signature="} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error leaks %q: %v", secret, err)
		}
	}
	if !cloud.Retryable(err) {
		t.Fatal("a transport error is retryable")
	}
	if !strings.Contains(err.Error(), "DescribeImages") {
		t.Fatalf("error must name the call: %v", err)
	}
	var te *transportError
	if !errors.As(err, &te) {
		t.Fatal("want a transportError")
	}
}
