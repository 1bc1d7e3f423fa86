// Command zuora-sim serves the Zuora simulator (package zuoratest) as a
// process, for `sam local invoke` (events/env.json points the function at
// 127.0.0.1:8090):
//
//	zuora-sim [-addr 127.0.0.1:8090] [-config scenario.json] [-latency 50ms]
//
// Without -config it serves make run's scenario (internal/localstack), whose
// meters the samples in events/ name. It prints "zuora-sim listening on
// http://ADDR" once it listens, logs each request to stderr, and stops on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "zuora-sim:", err)
	}
	if err != nil {
		os.Exit(2)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zuora-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen `address` (127.0.0.1:0 picks a free port)")
	configPath := fs.String("config", "", "the simulator's JSON `config` (clients, tokens, tokenTTL, latency, meters); default: make run's")
	latency := fs.Duration("latency", 0, "if positive, the latency of every run-status answer, over the config's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim, err := newSim(*configPath)
	if err != nil {
		return err
	}
	if *latency > 0 {
		sim.SetLatency(*latency)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sim.Handler().ServeHTTP(w, r) // the log never shows the Authorization header or the token form
		log.Info("request", "method", r.Method, "path", r.URL.EscapedPath(), "zuoraRequestId", w.Header().Get("Zuora-Request-Id"))
	})
	srv := &http.Server{Handler: logged, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "zuora-sim listening on http://%s\n", ln.Addr())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx) // Serve has returned ErrServerClosed
}

// newSim returns a simulator configured from the file at path, or with
// make run's scenario if path is empty.
func newSim(path string) (*zuoratest.Server, error) {
	cfg, err := localstack.Scenario()
	if path != "" {
		var data []byte
		if data, err = os.ReadFile(path); err == nil {
			cfg, err = zuoratest.ParseConfig(data)
		}
	}
	if err != nil {
		return nil, err
	}
	sim := zuoratest.NewUnstartedHandler()
	if err := sim.Apply(cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sim, nil
}
