package memory

import (
	"fmt"
	"slices"
	"testing"
)

// Over runs that each check only some of the watch list,
// every meter is checked in turn: never-checked first, then round from
// where the last run reached; a steady meter writes nothing for it.
func TestRotate(t *testing.T) {
	var targets []Meter
	states := map[Meter]State{}
	for i := range 10 {
		m := Meter{MeterID: int64(i + 1), Version: "1"}
		targets = append(targets, m)
		if i != 4 { // meter 5 has never been checked
			states[m] = State{Meter: m, Rev: 1}
		}
	}
	ids := func(ms []Meter) string {
		var s []int64
		for _, m := range ms {
			s = append(s, m.MeterID)
		}
		return fmt.Sprint(s)
	}
	order, fresh := Rotate(targets, states, nil)
	if ids(order) != "[5 1 2 3 4 6 7 8 9 10]" || fresh != 1 {
		t.Errorf("from the start: %s, %d fresh", ids(order), fresh)
	}
	order, _ = Rotate(targets, states, &Meter{MeterID: 4, Version: "1"})
	if ids(order) != "[5 6 7 8 9 10 1 2 3 4]" {
		t.Errorf("after 4: %s", ids(order))
	}
	// A reached meter that has left the watch list: on from where it was.
	order, _ = Rotate(targets, states, &Meter{MeterID: 7, Version: "0"})
	if ids(order) != "[5 7 8 9 10 1 2 3 4 6]" {
		t.Errorf("after 7 v0, gone: %s", ids(order))
	}

	// Runs of 3 checks over 9 steady meters: three runs check each once.
	delete(states, Meter{MeterID: 10, Version: "1"})
	targets = targets[:9]
	states[Meter{MeterID: 5, Version: "1"}] = State{Rev: 1}
	var reached *Meter
	seen := map[int64]int{}
	for range 3 {
		order, _ := Rotate(targets, states, reached)
		for _, m := range order[:3] {
			seen[m.MeterID]++
		}
		reached = &order[2]
	}
	counts := slices.Collect(func(yield func(int) bool) {
		for _, n := range seen {
			if !yield(n) {
				return
			}
		}
	})
	if len(seen) != 9 || slices.Max(counts) != 1 {
		t.Errorf("three runs of 3 over 9 meters: %v", seen)
	}
}
