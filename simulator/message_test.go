package simulator_test

import (
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

func TestOrigin(t *testing.T) {
	for url, want := range map[string]string{
		"https://m.example:8443/produce?x=1": "https://m.example:8443",
		"http://m.example?x":                 "http://m.example",
		"http://m.example#f":                 "http://m.example",
		"http://m.example":                   "http://m.example",
		"not a url":                          "not a url",
	} {
		if got := simulator.Origin(url); got != want {
			t.Errorf("Origin(%q) = %q, want %q", url, got, want)
		}
	}
}
