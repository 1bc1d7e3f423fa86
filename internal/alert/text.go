package alert

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/example/zuora-runstatus/internal/memory"
)

// Bounds of what people read: an e-mail stays small enough to read in ten
// seconds, and an SMS is one message.
const (
	maxEmail   = 8 << 10
	maxSMS     = 140
	maxMessage = 200 // of a sample error's message, in the e-mail
	maxField   = 64  // of an id or a code, in the e-mail
)

// subject is "Zuora meter 123 version 0.0.1: " and what happened, with the
// version shortened when a long one would pass SNS's 100-character limit.
func subject(r report, msg page) string {
	return Subject(r.MeterID, r.Version, what(r, msg, false))
}

// what says what happened: "FAILED", "still FAILED", "resolved
// (COMPLETED)", "RUNNING for 6h10m (usually 40m)", "LATE, no run since due
// 2026-12-07 02:00 CET" (short, for an SMS: "LATE: no run since due 02:00
// CET").
func what(r report, msg page, short bool) string {
	tail := r.Status
	switch {
	case msg.Late != nil:
		tail = lateTail(*msg.Late, msg.due, short)
	case msg.Stuck != nil:
		tail += " for " + Duration(msg.Stuck.For)
		if msg.Stuck.Usual > 0 {
			tail += " (usually " + Duration(msg.Stuck.Usual) + ")"
		}
	}
	switch msg.Event {
	case memory.EventReminder:
		return "still " + tail
	case memory.EventResolved:
		return "resolved (" + r.Status + ")"
	}
	return tail
}

// Subject is "Zuora meter 123 version 0.0.1: " and tail, at most 100
// characters.
func Subject(meterID int64, version, tail string) string {
	s := fmt.Sprintf("Zuora meter %d version %s: %s", meterID, version, tail)
	if len(s) <= maxSubject {
		return s
	}
	over := min(len(s)-maxSubject+len("..."), len(version))
	return fmt.Sprintf("Zuora meter %d version %s...: %s", meterID, version[:len(version)-over], tail)
}

// Duration writes d as people read it: 6h10m, 40m, 7s.
func Duration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	s := d.Round(time.Minute).String() // "6h10m0s"
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// afterMuteLine says why a page comes now rather than when its condition
// began: a mute held it back.
const afterMuteLine = "After a mute: this began while the meter version was muted; the mute has ended, and it is still open.\n"

// email is the plain text an e-mail subscriber gets: what happened, since
// when, how bad, why (Zuora's details), what to quote to Zuora, and what to
// do next.
func email(r report, msg page, link string) string {
	var b strings.Builder
	b.WriteString(subject(r, msg) + "\n\n")
	if msg.AfterMute {
		b.WriteString(afterMuteLine)
	}
	switch {
	case msg.Event == memory.EventResolved && msg.Resolves != nil && msg.Resolves.Late:
		writeLateResolved(&b, r, *msg.Resolves)
	case msg.Event == memory.EventResolved:
		writeResolved(&b, r, msg.Resolves)
	case msg.Late != nil:
		writeLate(&b, r, msg)
	case msg.Stuck != nil:
		writeStuck(&b, r, *msg.Stuck, msg.Event == memory.EventReminder)
	case msg.Event == memory.EventReminder:
		fmt.Fprintf(&b, "Meter %d, version %s, is still %s (checked %s).\n", r.MeterID, r.Version, r.Status, when(r.CheckedAt))
		writeRun(&b, r)
		b.WriteString("\nNext: the alert stays open until a run of this meter version ends in another status.\n")
	default:
		fmt.Fprintf(&b, "Meter %d, version %s: the run is %s (seen %s by %s).\n", r.MeterID, r.Version, r.Status, when(r.CheckedAt), seenBy(r))
		writeRun(&b, r)
		writeDetails(&b, r)
		run := "the meter's latest run"
		if r.SessionID != "" {
			run = "session " + clip(r.SessionID, maxField)
		}
		fmt.Fprintf(&b, "\nNext: open %s in Zuora (Mediation > Audit Trail > Runs), fix the records in error\n"+
			"(the top error code first), then run the meter again. A resolution follows when a run of this\n"+
			"meter version completes.\n", run)
	}
	writeQuote(&b, r)
	if link != "" {
		b.WriteString("Meter page: " + link + "\n")
	}
	return clip(b.String(), maxEmail)
}

func seenBy(r report) string {
	if r.Source == "callout" {
		return "Zuora's notification"
	}
	return "a check"
}

func writeRun(b *strings.Builder, r report) {
	if r.SessionID == "" {
		return
	}
	fmt.Fprintf(b, "Session: %s", clip(r.SessionID, maxField))
	if r.RunType != "" {
		fmt.Fprintf(b, ", run type %s", clip(r.RunType, maxField))
	}
	if r.PreviousStatus != "" {
		fmt.Fprintf(b, ", %s before", clip(r.PreviousStatus, maxField))
	}
	b.WriteString(".\n")
}

// writeStuck is a run that has gone on far longer than its meter's runs
// usually take.
func writeStuck(b *strings.Builder, r report, s memory.Stuck, reminder bool) {
	still := ""
	if reminder {
		still = "still "
	}
	fmt.Fprintf(b, "Meter %d, version %s: the run is %s%s, and has been going on for %s, since %s (seen %s by %s).\n",
		r.MeterID, r.Version, still, r.Status, Duration(s.For), when(s.Since), when(r.CheckedAt), seenBy(r))
	if s.Usual > 0 {
		fmt.Fprintf(b, "Its runs usually take %s (the median of the last ones); past %s a run counts as stuck.\n", Duration(s.Usual), Duration(s.Threshold))
	} else {
		fmt.Fprintf(b, "No run of it has completed here yet to compare with; past %s (STUCK_AFTER) a run counts as stuck.\n", Duration(s.Threshold))
	}
	writeRun(b, r)
	b.WriteString("\nNext: open the run in Zuora (Mediation > Audit Trail > Runs). A run stuck in RUNNING or\n" +
		"INITIALIZING holds back the tenant's other runs (at most 5 run at once): stop it and run the\n" +
		"meter again, or ask Zuora's support with the ids below. A resolution follows when it ends well;\n" +
		"if it fails, the failure pages.\n")
}

func writeResolved(b *strings.Builder, r report, res *memory.Resolution) {
	was := "an alert status"
	if res != nil {
		was = res.Status + " since " + when(res.Since)
		if res.Stuck {
			was = "stuck: " + was
		}
	}
	fmt.Fprintf(b, "Meter %d, version %s: the alert is closed. It was %s; a check %s saw %s.\n",
		r.MeterID, r.Version, was, when(r.CheckedAt), r.Status)
	b.WriteString("\nNothing to do.\n")
}

// writeDetails is why Zuora says the run failed: counts, top error codes,
// operators, and a few records in error, without the records.
func writeDetails(b *strings.Builder, r report) {
	d := r.Details
	if d == nil {
		d = &Details{}
	}
	if d.Records != nil {
		fmt.Fprintf(b, "Records: %s in error of %s (%s output).\n", count(d.Records.Errors),
			count(d.Records.Errors+d.Records.Output), count(d.Records.Output))
	}
	if d.From != nil && d.To != nil {
		fmt.Fprintf(b, "Looked at: runs from %s to %s.\n", when(*d.From), when(*d.To))
	}
	if len(d.TopErrors) > 0 {
		b.WriteString("\nTop error codes:\n")
		for _, e := range d.TopErrors {
			fmt.Fprintf(b, "  %-24s %s records\n", clip(e.ErrorCode, maxField), count(e.Count))
		}
	}
	if len(d.Operators) > 0 {
		b.WriteString("\nOperators with errors:\n")
		for _, o := range d.Operators {
			name := clip(o.ID, maxField)
			if o.Name != "" {
				name = clip(o.Name, maxField) + " (" + name + ")"
			}
			fmt.Fprintf(b, "  %-56s %s records\n", name, count(o.Errors))
		}
	}
	if len(d.Samples) > 0 {
		fmt.Fprintf(b, "\nSample errors (%d):\n", len(d.Samples))
		for _, s := range d.Samples {
			writeSample(b, s)
		}
	}
	if r.DetailsError != "" {
		fmt.Fprintf(b, "\nZuora's details are incomplete (%s): see the session in Zuora.\n", r.DetailsError)
	}
}

func writeSample(b *strings.Builder, s Sample) {
	b.WriteString("  -")
	if s.ErrorTime != nil {
		b.WriteString(" " + when(*s.ErrorTime))
	}
	if s.ErrorCode != "" {
		b.WriteString(" " + clip(s.ErrorCode, maxField))
	}
	if s.OperatorName != "" || s.OperatorType != "" {
		fmt.Fprintf(b, " at %s (%s)", clip(s.OperatorName, maxField), clip(s.OperatorType, maxField))
	}
	if s.ErrorMessage != "" {
		b.WriteString(": " + clip(oneLine(s.ErrorMessage), maxMessage))
	}
	b.WriteString("\n")
}

// writeQuote is what Zuora's support asks for.
func writeQuote(b *strings.Builder, r report) {
	var ids []string
	if r.SessionID != "" {
		ids = append(ids, "session "+clip(r.SessionID, maxField))
	}
	if r.ZuoraRequestID != "" {
		ids = append(ids, "Zuora-Request-Id "+clip(r.ZuoraRequestID, maxField))
	}
	if r.TrackID != "" {
		ids = append(ids, "track id "+clip(r.TrackID, maxField))
	}
	if len(ids) > 0 {
		b.WriteString("\nTo quote to Zuora: " + strings.Join(ids, ", ") + ".\n")
	}
}

// sms is one line of at most 140 characters: what and, for a failure, how
// bad.
func sms(r report, msg page) string {
	tail := what(r, msg, true)
	if msg.Event == memory.EventAlert && r.Details != nil && r.Details.Records != nil {
		tail += ": " + strconv.FormatInt(r.Details.Records.Errors, 10) + " records in error"
	}
	version := r.Version
	line := func() string { return fmt.Sprintf("Zuora meter %d v%s %s", r.MeterID, version, tail) }
	if over := len(line()) - maxSMS; over > 0 {
		version = version[:max(len(version)-over-len("..."), 0)] + "..."
	}
	return clip(line(), maxSMS)
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// count writes n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s to at most n bytes, marking the cut, and never inside a
// character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-3, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
