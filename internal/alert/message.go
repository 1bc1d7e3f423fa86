package alert

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/zuora"
)

// Message is one message for the topic, as SNS takes it.
type Message struct {
	TopicARN string
	Subject  string // at most 100 characters (SNS's limit)
	// JSON is the message every machine subscriber gets (SQS, Lambda,
	// HTTPS, email-json): the check's result, as it is, with what the
	// message adds. Email and SMS are what people read.
	JSON, Email, SMS string
	Attributes       []Attribute
	GroupID          string // FIFO topics only
	DeduplicationID  string // FIFO topics only
}

// Attribute is an SNS message attribute (DataType "String" or "Number").
type Attribute struct {
	Name, DataType, Value string
}

const maxSubject = 100 // SNS's limit

// report is what a message reads of the result it reports.
type report struct {
	MeterID        int64     `json:"meterId"`
	Version        string    `json:"version"`
	Status         string    `json:"status"`
	StatusCode     int       `json:"statusCode"`
	CheckedAt      time.Time `json:"checkedAt"`
	TrackID        string    `json:"trackId"`
	ZuoraRequestID string    `json:"zuoraRequestId"`
	Source         string    `json:"source"`
	SessionID      string    `json:"sessionId"`
	PreviousStatus string    `json:"previousStatus"`
	RunType        string    `json:"runType"`
	Details        *Details  `json:"details"`
	DetailsError   string    `json:"detailsError"`
}

// Build writes the message of msg for topicARN. msg's report is the result
// it is about (with details, when Explain gave some); linkTemplate, when
// set, is ALERT_LINK.
func Build(topicARN, linkTemplate string, msg memory.Message) (Message, error) {
	var r report
	if err := json.Unmarshal(msg.Report, &r); err != nil {
		return Message{}, fmt.Errorf("the message's report: %w", err)
	}
	link := Link(linkTemplate, r.MeterID, r.Version, r.SessionID)
	p := pageOf(msg)
	body := msg.Report
	if msg.Resolves != nil {
		body = With(body, "resolves", resolvesObject(*msg.Resolves))
	}
	if msg.Stuck != nil {
		body = With(body, "stuck", stuckObject(*msg.Stuck))
	}
	if msg.Late != nil {
		body = With(body, "late", lateObject(*msg.Late, p.due))
	}
	if msg.AfterMute {
		body = With(body, "afterMute", true)
	}
	if link != "" {
		body = With(body, "link", link)
	}
	m := Message{
		TopicARN: topicARN,
		Subject:  subject(r, p),
		JSON:     string(body),
		Email:    email(r, p, link),
		SMS:      sms(r, p),
		Attributes: []Attribute{
			{"meterId", "Number", strconv.FormatInt(r.MeterID, 10)},
			{"version", "String", r.Version},
			{"status", "String", r.Status},
			{"statusCode", "Number", strconv.Itoa(r.StatusCode)},
			{"event", "String", msg.Event},
		},
	}
	if strings.HasSuffix(topicARN, ".fifo") {
		m.GroupID = fmt.Sprintf("%d:%s", r.MeterID, r.Version)
		m.DeduplicationID = msg.ID
	}
	return m, nil
}

// resolves is the contract's "resolves" object: the alert's status and
// since when, and whether it was a stuck run's; or a late alert's first
// due time missed.
type resolves struct {
	Status string     `json:"status,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	Stuck  bool       `json:"stuck,omitempty"`
	Late   bool       `json:"late,omitempty"`
	Due    string     `json:"due,omitempty"`
}

func resolvesObject(r memory.Resolution) resolves {
	if r.Late {
		// The resolution names no zone, but the memory keeps the due time
		// in the expectation's zone (and a stored time keeps its offset):
		// written as it is, not in UTC, it reads as the late page's due.
		// To the second, as the page writes it.
		out := resolves{Late: true}
		if !r.Due.IsZero() {
			out.Due = r.Due.Truncate(time.Second).Format(time.RFC3339)
		}
		return out
	}
	since := r.Since.UTC()
	return resolves{Status: r.Status, Since: &since, Stuck: r.Stuck}
}

// stuck is the contract's "stuck" object.
type stuck struct {
	Since     time.Time `json:"since"`
	For       string    `json:"for"`
	Usual     string    `json:"usual,omitempty"`
	Threshold string    `json:"threshold"`
}

func stuckObject(s memory.Stuck) stuck {
	out := stuck{Since: s.Since.UTC().Truncate(time.Second), For: Duration(s.For), Threshold: Duration(s.Threshold)}
	if s.Usual > 0 {
		out.Usual = Duration(s.Usual)
	}
	return out
}

// With adds name to the JSON object obj, after the fields it has, so the
// object keeps its order. A value that does not encode is left out.
func With(obj json.RawMessage, name string, value any) json.RawMessage {
	v, err := json.Marshal(value)
	end := bytes.LastIndexByte(obj, '}')
	if err != nil || end < 0 {
		return obj
	}
	out := append([]byte(nil), obj[:end]...)
	if bytes.TrimSpace(out)[len(bytes.TrimSpace(out))-1] != '{' {
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, name)
	out = append(append(append(out, ':'), v...), obj[end:]...)
	return out
}

// runTypes are the failed statuses whose alerts are explained, and the
// run type Zuora knows their runs by.
var runTypes = map[string]string{zuora.Failed: zuora.RunTypeNormal, zuora.TestingFailed: zuora.RunTypeDebug}

// Unexplained is the Query that explains msg, when msg is an alert of a
// failed run that does not say why yet; false for anything else: another
// status, a reminder, a resolution, or an owed alert, which keeps the
// details it was first built with. The caller adds the time and the
// check's scoping headers.
func Unexplained(msg memory.Message) (Query, bool) {
	var r report
	if msg.Event != memory.EventAlert || json.Unmarshal(msg.Report, &r) != nil || r.Details != nil || r.DetailsError != "" {
		return Query{}, false
	}
	runType, failed := runTypes[r.Status]
	return Query{MeterID: r.MeterID, RunType: cmp.Or(r.RunType, runType), SessionID: r.SessionID, LastSeen: msg.LastSeen}, failed
}

// Explaining is rep with what Explain gave: the details, and the name of
// the error that kept some of them ("" for none).
func Explaining(rep json.RawMessage, d Details, errName string) json.RawMessage {
	rep = With(rep, "details", d)
	if errName != "" {
		rep = With(rep, "detailsError", errName)
	}
	return rep
}

// Link fills in an ALERT_LINK template; "" without one.
func Link(template string, meterID int64, version, sessionID string) string {
	if template == "" {
		return ""
	}
	return strings.NewReplacer("{meterId}", strconv.FormatInt(meterID, 10), "{version}", url.PathEscape(version),
		"{sessionId}", url.PathEscape(sessionID)).Replace(template)
}

// MaxLinkTemplate bounds ALERT_LINK: it goes into every message.
const MaxLinkTemplate = 1024

// IsLinkTemplate accepts an ALERT_LINK template: an https:// URL once its
// placeholders are filled in, of at most MaxLinkTemplate bytes.
func IsLinkTemplate(template string) bool {
	u, err := url.Parse(Link(template, 1, "0.0.1", "R-1"))
	return len(template) <= MaxLinkTemplate && err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// DetailsOf returns the details and the details error a report carries.
func DetailsOf(rep json.RawMessage) (*Details, string) {
	var r report
	if json.Unmarshal(rep, &r) != nil {
		return nil, ""
	}
	return r.Details, r.DetailsError
}
