package main

import (
	"strconv"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/identity"
)

// identityFlags are kgsim serve's settings of the identity provider: the
// marketplace's, which a tenant may override through the admin API.
type identityFlags struct {
	echoState                      *bool
	casFormat, invalidClientStatus *string
	lifetimes                      []lifetimeFlag
}

// lifetimeFlag is a lifetime's flag and where its value goes.
type lifetimeFlag struct {
	name  string
	value *string
	set   func(s *identity.Settings, d time.Duration)
}

func newIdentityFlags(f *flags) identityFlags {
	i := identityFlags{
		echoState:           f.fs.Bool("echo-state", false, "append the unified login page's state to the callback"),
		casFormat:           f.string("cas-format", "json|xml", "CAS validation's format when the request names none"),
		invalidClientStatus: f.string("invalid-client-status", "401|403", "status of invalid_client"),
	}
	for _, l := range []struct {
		name string
		set  func(s *identity.Settings, d time.Duration)
	}{
		{"code-lifetime", func(s *identity.Settings, d time.Duration) { s.CodeLifetime = d }},
		{"access-token-lifetime", func(s *identity.Settings, d time.Duration) { s.AccessLifetime = d }},
		{"refresh-token-lifetime", func(s *identity.Settings, d time.Duration) { s.RefreshLifetime = d }},
		{"ticket-lifetime", func(s *identity.Settings, d time.Duration) { s.TicketLifetime = d }},
		{"session-lifetime", func(s *identity.Settings, d time.Duration) { s.SessionLifetime = d }},
	} {
		i.lifetimes = append(i.lifetimes, lifetimeFlag{l.name, f.string(l.name, "DURATION (e.g. 300s, 2h, 30d)", "lifetime"), l.set})
	}
	return i
}

// settings checks the flags given; the others keep the spec's defaults.
func (i identityFlags) settings() (identity.Settings, error) {
	s := identity.DefaultSettings()
	s.EchoState = *i.echoState
	if *i.casFormat != "" {
		f, err := identity.ParseCASFormat(*i.casFormat)
		if err != nil {
			return s, simulator.Errorf(simulator.EINVALID, "--cas-format", "%v", err)
		}
		s.CASFormat = f
	}
	if v := *i.invalidClientStatus; v != "" {
		status, err := strconv.Atoi(v)
		if err == nil {
			err = identity.CheckInvalidClientStatus(status)
		}
		if err != nil {
			return s, simulator.Errorf(simulator.EINVALID, "--invalid-client-status", "%q: want 401 or 403", v)
		}
		s.InvalidClientStatus = status
	}
	for _, l := range i.lifetimes {
		if *l.value == "" {
			continue
		}
		d, err := identity.ParseLifetime(*l.value)
		if err != nil {
			return s, simulator.Errorf(simulator.EINVALID, "--"+l.name, "%v", err)
		}
		l.set(&s, d)
	}
	return s, nil
}
