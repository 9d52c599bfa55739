package billing

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/seatkeeper/seatkeeper/metering"
)

// day is a civil date as a day number (days since 1970-01-01, proleptic
// Gregorian). Day arithmetic on civil dates is immune to DST.
type day int64

func civil(y int, m time.Month, d int) day {
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func (d day) date() (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

// midnight is the first instant of d in loc (where clocks skip midnight,
// the moment they change).
func (d day) midnight(loc *time.Location) time.Time {
	y, m, dd := d.date()
	return metering.StartOfDay(y, m, dd, loc)
}

func (d day) String() string {
	y, m, dd := d.date()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
}

func (d day) month() string {
	y, m, _ := d.date()
	return fmt.Sprintf("%04d-%02d", y, int(m))
}

// localDay is the local date of t in loc.
func localDay(t time.Time, loc *time.Location) day {
	return civil(t.In(loc).Date())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// anchor computes the start of the j-th anchored month of a plan.
type anchor struct {
	year  int
	month time.Month
	day   int
}

func (a anchor) at(j int) day {
	total := a.year*12 + int(a.month-1) + j
	y, m := total/12, time.Month(total%12+1)
	d := a.day
	if n := daysIn(y, m); d > n {
		d = n
	}
	return civil(y, m, d)
}

type change struct {
	day      day
	quantity int
}

// term is a plan resolved to civil days: it covers [start, end).
type term struct {
	start, end day
	changes    []change // by day; the last change of a day wins
	initial    int
}

// quantityOn is the quantity in force on day d.
func (t term) quantityOn(d day) int {
	q := t.initial
	for _, c := range t.changes {
		if c.day > d {
			break
		}
		q = c.quantity
	}
	return q
}

type piece struct {
	start, end day
	quantity   int
}

// pieces splits [a, b) into runs of constant quantity.
func (t term) pieces(a, b day) []piece {
	var out []piece
	cut := a
	q := t.quantityOn(a)
	for _, c := range t.changes {
		if c.day <= a || c.day >= b {
			continue
		}
		nq := t.quantityOn(c.day)
		if nq == q {
			continue
		}
		out = append(out, piece{cut, c.day, q})
		cut, q = c.day, nq
	}
	return append(out, piece{cut, b, q})
}

// pricesOn returns the plan's prices in force on a day (see Plan.Prices).
func pricesOn(p Plan, loc *time.Location) func(day) (unit, overage int64) {
	if len(p.Prices) == 0 {
		return func(day) (int64, int64) { return p.UnitPrice, p.OveragePrice }
	}
	ps := append([]PriceChange(nil), p.Prices...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].At.Before(ps[j].At) })
	days := make([]day, len(ps))
	for i, c := range ps {
		days[i] = localDay(c.At, loc)
	}
	return func(d day) (int64, int64) {
		cur := ps[0]
		for i, c := range ps {
			if days[i] <= d {
				cur = c
			}
		}
		return cur.UnitPrice, cur.OveragePrice
	}
}

func planStatements(account string, loc *time.Location, p Plan, usage []Usage, from, to time.Time) []Statement {
	n := MonthsPerPeriod(p.BillingPeriod)
	if n == 0 {
		return nil
	}
	s := p.StartsAt.In(loc)
	y0, m0, d0 := s.Date()
	anc := anchor{y0, m0, d0}

	t := term{start: civil(y0, m0, d0), end: math.MaxInt64}
	if p.EndsAt != nil {
		if !p.EndsAt.After(p.StartsAt) {
			t.end = t.start
		} else {
			t.end = localDay(*p.EndsAt, loc)
			if !p.EndsAt.Equal(t.end.midnight(loc)) {
				t.end++
			}
		}
	}
	qs := append([]QuantityChange(nil), p.Quantity...)
	sort.SliceStable(qs, func(i, j int) bool { return qs[i].At.Before(qs[j].At) })
	if len(qs) > 0 {
		t.initial = qs[0].Quantity
	}
	for _, c := range qs {
		t.changes = append(t.changes, change{localDay(c.At, loc), c.Quantity})
	}
	prices := pricesOn(p, loc)

	// Usage of this license that overlaps the term, by month.
	type monthUsage struct {
		Usage
		start, end day
	}
	var us []monthUsage
	var lastUsageEnd day = math.MinInt64
	for _, u := range usage {
		if u.License != p.License {
			continue
		}
		m, err := time.Parse("2006-01", u.Month)
		if err != nil {
			continue
		}
		ms := civil(m.Year(), m.Month(), 1)
		me := civil(m.Year(), m.Month()+1, 1)
		if me <= t.start || ms >= t.end {
			continue
		}
		us = append(us, monthUsage{u, ms, me})
		if me > lastUsageEnd {
			lastUsageEnd = me
		}
	}
	sort.SliceStable(us, func(i, j int) bool { return us[i].start < us[j].start })

	seats := "seats"
	if p.Enforcement == "commit" {
		seats = "committed seats"
	}

	var out []Statement
	prev := day(math.MinInt64)
	for k := 0; ; k++ {
		ps, pe := anc.at(k*n), anc.at((k+1)*n)
		psTime := ps.midnight(loc)
		if !psTime.Before(to) {
			break
		}
		inTerm := ps < t.end
		if !inTerm && prev >= lastUsageEnd {
			break
		}
		lines := []Line{}
		// Recurring charges, in advance, one service month at a time.
		for j := k * n; j < (k+1)*n; j++ {
			ms, me := anc.at(j), anc.at(j+1)
			a, b := max(ms, t.start), min(me, t.end)
			if a >= b {
				continue
			}
			monthDays := int(me - ms)
			pcs := t.pieces(a, b)
			whole := len(pcs) == 1 && a == ms && b == me
			for _, pc := range pcs {
				if pc.quantity == 0 {
					continue
				}
				days := int(pc.end - pc.start)
				unit, _ := prices(a) // the service month's price, whatever day a piece begins
				l := Line{
					License:      p.License,
					ServiceMonth: ms.month(),
					Quantity:     pc.quantity,
					UnitPrice:    unit,
					Amount:       Prorate(pc.quantity, unit, days, monthDays),
					Kind:         KindRecurring,
				}
				if whole {
					l.Description = fmt.Sprintf("%s: %d %s, %s to %s", p.License, pc.quantity, seats, pc.start, pc.end-1)
				} else {
					l.Kind = KindProration
					l.Description = fmt.Sprintf("%s: %d %s, %s to %s (%d/%d days)", p.License, pc.quantity, seats, pc.start, pc.end-1, days, monthDays)
				}
				lines = append(lines, l)
			}
		}
		// Usage, in arrears: months that ended in (previous start, this start].
		for _, u := range us {
			if u.end <= prev || u.end > ps {
				continue
			}
			_, over := prices(u.start)
			for _, x := range []struct {
				kind  string
				seats int
			}{{KindOverage, u.Overage}, {KindUncommitted, u.Uncommitted}} {
				if x.seats > 0 {
					lines = append(lines, Line{
						License:      p.License,
						Description:  fmt.Sprintf("%s: %d %s seats, %s (in arrears)", p.License, x.seats, x.kind, u.start.month()),
						ServiceMonth: u.start.month(),
						Quantity:     x.seats,
						UnitPrice:    over,
						Amount:       int64(x.seats) * over,
						Kind:         x.kind,
					})
				}
			}
		}
		prev = ps
		if psTime.Before(from) || (!inTerm && len(lines) == 0) {
			continue
		}
		var total int64
		for _, l := range lines {
			total += l.Amount
		}
		out = append(out, Statement{
			ID:          StatementID(account, p.License, psTime),
			Account:     account,
			Currency:    p.Currency,
			PeriodStart: psTime,
			PeriodEnd:   pe.midnight(loc),
			Lines:       lines,
			Total:       total,
		})
	}
	return out
}
