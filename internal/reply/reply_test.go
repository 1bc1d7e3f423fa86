package reply

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/example/zuora-runstatus/internal/memory"
)

// A failed check is written as its meter and error; a checked one as its
// result.
func TestItemJSON(t *testing.T) {
	failed := Item{Meter: memory.Meter{MeterID: 9, Version: "1"}, Error: &ErrorBody{Type: "MeterNotFound", Message: "no"}}
	checked := Item{Result: &Result{MeterID: 9, Version: "1", Status: "FAILED"}}
	for _, tt := range []struct {
		item Item
		want string
	}{
		{failed, `{"meterId":9,"version":"1","error":{"type":"MeterNotFound","message":"no"}}`},
		{checked, `"status":"FAILED"`},
	} {
		b, err := json.Marshal(tt.item)
		if err != nil || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s, %v; want %s", b, err, tt.want)
		}
	}
	if s := Summarize([]Item{failed, checked}); s.Total != 2 || s.Errors != 1 || s.ByStatus["FAILED"] != 1 {
		t.Errorf("Summarize = %+v", s)
	}
}

// A scheduled run lists what published first, then errors, then ALERT_ON
// statuses, at most 1,000, and says when it left some out.
func TestNotable(t *testing.T) {
	alertsOn := func(s string) bool { return s == "FAILED" }
	var items []Item
	for i := range 1500 {
		res := &Result{MeterID: int64(i + 1), Version: "1", Status: "COMPLETED"}
		switch i % 3 {
		case 0:
			res.Status = "FAILED"
		case 1:
			res.Alert = &Alert{Published: true, Event: "alert"}
		}
		items = append(items, Item{Result: res})
	}
	items = append(items, Item{Meter: memory.Meter{MeterID: 9999, Version: "1"}, Error: &ErrorBody{Type: "ZuoraUnavailable"}})
	got, truncated := Notable(items, alertsOn)
	if len(got) != 1000 || !truncated {
		t.Fatalf("%d listed, truncated %v; want 1000 and truncated", len(got), truncated)
	}
	if got[0].Result.Alert == nil || got[500].Error == nil || got[501].Result.Status != "FAILED" {
		t.Errorf("the order: %s, %s, %s", describe(got[0]), describe(got[500]), describe(got[501]))
	}
	if got, truncated := Notable(items[:30], alertsOn); len(got) != 20 || truncated {
		t.Errorf("30 items: %d listed, truncated %v; want the 20 notable", len(got), truncated)
	}
	unchecked := Item{Meter: memory.Meter{MeterID: 9998, Version: "1"}} // a check never started
	if got, _ := Notable([]Item{unchecked, items[0]}, alertsOn); len(got) != 1 || got[0].Result != items[0].Result {
		t.Errorf("with an unchecked item: %d listed, want the FAILED one", len(got))
	}
}

func describe(it Item) string {
	b, _ := json.Marshal(it)
	return fmt.Sprintf("%.80s", b)
}
