package seatkeeper_test

import (
	"testing"

	"github.com/seatkeeper/seatkeeper"
)

func TestSafeRelayState(t *testing.T) {
	for s, want := range map[string]bool{
		"/portal": true, "/a/b?c=d#e": true,
		"": false, "portal": false, "//evil.example/": false, "/\\evil.example": false,
		"https://evil.example/": false, "javascript:alert(1)": false, "/a\nb": false,
	} {
		if got := seatkeeper.SafeRelayState(s); got != want {
			t.Errorf("SafeRelayState(%q) = %v, want %v", s, got, want)
		}
	}
}
