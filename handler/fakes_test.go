package handler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/zuora"
)

// fakeZuora answers from a table keyed by "meterId:version"; unknown meters
// get zuora.ErrNotFound like the real client. It records every request and
// the most calls it saw at once.
type fakeZuora struct {
	mu       sync.Mutex
	statuses map[string]zuora.RunStatus
	errs     map[string]error
	requests []zuora.Request
	delay    time.Duration

	inFlight, maxInFlight atomic.Int32
}

func newFakeZuora() *fakeZuora {
	return &fakeZuora{statuses: map[string]zuora.RunStatus{}, errs: map[string]error{}}
}

func (f *fakeZuora) set(id int64, version string, code int, name string, terminal, failed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses[fmt.Sprintf("%d:%s", id, version)] = zuora.RunStatus{
		Code: code, Description: name, Name: name,
		Terminal: terminal, Failed: failed, RequestID: fmt.Sprintf("zr-%d", id), Attempts: 1,
	}
}

func (f *fakeZuora) fail(id int64, version string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[fmt.Sprintf("%d:%s", id, version)] = err
}

func (f *fakeZuora) RunStatus(ctx context.Context, req zuora.Request) (zuora.RunStatus, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return zuora.RunStatus{}, &zuora.Error{Class: zuora.ErrUnavailable, Timeout: true, Err: ctx.Err()}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	key := fmt.Sprintf("%d:%s", req.MeterID, req.Version)
	if err, ok := f.errs[key]; ok {
		return zuora.RunStatus{}, err
	}
	rs, ok := f.statuses[key]
	if !ok {
		return zuora.RunStatus{}, &zuora.Error{Class: zuora.ErrNotFound, HTTPStatus: 404, Code: "70002103", Message: "Meter does not exist.", RequestID: "zr-404"}
	}
	return rs, nil
}

func (f *fakeZuora) calls() []zuora.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]zuora.Request(nil), f.requests...)
}

// fakeSNS records alerts; err makes every publish fail.
type fakeSNS struct {
	mu     sync.Mutex
	alerts []alert.Message
	err    error
}

func (p *fakeSNS) Publish(_ context.Context, a alert.Message) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return "", p.err
	}
	p.alerts = append(p.alerts, a)
	return fmt.Sprintf("msg-%d", len(p.alerts)), nil
}

func (p *fakeSNS) setErr(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *fakeSNS) published() []alert.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]alert.Message(nil), p.alerts...)
}

var errSNSDown = errors.New("sns: service unavailable")
