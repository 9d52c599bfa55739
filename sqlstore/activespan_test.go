package sqlstore

import (
	"math/rand/v2"
	"testing"
)

// TestR3_ActiveSpanModel (R3) checks activeSpan against a step-by-step
// model on random toggles: a presence counts from its start, or the first
// activation after it if the user was inactive then, until the first
// deactivation after that; toggles at one instant apply in their order.
func TestR3_ActiveSpanModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 20000 {
		var ts []toggle
		at := int64(0)
		for i := range r.IntN(6) {
			at += int64(r.IntN(4)) // repeats: several toggles at one instant
			ts = append(ts, toggle{id: int64(i), at: at, active: r.IntN(2) == 0})
		}
		start := int64(r.IntN(16))
		end := start + int64(r.IntN(12))

		// The model: walk the instants, applying each one's toggles in order.
		active, begun, ended := true, false, false
		counted := map[int64]bool{}
		k := 0
		for x := int64(0); x < end; x++ {
			for ; k < len(ts) && ts[k].at == x; k++ {
				active = ts[k].active
				switch {
				case x > start && begun && !active:
					ended = true
				case x > start && !begun && active:
					begun = true
				}
			}
			if x == start && active {
				begun = true
			}
			if x >= start && begun && !ended {
				counted[x] = true
			}
		}

		from, to, ok := activeSpan(ts, start, end)
		for x := start; x < end; x++ {
			if got := ok && from <= x && x < to; got != counted[x] {
				t.Fatalf("case %d: toggles %+v, presence [%d, %d): at %d activeSpan says %v (%d, %d, %v), the model %v",
					n, ts, start, end, x, got, from, to, ok, counted[x])
			}
		}
		if ok && (from < start || to > end || from >= to) {
			t.Fatalf("case %d: activeSpan gave [%d, %d) outside [%d, %d)", n, from, to, start, end)
		}
	}
}
