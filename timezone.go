package seatkeeper

import (
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // every IANA zone, on hosts without a zone database too
)

// zoneName is the shape of an IANA zone name: Europe/Berlin, Etc/GMT-14,
// UTC; not ./UTC, America//New_York or ../x, which a host's zone files may
// also answer.
var zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$`)

// ValidTimeZone says whether an account may have the zone name: an IANA
// zone that loads, named as the zone database built into the binary names
// it, so that it loads on every host that runs Seatkeeper. Not Local (the
// host's own), nor the host's right/ and posix/ variants, posixrules or
// Factory.
func ValidTimeZone(name string) bool {
	switch {
	case len(name) > 64 || !zoneName.MatchString(name),
		name == "Local" || name == "localtime" || name == "posixrules" || name == "Factory",
		strings.HasPrefix(name, "right/") || strings.HasPrefix(name, "posix/"):
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// Location is an account's time zone. A name that no longer loads (an
// account stored before ValidTimeZone, or a zone a newer database
// dropped) is read as UTC: never a nil location, whose use panics.
func Location(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}
