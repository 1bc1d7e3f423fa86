// Command zuora-sim serves the zuoratest Zuora simulator as a process, for
// running the Lambda locally (SAM, cmd/localrun) or testing out of process.
//
//	zuora-sim -addr 127.0.0.1:8090 -config testdata/meters.json
//
// It prints one line, "zuora-sim listening on http://HOST:PORT", to stdout
// once it accepts connections (so a parent using -addr 127.0.0.1:0 can read
// the port), logs each request as JSON to stderr, and stops on SIGINT or
// SIGTERM. The /_sim/ control API is described in package zuoratest.
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

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "zuora-sim:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("zuora-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address (127.0.0.1:0 picks a free port)")
	configPath := fs.String("config", "", "JSON file with clients, tokens, tokenTTL, latency and meters")
	latency := fs.Duration("latency", 0, "latency added to every run status answer (overrides the config)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	sim := zuoratest.NewUnstartedHandler()
	if *configPath != "" {
		data, err := os.ReadFile(*configPath)
		if err != nil {
			return err
		}
		cfg, err := zuoratest.ParseConfig(data)
		if err != nil {
			return err
		}
		if err := sim.Apply(cfg); err != nil {
			return fmt.Errorf("%s: %w", *configPath, err)
		}
	}
	if isFlagSet(fs, "latency") {
		sim.SetLatency(*latency)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	srv := &http.Server{
		Handler:           logRequests(logger, sim.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
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
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// statusWriter keeps the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// logRequests logs one JSON line per request. It never logs the
// Authorization header or the token form, only whether auth was present.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.EscapedPath()),
				slog.Int("status", sw.status),
				slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
				slog.Bool("auth", r.Header.Get("Authorization") != ""),
				slog.String("zuoraRequestId", w.Header().Get("Zuora-Request-Id")),
				slog.String("zuoraTrackId", r.Header.Get("Zuora-Track-Id")),
			)
		}()
		next.ServeHTTP(sw, r)
	})
}
