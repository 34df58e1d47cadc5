package main

import "testing"

// BenchmarkMicro runs the micro benchmarks of make bench one by one, for
// go test -bench . -benchmem ./bench (and benchstat). make bench runs the
// same functions in interleaved pairs and reports their ratios.
func BenchmarkMicro(b *testing.B) {
	f, err := newFixture("..")
	if err != nil {
		b.Fatal(err)
	}
	bms, err := f.benchmarks()
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range bms {
		b.Run(bm.name, bm.fn)
	}
}
