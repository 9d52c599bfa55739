package catalog

import "math/bits"

// Bits is a fixed-size set of small integers: the indexes of features,
// licenses or permissions in one compiled catalog. Decisions test membership
// with a shift and a mask instead of hashing keys, which is what keeps a
// feature check off the allocator.
type Bits []uint64

// NewBits returns an empty set able to hold the integers 0..n-1.
func NewBits(n int) Bits { return make(Bits, (n+63)/64) }

// Has reports whether i is in the set.
func (b Bits) Has(i int) bool {
	w := i >> 6
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

// Set adds i to the set.
func (b Bits) Set(i int) { b[i>>6] |= 1 << (uint(i) & 63) }

// Clear removes i from the set.
func (b Bits) Clear(i int) { b[i>>6] &^= 1 << (uint(i) & 63) }

// Or adds every member of o to b. Both must have the same size.
func (b Bits) Or(o Bits) {
	for i := range b {
		b[i] |= o[i]
	}
}

// AndNot removes every member of o from b.
func (b Bits) AndNot(o Bits) {
	for i := range b {
		b[i] &^= o[i]
	}
}

// Intersects reports whether b and o share a member.
func (b Bits) Intersects(o Bits) bool {
	for i := range b {
		if b[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

// Empty reports whether the set has no member.
func (b Bits) Empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// Len returns the number of members.
func (b Bits) Len() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// Clone returns an independent copy.
func (b Bits) Clone() Bits { return append(Bits(nil), b...) }

// Each calls fn for every member in increasing order.
func (b Bits) Each(fn func(i int)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(wi*64 + t)
			w &= w - 1
		}
	}
}
