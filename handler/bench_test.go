package handler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/zuora"
)

// The handler's own work per check: event parsing, validation, the result,
// the log line and the encoded reply, everything but the Zuora round trip.
// Zuora is a table lookup that does not allocate, so allocs/op are the
// handler's alone; the logger is Lambda's JSON log handler writing to
// io.Discard. `make bench` runs these.

// benchZuora answers every known meter at once, without allocating.
type benchZuora map[memory.Meter]zuora.RunStatus

func (z benchZuora) RunStatus(_ context.Context, req zuora.Request) (zuora.RunStatus, error) {
	rs, ok := z[memory.Meter{MeterID: req.MeterID, Version: req.Version}]
	if !ok {
		return zuora.RunStatus{}, &zuora.Error{Class: zuora.ErrNotFound, HTTPStatus: 404}
	}
	return rs, nil
}

func (z benchZuora) set(id int64, version string, code int, name string) {
	z[memory.Meter{MeterID: id, Version: version}] = zuora.RunStatus{Code: code, Description: name, Name: name,
		Terminal: code == 7, RequestID: "6fbf8b1e-2f7c-4c3e-9f7e-0d6b1b2c3d4e", Attempts: 1, Latency: 40 * time.Millisecond}
}

// lambdaLogHandler is lambdacontext.NewLogHandler with AWS_LAMBDA_LOG_FORMAT
// JSON, writing to w instead of stdout.
type lambdaLogHandler struct{ slog.Handler }

func (h lambdaLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func newBenchHandler(b *testing.B, z benchZuora) (*Handler, context.Context) {
	b.Helper()
	log := slog.New(lambdaLogHandler{slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr})})
	h, err := New(withDefaults(Config{}), Deps{Zuora: z, Alerts: &fakeSNS{}, Log: log})
	if err != nil {
		b.Fatal(err)
	}
	// As the runtime builds it for each invocation: a deadline and the request id.
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	b.Cleanup(cancel)
	return h, ctx
}

func benchInvoke(b *testing.B, h *Handler, ctx context.Context, payload []byte) {
	b.Helper()
	if _, err := h.Invoke(ctx, payload); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvokeDirect is one check from a direct payload, as Step
// Functions or another function sends it.
func BenchmarkInvokeDirect(b *testing.B) {
	z := benchZuora{}
	z.set(104, "2.0.0", 7, zuora.Completed)
	h, ctx := newBenchHandler(b, z)
	benchInvoke(b, h, ctx, []byte(`{"meterId": "104", "version": "2.0.0", "trackId": "billing-job-42"}`))
}

// BenchmarkInvokeAPIGatewayHTTP is one check from the sample HTTP API
// (payload 2.0) request, answered as an HTTP response.
func BenchmarkInvokeAPIGatewayHTTP(b *testing.B) {
	payload, err := os.ReadFile(filepath.Join("..", "events", "apigw-http.json"))
	if err != nil {
		b.Fatal(err)
	}
	z := benchZuora{}
	z.set(101, "0.0.1", 5, zuora.Running)
	h, ctx := newBenchHandler(b, z)
	benchInvoke(b, h, ctx, payload)
}

// BenchmarkInvokeBatch100 is a batch of 100 meters in one event, checked
// 32 at a time (the default concurrency).
func BenchmarkInvokeBatch100(b *testing.B) {
	const n = 100
	z := benchZuora{}
	payload := []byte(`{"meters": [`)
	for i := range n {
		z.set(int64(1000+i), "1.0.0", 7, zuora.Completed)
		if i > 0 {
			payload = append(payload, ',')
		}
		payload = fmt.Appendf(payload, `{"meterId": %d, "version": "1.0.0"}`, 1000+i)
	}
	payload = append(payload, "]}"...)
	h, ctx := newBenchHandler(b, z)
	benchInvoke(b, h, ctx, payload)
	b.ReportMetric(n, "checks/op") // the bench divides the per-op figures by it
}
