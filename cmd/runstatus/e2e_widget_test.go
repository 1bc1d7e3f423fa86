package main

// The watch list on the dashboard, end to end: the real bootstrap answers
// a CloudWatch custom widget's call (the project's sample) with HTML, which
// a headless Chromium shows as a person sees it; the buttons act only with
// WIDGET_ACTIONS; 5,000 watched meter versions stay within 300 KB.

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/widget/browsertest"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2eWidgetCall is the sample widget call, with a button's params laid
// beside it when action is set, and limit rows.
func e2eWidgetCall(t *testing.T, action string, meterID int64, limit int) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../events/cloudwatch-widget.json")
	e2eMust(t, err)
	var ev map[string]any
	e2eMust(t, json.Unmarshal(raw, &ev))
	ev["limit"] = limit
	ev["widgetContext"].(map[string]any)["params"] = map[string]any{"limit": limit}
	if action != "" {
		ev["widgetAction"], ev["meterId"], ev["version"] = action, meterID, "0.0.1"
	}
	out, err := json.Marshal(ev)
	e2eMust(t, err)
	return out
}

// e2eWidget invokes c with a widget call and returns the HTML.
func e2eWidget(t *testing.T, c e2eInvoker, call []byte) string {
	t.Helper()
	r, err := c.Invoke(t.Context(), call)
	e2eMust(t, err)
	var html string
	if r.Failed() || json.Unmarshal(r.Body, &html) != nil {
		t.Fatalf("the widget: %s: %s %.300s", r.ErrorType, r.ErrorMessage, r.Body)
	}
	return html
}

// The widget shows the watch list, problems first, a mute's hostile reason
// as text; a button is refused while actions are off; with them on, "Mute
// 4h" mutes and "Check now" is a check like any other (it pages).
func TestWidgetEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": ""})
	s.Sim.SetMeter(1501, "0.0.1", zuoratest.Step{Status: 7})
	s.Sim.SetMeter(1502, "0.0.1", zuoratest.Step{Status: 8})
	for _, id := range []int64{1501, 1502, 1503} {
		e2eWatchCall(t, s, e2eWatchRequest(t, "PUT", fmt.Sprintf("/meters/%d/0.0.1/watch", id), nil))
	}
	e2eInvoke(t, s, e2eTick)
	hostile := `<img src=x onerror="document.title='pwned'">`
	mute, err := json.Marshal(map[string]any{"version": "2.0", "rawPath": "/meters/1503/0.0.1/mute",
		"body":           fmt.Sprintf(`{"until": %q, "reason": %q}`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), hostile),
		"requestContext": map[string]any{"http": map[string]any{"method": "PUT"}}})
	e2eMust(t, err)
	e2eWatchCall(t, s, mute)
	html := e2eWidget(t, s, e2eWidgetCall(t, "", 0, 100))

	b := browsertest.ForTest(t)
	tab, err := b.Open(browsertest.Frame(html, "dark", browsertest.DefaultWidth), time.Minute)
	e2eMust(t, err)
	defer tab.Close()
	var rows []string
	var counts string
	var injected int
	e2eMust(t, tab.Eval(`[...document.querySelectorAll('#widget tbody tr')].map(tr => tr.cells[0].innerText.trim())`, &rows))
	e2eMust(t, tab.Eval(`document.querySelector('#widget .counts').innerText.replace(/\s+/g, ' ').trim()`, &counts))
	e2eMust(t, tab.Eval(`document.querySelectorAll('#widget img, #widget script, #widget [onerror]').length`, &injected))
	if strings.Join(rows, ",") != "1502 v0.0.1,1503 v0.0.1,1501 v0.0.1" {
		t.Errorf("rows as a person reads them: %q; want the failure, then the muted one, then the rest", rows)
	}
	if counts != "3 watched 1 in an alert status 0 stuck 0 late 1 muted 0 pages owed" || injected != 0 {
		t.Errorf("counts %q, %d injected elements", counts, injected)
	}
	if r, err := s.Invoke(t.Context(), e2eWidgetCall(t, "check", 1501, 100)); err != nil || r.ErrorType != "InvalidRequest" {
		t.Errorf("a button with WIDGET_ACTIONS off: %v %s %s", err, r.ErrorType, r.Body)
	}

	on, err := s.AddFunction(t.Context(), map[string]string{"WATCH_METERS": "", "WIDGET_ACTIONS": "true"})
	e2eMust(t, err)
	html = e2eWidget(t, on, e2eWidgetCall(t, "mute", 1501, 100))
	if !strings.Contains(html, "Muted meter 1501 version 0.0.1") || !strings.Contains(html, "cwdb-action") {
		t.Errorf("Mute 4h: %.2000s", html)
	}
	s.Sim.SetMeter(1501, "0.0.1", zuoratest.Step{Status: 8})
	e2eWidget(t, on, e2eWidgetCall(t, "unmute", 1501, 100))
	if html = e2eWidget(t, on, e2eWidgetCall(t, "check", 1501, 100)); !strings.Contains(html, "Checked meter 1501 version 0.0.1: FAILED; alert published.") {
		t.Errorf("Check now: %.2000s", html)
	}
	if got := e2eMessages(t, s); !slices.Contains(got, "1501 alert") {
		t.Errorf("messages %v: the check from the widget did not page", got)
	}
}

// 5,000 watched meter versions: one paged read of the table beside the
// scheduled runs' mark, rendered in at most 1 s more than that read, in at
// most 300 KB of HTML with 500 rows asked for and the buttons on (the rows
// that do not fit join "N more"). The function logs how long the read and
// the rendering took.
func TestWidgetAtScaleEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 5000
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": "", "WIDGET_ACTIONS": "true"})
	var ids []int64
	for id := int64(1600001); id <= 1600000+n; id++ {
		ids = append(ids, id)
	}
	e2eStateItems(t, s, ids[:n/2], "0.0.1", "COMPLETED", 7, time.Now().UTC().Truncate(time.Second))
	e2eStateItems(t, s, ids[n/2:], "0.0.1", "FAILED", 8, time.Now().UTC().Truncate(time.Second))
	stop, err := s.RecordAWSCalls(t.Context())
	e2eMust(t, err)
	html := e2eWidget(t, s, e2eWidgetCall(t, "", 0, 500))
	calls, err := stop(t.Context())
	e2eMust(t, err)
	reads, writes := localstack.DynamoDBCalls(calls)
	var rec map[string]any
	for _, r := range s.FunctionLogRecords() {
		if r["message"] == "widget" {
			rec = r
		}
	}
	if rec == nil {
		t.Fatal("the function logged no widget record (rows, bytes, readMs, renderMs)")
	}
	readMs, _ := rec["readMs"].(float64)
	renderMs, _ := rec["renderMs"].(float64)
	pages := e2eQueryPages(t, s)
	t.Logf("%d watched: %d bytes of HTML, %d DynamoDB read calls (at most %d pages and the mark), %d writes; read %v ms, render %v ms",
		n, len(html), reads, pages, writes, readMs, renderMs)
	if len(html) > 300_000 || !strings.Contains(html, "<b>5000</b> watched") || !strings.Contains(html, "more not shown") || writes != 0 {
		t.Errorf("%d bytes, %d writes; want at most 300 KB, every meter counted, the rest as N more", len(html), writes)
	}
	if reads > pages+1 {
		t.Errorf("%d DynamoDB read calls; want at most %d: the table's pages and the mark", reads, pages+1)
	}
	if renderMs > readMs+1000 {
		t.Errorf("rendering took %v ms after a read of %v ms; want at most 1 s more than the read", renderMs, readMs)
	}
}

// e2eQueryPages is the most pages a read of every item of the state table
// can take. A Query page holds at most 1 MB of items (DynamoDB's item
// size); a page ends only when the next item would not fit, so every page
// but the last holds more than 1 MB less the largest item, and the last may
// be empty (DynamoDB stops at the limit without knowing whether more
// follows). The items are sized from a Scan of the table, the mark among
// them, so the bound holds whatever a state item carries.
func e2eQueryPages(t *testing.T, s *localstack.Stack) int {
	t.Helper()
	pages := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(s.AWSConfig()), &dynamodb.ScanInput{TableName: aws.String(localstack.StateTableName)})
	total, largest := 0, 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		e2eMust(t, err)
		for _, item := range page.Items {
			size := e2eItemSize(item)
			total, largest = total+size, max(largest, size)
		}
	}
	return total/(1<<20-largest) + 1
}

// e2eItemSize is DynamoDB's size of an item, rounded up where its rules
// say "approximately": the names and values of its attributes.
func e2eItemSize(item map[string]dbtypes.AttributeValue) int {
	size := 0
	for name, v := range item {
		size += len(name) + e2eValueSize(v)
	}
	return size
}

func e2eValueSize(v dbtypes.AttributeValue) int {
	switch v := v.(type) {
	case *dbtypes.AttributeValueMemberS:
		return len(v.Value)
	case *dbtypes.AttributeValueMemberN:
		return len(v.Value)/2 + 2 // a byte per two significant digits, and one
	case *dbtypes.AttributeValueMemberB:
		return len(v.Value)
	case *dbtypes.AttributeValueMemberM:
		return 3 + e2eItemSize(v.Value) + len(v.Value)
	case *dbtypes.AttributeValueMemberL:
		size := 3 + len(v.Value)
		for _, e := range v.Value {
			size += e2eValueSize(e)
		}
		return size
	case *dbtypes.AttributeValueMemberSS:
		return e2eSetSize(v.Value)
	case *dbtypes.AttributeValueMemberNS:
		return e2eSetSize(v.Value)
	}
	return 1 // BOOL, NULL
}

func e2eSetSize(values []string) int {
	size := 0
	for _, s := range values {
		size += len(s)
	}
	return size
}
