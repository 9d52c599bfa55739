package billing_test

import (
	"fmt"
	"time"

	"github.com/seatkeeper/seatkeeper/billing"
)

// A commitment of 100 seats started on Jan 31, raised to 120 on Mar 15, with
// 50 uncommitted seats used in February (R14).
func ExampleStatements() {
	start := time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)
	plan := billing.Plan{
		License: "wfo_access", Currency: "USD", BillingPeriod: "monthly", Enforcement: "commit",
		UnitPrice: 3000, OveragePrice: 4500, StartsAt: start,
		Quantity: []billing.QuantityChange{{At: start, Quantity: 100}, {At: time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC), Quantity: 120}},
	}
	usage := []billing.Usage{{Month: "2025-02", License: "wfo_access", Uncommitted: 50}}
	for _, st := range billing.Statements("acme", time.UTC, []billing.Plan{plan}, usage, start, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
		fmt.Println(st.ID, st.PeriodStart.Format("2006-01-02"), st.PeriodEnd.Format("2006-01-02"), st.Total)
		for _, l := range st.Lines {
			fmt.Printf("  %-11s %s %d × %d = %d  %s\n", l.Kind, l.ServiceMonth, l.Quantity, l.UnitPrice, l.Amount, l.Description)
		}
	}
	// Output:
	// st_16dad2118d4bdef8 2025-01-31 2025-02-28 300000
	//   recurring   2025-01 100 × 3000 = 300000  wfo_access: 100 committed seats, 2025-01-31 to 2025-02-27
	// st_59c1851fc7d3021b 2025-02-28 2025-03-31 330967
	//   proration   2025-02 100 × 3000 = 145161  wfo_access: 100 committed seats, 2025-02-28 to 2025-03-14 (15/31 days)
	//   proration   2025-02 120 × 3000 = 185806  wfo_access: 120 committed seats, 2025-03-15 to 2025-03-30 (16/31 days)
	// st_3e2cb46fe129df1e 2025-03-31 2025-04-30 585000
	//   recurring   2025-03 120 × 3000 = 360000  wfo_access: 120 committed seats, 2025-03-31 to 2025-04-29
	//   uncommitted 2025-02 50 × 4500 = 225000  wfo_access: 50 uncommitted seats, 2025-02 (in arrears)
}
