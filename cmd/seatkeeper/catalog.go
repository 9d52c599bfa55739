package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/seatkeeper/seatkeeper/catalog"
)

func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := "catalog check FILE…\n       seatkeeper catalog show NAME|FILE [--format table|csv|json]"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprintf(stderr, "Usage: seatkeeper %s\n", usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "check":
		return runCatalogCheck(args[1:], stdout, stderr)
	case "show":
		return runCatalogShow(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "seatkeeper catalog: unknown subcommand %q\nUsage: seatkeeper %s\n", args[0], usage)
	return 2
}

// runCatalogCheck prints every problem of every file, one per line, and
// exits 1 if there was any.
func runCatalogCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("catalog check", "catalog check FILE…", stderr)
	if code := parseFlags(fs.FlagSet, args); code >= 0 {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	failed := false
	for _, file := range fs.Args() {
		if _, err := loadCatalogFile(file); err != nil {
			failed = true
			fmt.Fprintln(stdout, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	if failed {
		return 1
	}
	return 0
}

// loadCatalogFile reads and loads one catalog file. A file that cannot be
// read is reported in the same file:line:col form as any other problem.
func loadCatalogFile(file string) (*catalog.Catalog, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, catalog.Problems{{File: file, Line: 1, Col: 1, Message: "cannot read the file: " + err.Error()}}
	}
	return catalog.Load(file, data)
}

func runCatalogShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("catalog show", "catalog show NAME|FILE [--format table|csv|json]", stderr)
	format := fs.String("format", "table", "output format: table, csv or json")
	// Accept the flag after the name, as the usage line shows it.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if code := parseFlags(fs.FlagSet, args); code >= 0 {
		return code
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" {
		fs.Usage()
		return 2
	}
	c, ok := catalog.Preset(name)
	if !ok {
		var err error
		if c, err = loadCatalogFile(name); err != nil {
			fmt.Fprintf(stderr, "seatkeeper: %q is neither a preset (%s) nor a valid catalog file:\n%v\n", name, strings.Join(catalog.PresetNames, ", "), err)
			return 1
		}
	}
	m := c.Matrix()
	var err error
	switch *format {
	case "table":
		err = m.WriteTable(stdout)
	case "csv":
		err = m.WriteCSV(stdout)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(m)
	default:
		fmt.Fprintf(stderr, "seatkeeper: unknown format %q: use table, csv or json\n", *format)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "seatkeeper:", err)
		return 1
	}
	return 0
}
