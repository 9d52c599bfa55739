package catalog

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// The cells of a feature matrix.
const (
	CellYes   = "yes"   // the column's license grants it, directly or through includes
	CellAddon = "addon" // a purchasable add-on grants it on top of the column's plan
	CellNo    = "no"
)

// Matrix is the feature matrix of `seatkeeper catalog show` (SPEC §8).
type Matrix struct {
	Columns []string    `json:"columns"`
	Rows    []MatrixRow `json:"rows"`
}

// MatrixRow is one feature and its cell per column.
type MatrixRow struct {
	Feature string   `json:"feature"`
	Cells   []string `json:"cells"`
}

// Matrix returns the feature matrix: columns are the plans if the catalog
// has any, else its licenses of kind type, in catalog order; rows are the
// features in catalog order.
func (c *Catalog) Matrix() Matrix {
	kind := KindType
	if c.hasPlans {
		kind = KindPlan
	}
	cols := c.licensesOf(kind)
	m := Matrix{Rows: make([]MatrixRow, 0, len(c.Features))}
	for _, l := range cols {
		m.Columns = append(m.Columns, l.Key)
	}
	for _, f := range c.Features {
		row := MatrixRow{Feature: f.Key, Cells: make([]string, len(cols))}
		for i, col := range cols {
			switch {
			case col.FeatureSet.Has(f.Index):
				row.Cells[i] = CellYes
			case kind == KindPlan && c.addonGrants(col, f.Index):
				row.Cells[i] = CellAddon
			default:
				row.Cells[i] = CellNo
			}
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// addonGrants reports whether an add-on on sale, combinable with plan,
// grants feature f.
func (c *Catalog) addonGrants(plan *License, f int) bool {
	for i := range c.Licenses {
		a := &c.Licenses[i]
		if a.Kind != KindAddon || a.Sale != SaleActive || !a.FeatureSet.Has(f) {
			continue
		}
		if a.RequiresSet.Empty() || plan.Closure.Intersects(a.RequiresSet) {
			return true
		}
	}
	return false
}

// WriteCSV writes the matrix with the header `feature,<column>,…`.
func (m Matrix) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"feature"}, m.Columns...))
	for _, r := range m.Rows {
		cw.Write(append([]string{r.Feature}, r.Cells...))
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the matrix as aligned text for a terminal.
func (m Matrix) WriteTable(w io.Writer) error {
	widths := make([]int, len(m.Columns)+1)
	widths[0] = len("feature")
	for _, r := range m.Rows {
		widths[0] = max(widths[0], len(r.Feature))
	}
	for i, c := range m.Columns {
		widths[i+1] = max(len(c), len(CellAddon))
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "%-*s", widths[i], c)
		}
		return strings.TrimRight(b.String(), " ") + "\n"
	}
	out := line(append([]string{"feature"}, m.Columns...))
	for _, r := range m.Rows {
		out += line(append([]string{r.Feature}, r.Cells...))
	}
	_, err := io.WriteString(w, out)
	return err
}
