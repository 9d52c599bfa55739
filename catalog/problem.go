package catalog

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a catalog file, with its position.
type Problem struct {
	File    string
	Line    int // 1-based
	Col     int // 1-based
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

// Problems is every problem Load found in a file, in position order. It is
// the error Load returns for an invalid catalog.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
