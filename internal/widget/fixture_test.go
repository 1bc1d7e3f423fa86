package widget

import (
	"fmt"
	"strings"
	"time"
)

// The fixture's clock: 13:05 UTC, 14:05 on a dashboard at +01:00.
var (
	now   = time.Date(2026, 12, 7, 13, 5, 0, 0, time.UTC)
	plus1 = time.FixedZone("UTC+01:00", 3600)
)

const (
	arn = "arn:aws:lambda:eu-central-1:123456789012:function:zuora-runstatus"
	// hostileReason would be an image whose error handler runs script, were
	// it markup; it must show as the text it is.
	hostileReason = `<img src=x onerror="document.title='pwned';alert(1)">`
	// hostileVersion would end an attribute, a cwdb-action and its JSON.
	hostileVersion = `0.0.1"}</cwdb-action><img src=x onerror=alert(2)>'&amp;`
)

// fixtureRows is one meter version of each kind, out of order. Their
// order in the table, and the counts, are in fixtureOrder and
// fixtureCounts.
func fixtureRows() []Row {
	checked := func(r Row, status string, changed time.Duration) Row {
		r.Status, r.Checked = status, true
		r.ChangedAt, r.CheckedAt = now.Add(-changed), now.Add(-5*time.Minute)
		return r
	}
	return []Row{
		checked(Row{MeterID: 101, Version: "0.0.1"}, "COMPLETED", 3*time.Hour),
		checked(Row{MeterID: 102, Version: "0.0.1", AlertStatus: "FAILED", AlertOpenSince: now.Add(-2 * time.Hour),
			Link: "https://zuora.example.com/meters/102"}, "FAILED", 2*time.Hour),
		checked(Row{MeterID: 103, Version: "0.0.1", StuckSince: now.Add(-6 * time.Hour)}, "RUNNING", 6*time.Hour),
		{MeterID: 104, Version: "0.0.2", LateDue: now.Add(-3 * time.Hour), NextDueAt: now.Add(21 * time.Hour)},
		checked(Row{MeterID: 105, Version: hostileVersion, AlertStatus: "FAILED", AlertOpenSince: now.Add(-time.Hour),
			MutedUntil: now.Add(2 * time.Hour), MuteReason: hostileReason, Link: "javascript:alert(3)"}, "FAILED", time.Hour),
		checked(Row{MeterID: 106, Version: "0.0.1", OwedPages: 2}, "COMPLETED", 30*time.Minute),
		checked(Row{MeterID: 100, Version: "0.0.9", NextDueAt: now.Add(13 * time.Hour), Link: "http://plain.example.com/100"},
			"COMPLETED", 26*time.Hour),
		checked(Row{MeterID: 101, Version: "0.0.0"}, "CANCELED", 50*time.Hour),
		checked(Row{MeterID: 107, Version: "1.0", MutedUntil: now.Add(-time.Minute), MuteReason: "over"}, "COMPLETED", 4*time.Hour),
	}
}

// fixtureOrder is the first cell of each row as a person reads it: owed
// pages, an open alert, stuck, late, muted, then the rest by meterId and
// version.
var fixtureOrder = []string{
	"106 v0.0.1", "102 v0.0.1", "103 v0.0.1", "104 v0.0.2", "105 v" + hostileVersion,
	"100 v0.0.9", "101 v0.0.0", "101 v0.0.1", "107 v1.0",
}

// fixtureCounts is the heading as a person reads it.
const fixtureCounts = "9 watched 2 in an alert status 1 stuck 1 late 1 muted 2 pages owed"

func fixturePage(theme string) Page {
	return Page{Rows: fixtureRows(), LastScheduledRun: now.Add(-5 * time.Minute), Theme: theme, Zone: plus1,
		Actions: true, FunctionARN: arn, Now: now}
}

// typicalRows is n meter versions as a watch list has them: short versions,
// an ALERT_LINK, one in ten with an open alert, one in fifty muted.
func typicalRows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		r := Row{MeterID: int64(100 + i/3), Version: fmt.Sprintf("0.0.%d", i%3), Status: "COMPLETED", Checked: true,
			ChangedAt: now.Add(-time.Duration(i) * time.Minute), CheckedAt: now.Add(-time.Minute),
			NextDueAt: now.Add(time.Duration(i%24) * time.Hour), Link: fmt.Sprintf("https://zuora.example.com/meters/%d", 100+i/3)}
		if i%10 == 0 {
			r.Status, r.AlertStatus, r.AlertOpenSince = "FAILED", "FAILED", now.Add(-time.Hour)
		}
		if i%50 == 0 {
			r.MutedUntil, r.MuteReason = now.Add(3*time.Hour), "billing maintenance, ticket OPS-1234"
		}
		rows[i] = r
	}
	return rows
}

// manyRows is n meter versions with values as long as the contract lets
// them be, every one a problem, so that each row is as large as a row gets.
func manyRows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{MeterID: int64(1_000_000 + i), Version: fmt.Sprintf("v%063d", i), Status: "PENDING_PROCESSING",
			Checked: true, ChangedAt: now.Add(-time.Hour), CheckedAt: now.Add(-time.Minute),
			AlertStatus: "PENDING_PROCESSING", AlertOpenSince: now.Add(-time.Hour), OwedPages: 3,
			StuckSince: now.Add(-9 * time.Hour), LateDue: now.Add(-2 * time.Hour), NextDueAt: now.Add(time.Hour),
			MutedUntil: now.Add(time.Hour), MuteReason: strings.Repeat("maintenance window ", 11)[:200],
			Link: "https://zuora.example.com/" + strings.Repeat("m", 1000) + fmt.Sprint(i)}
	}
	return rows
}
