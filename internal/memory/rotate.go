package memory

import (
	"slices"
	"time"
)

// Schedule is what the scheduled runs remember of themselves: when the
// last one ran, and how far its rotation of the watch list reached.
type Schedule struct {
	LastRun time.Time // zero: never
	Reached *Meter    // the last meter version whose check the last run started in rotation; nil: none
}

// Rotate orders the meter versions a scheduled run checks: those never
// checked first, in meter order; then the rest in meter order from just
// after reached, round to it. A run that cannot check them all stops where
// its time runs out, and the next one goes on from there: a meter version a
// run checked goes behind every one it did not reach, whether or not its
// check changed anything, and no check writes for it. targets is sorted by
// Compare, without repeats.
func Rotate(targets []Meter, states map[Meter]State, reached *Meter) (order []Meter, fresh int) {
	var checked []Meter
	for _, m := range targets {
		if states[m].Rev == 0 {
			order = append(order, m)
		} else {
			checked = append(checked, m)
		}
	}
	fresh = len(order)
	i := 0
	if reached != nil {
		i, _ = slices.BinarySearchFunc(checked, *reached, func(m, r Meter) int {
			if Compare(m, r) <= 0 {
				return -1
			}
			return 1
		})
	}
	order = append(order, checked[i:]...)
	return append(order, checked[:i]...), fresh
}
