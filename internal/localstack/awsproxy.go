package localstack

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// awsProxy stands between the function and moto: the function's
// AWS_ENDPOINT_URL is the proxy, which passes every request on to moto
// unless a test has scripted a fault for it (SetFaults). It also makes
// moto's DynamoDB writes take turns: moto evaluates a conditional write and
// stores its item in two steps that concurrent requests can interleave, so
// two rivals can both "win" a condition that DynamoDB would let only one
// win. Serialized, the concurrency tests test the function, not moto.
type awsProxy struct {
	target  *url.URL
	account string // the stack's account in moto, named on every request
	srv     *http.Server
	url     string
	client  *http.Client

	writes sync.Mutex // one DynamoDB write at a time reaches moto

	mu        sync.Mutex
	rule      FaultRule
	partition string         // with it, rule sees only the DynamoDB requests naming an item of this partition
	matched   map[string]int // those requests per operation
	calls     map[string]int // requests per operation
	injected  map[string]int // faults per operation
	recording []AWSCall      // every request since record, in order
	sent      []Sent         // the function's SNS publishes SNS took
}

// Sent is a message the function published, as it sent it to SNS: with
// MessageStructure json, one body for each kind of subscriber. moto
// delivers only the default body to the queue; an e-mail subscriber would
// get Email, an SMS one SMS.
type Sent struct {
	At                         time.Time // when the function's request reached SNS
	Subject                    string
	Default, Email, SMS        string
	Attributes                 map[string]string // name → value
	MessageStructure, TopicARN string
	GroupID, DeduplicationID   string
}

// Fault is what the proxy does to one request instead of passing it on.
// The zero Fault passes it on.
type Fault struct {
	// Status refuses the request with this HTTP status and Code, in the
	// service's own error format; the request never reaches moto.
	Status int
	Code   string // e.g. ThrottlingException; default by status
	// Delay holds the request this long before it goes on to moto. A
	// client that gives up meanwhile never reaches moto: the request was
	// lost on the way.
	Delay time.Duration
	// DropAnswer passes the request on, then closes the connection instead
	// of sending moto's answer back: a write that succeeded, whose answer
	// was lost. The SDK retries it.
	DropAnswer bool
	// Message is the refusal's message; empty: one that says the proxy
	// injected it. AWS's own name ARNs and accounts, e.g. AccessDenied's.
	Message string
}

// FaultRule picks the fault for the n-th request (from 1) of op, an
// operation named "DynamoDB.UpdateItem", "SNS.Publish",
// "SecretsManager.GetSecretValue"... It is called once per request, from
// several goroutines at once.
type FaultRule func(op string, n int) Fault

func startAWSProxy(motoURL, account string) (*awsProxy, error) {
	target, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &awsProxy{target: target, account: account, url: "http://" + ln.Addr().String(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		calls:  map[string]int{}, injected: map[string]int{}, matched: map[string]int{}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }() // ends with close
	return p, nil
}

func (p *awsProxy) close() {
	p.srv.Close()
	p.client.CloseIdleConnections()
}

// SetFaults has the proxy apply rule from now on; nil passes every request
// on. Operation counts start again from 0.
func (s *Stack) SetFaults(rule FaultRule) {
	s.SetPartitionFaults("", rule)
}

// SetPartitionFaults has the proxy apply rule from now on only to the
// DynamoDB requests that name an item whose partition key (the table's
// "pk") is pk: as a key to read, update or delete, or as an item to put.
// The rule's n counts those requests of its operation; every other request
// passes on. An empty pk applies rule to every request, as SetFaults does.
func (s *Stack) SetPartitionFaults(pk string, rule FaultRule) {
	p := s.proxy
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule, p.partition = rule, pk
	clear(p.calls)
	clear(p.injected)
	clear(p.matched)
}

// FaultCounts returns, per operation, the requests the function sent and
// the faults the proxy injected into them since the last SetFaults.
func (s *Stack) FaultCounts() (calls, injected map[string]int) {
	p := s.proxy
	p.mu.Lock()
	defer p.mu.Unlock()
	calls, injected = map[string]int{}, map[string]int{}
	for k, v := range p.calls {
		calls[k] = v
	}
	for k, v := range p.injected {
		injected[k] = v
	}
	return calls, injected
}

func (p *awsProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	op := operation(r, body)
	f := p.fault(op, body)
	if f.Status != 0 {
		writeAWSError(w, op, f)
		return
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return // the caller gave up: the request is lost on the way
		}
	}
	if isDynamoDBWrite(op) {
		p.writes.Lock()
		defer p.writes.Unlock()
	}
	status, header, answer, err := p.forward(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if f.DropAnswer {
		dropConnection(w)
		return
	}
	if op == "SNS.Publish" && status == http.StatusOK {
		p.keepSent(body)
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.WriteHeader(status)
	_, _ = w.Write(answer)
}

// keepSent keeps a Publish request's message as the function sent it.
func (p *awsProxy) keepSent(body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return
	}
	m := Sent{At: time.Now(), Subject: form.Get("Subject"), Default: form.Get("Message"), MessageStructure: form.Get("MessageStructure"),
		TopicARN: form.Get("TopicArn"), GroupID: form.Get("MessageGroupId"), DeduplicationID: form.Get("MessageDeduplicationId"),
		Attributes: map[string]string{}}
	if m.MessageStructure == "json" {
		var bodies map[string]string
		if json.Unmarshal([]byte(m.Default), &bodies) == nil {
			m.Default, m.Email, m.SMS = bodies["default"], bodies["email"], bodies["sms"]
		}
	}
	for i := 1; form.Has(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)); i++ {
		m.Attributes[form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i))] = form.Get(fmt.Sprintf("MessageAttributes.entry.%d.Value.StringValue", i))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m)
}

// SentMessages returns, and forgets, the messages the function published
// so far, oldest first, as it sent them to SNS.
func (s *Stack) SentMessages() []Sent {
	p := s.proxy
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.sent
	p.sent = nil
	return out
}

// record starts a new recording of the requests.
func (p *awsProxy) record() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recording = []AWSCall{}
}

// recorded returns the requests since record.
func (p *awsProxy) recorded() []AWSCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.recording)
}

// fault counts the request and returns what the rule says to do with it.
func (p *awsProxy) fault(op string, body []byte) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[op]++
	if p.recording != nil {
		p.recording = append(p.recording, AWSCall{Op: op})
	}
	if p.rule == nil {
		return Fault{}
	}
	n := p.calls[op]
	if p.partition != "" {
		if !isDynamoDB(op) || !namesPartition(body, p.partition) {
			return Fault{}
		}
		p.matched[op]++
		n = p.matched[op]
	}
	f := p.rule(op, n)
	if f != (Fault{}) {
		p.injected[op]++
	}
	return f
}

func (p *awsProxy) forward(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	u := *p.target
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	req.Header.Set(accountHeader, p.account)
	req.Host = r.Host // SigV4 signed it; moto does not check, but keep it whole
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, answer, err
}

// dropConnection closes the client's connection without an answer; the
// client sees the connection reset.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http aborts the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // a reset, not an orderly close
	}
	conn.Close()
}

// operation names a request's AWS operation: from X-Amz-Target for the
// JSON protocols (DynamoDB, Secrets Manager), from the Action form field
// for the query protocol (SNS).
func operation(r *http.Request, body []byte) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		service, op, _ := strings.Cut(target, ".")
		switch {
		case strings.HasPrefix(service, "DynamoDB"):
			service = "DynamoDB"
		case strings.EqualFold(service, "secretsmanager"):
			service = "SecretsManager"
		}
		return service + "." + op
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		return "SNS." + form.Get("Action")
	}
	return r.Method + " " + r.URL.Path
}

func isDynamoDB(op string) bool { return strings.HasPrefix(op, "DynamoDB.") }

// namesPartition says whether a DynamoDB request body names an item of the
// partition pk anywhere: a Key, the Keys of a batch, an Item put.
func namesPartition(body []byte, pk string) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	return hasPartition(v, pk)
}

func hasPartition(v any, pk string) bool {
	switch v := v.(type) {
	case map[string]any:
		if key, ok := v["pk"].(map[string]any); ok && key["S"] == pk {
			return true
		}
		for _, e := range v {
			if hasPartition(e, pk) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasPartition(e, pk) {
				return true
			}
		}
	}
	return false
}

func isDynamoDBWrite(op string) bool {
	name, ok := strings.CutPrefix(op, "DynamoDB.")
	return ok && name != "GetItem" && name != "BatchGetItem" && name != "Query" && name != "Scan"
}

// writeAWSError answers as the service would: JSON for DynamoDB and
// Secrets Manager, XML for SNS.
func writeAWSError(w http.ResponseWriter, op string, f Fault) {
	code := f.Code
	if code == "" {
		code = "InternalServerError"
		if f.Status == http.StatusBadRequest {
			code = "ThrottlingException"
		}
	}
	msg := cmp.Or(f.Message, "injected by the local stack's fault proxy")
	w.Header().Set("X-Amzn-Errortype", code)
	if strings.HasPrefix(op, "SNS.") {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		var escaped strings.Builder
		_ = xml.EscapeText(&escaped, []byte(msg)) // a strings.Builder does not fail
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault</RequestId></ErrorResponse>`, code, escaped.String())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(f.Status)
	body, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg}) // strings always marshal
	w.Write(body)
}
