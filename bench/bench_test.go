package bench_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/bench"
)

// TestAssignHoldsTheCap runs a small assignment benchmark: exactly the
// seats that exist are assigned, the rest refused.
func TestAssignHoldsTheCap(t *testing.T) {
	var out strings.Builder
	r, err := bench.Assign(context.Background(), bench.AssignConfig{DataDir: t.TempDir(), Clients: 8, Users: 120, Quantity: 100, Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Requests != 120 || !strings.Contains(out.String(), "cap held") {
		t.Errorf("requests %d:\n%s", r.Requests, out.String())
	}
}

// TestCheckMeasuresBoth runs a short check benchmark: both targets answer
// and a ratio comes out.
func TestCheckMeasuresBoth(t *testing.T) {
	var out strings.Builder
	ratio, err := bench.Check(context.Background(), bench.CheckConfig{DataDir: t.TempDir(), Conns: 4, Duration: 200 * time.Millisecond, Out: io.MultiWriter(&out)})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if ratio <= 0 || !strings.Contains(out.String(), `"allowed":true`) {
		t.Errorf("ratio %.2f:\n%s", ratio, out.String())
	}
}

// TestBillingAddsUp runs a small billing benchmark: the month of the pool
// has a peak, and the small accounts' statements hold exactly the lines
// and the money their subscriptions and ledger say.
func TestBillingAddsUp(t *testing.T) {
	var out strings.Builder
	r, err := bench.Billing(context.Background(), bench.BillingConfig{DataDir: t.TempDir(), Users: 300, Events: 6000, Accounts: 3, Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// A year of 12 Essentials and 12 QM recurring lines, and December's
	// three uncommitted QM seats in arrears: 25 lines, 793,500 an account.
	if r.Lines != 3*25 || !strings.Contains(out.String(), " 2380500 in all") || r.Usage <= 0 || r.UsageHeap == 0 {
		t.Errorf("%+v\n%s", r, out.String())
	}
}
