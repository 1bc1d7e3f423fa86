// Package browsertest shows the widget's HTML as the CloudWatch console
// would, in a headless Chromium from Debian's package driven over the
// DevTools protocol: a page that mimics the console's widget frame, at a
// dashboard's default widget width, in either theme. The widget's tests
// read what a person sees from it, and `make run` takes a screenshot with
// it. It lives apart from internal/widget so that the function's binary,
// which imports that package, never links a browser driver.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Install is what to run when no Chromium is found (Debian's package).
const Install = "apt-get install chromium"

// ErrNoChromium: no Chromium binary was found.
var ErrNoChromium = errors.New("no Chromium found: set CHROMIUM to its path, or install Debian's package chromium (" + Install + ")")

// Find is the Chromium to run: $CHROMIUM when set, else chromium or
// chromium-browser on PATH.
func Find() (string, error) {
	if c := os.Getenv("CHROMIUM"); c != "" {
		p, err := exec.LookPath(c)
		if err != nil {
			return "", fmt.Errorf("CHROMIUM=%s: %w (unset it to use Debian's chromium: %s)", c, err, Install)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Browser is one headless Chromium process with a profile of its own.
type Browser struct {
	ctx    context.Context // the browser's; each page is a tab of it
	cancel context.CancelFunc
	dir    string // the profile, removed on Close
}

// Start runs the Chromium at path, headless, until Close or until ctx
// ends. The flags keep it off the network (this machine's and CI's are
// closed: without them it tries Google's hosts at every start) and out of
// the sandbox when run as root, which Chromium's sandbox refuses.
func Start(ctx context.Context, path string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "widget-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browsertest: a profile: %w", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.UserDataDir(dir), chromedp.Headless, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.WindowSize(1280, 1024),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("mute-audio", true),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	cancel := func() { bcancel(); acancel() }
	if err := chromedp.Do(bctx); err != nil { // starts the process
		cancel()
		return nil, errors.Join(fmt.Errorf("browsertest: starting %s: %w", path, err), os.RemoveAll(dir))
	}
	return &Browser{ctx: bctx, cancel: cancel, dir: dir}, nil
}

// Close ends the browser and removes its profile.
func (b *Browser) Close() error {
	b.cancel()
	return os.RemoveAll(b.dir)
}

// PathForTest is the Chromium for t. Without one t is skipped, naming the
// package to install, except under CI=true, where it fails; under -short
// it is skipped.
func PathForTest(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium: not a -short test")
	}
	path, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return path
}

// ForTest starts a browser for t (PathForTest's) and closes it when t ends.
func ForTest(t testing.TB) *Browser {
	t.Helper()
	b, err := Start(context.Background(), PathForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// Tab is a page served on loopback and loaded in a tab of its own.
type Tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	srv    *httptest.Server
}

// Open serves page (an HTML document, such as Frame's) on 127.0.0.1 and
// loads it in a new tab, within timeout.
func (b *Browser) Open(page string, timeout time.Duration) (*Tab, error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	tctx, tcancel := chromedp.NewContext(b.ctx)
	ctx, cancel := context.WithTimeout(tctx, timeout)
	t := &Tab{ctx: ctx, cancel: func() { cancel(); tcancel() }, srv: srv}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitReady(chromedp.ID(FrameID))); err != nil {
		t.Close()
		return nil, fmt.Errorf("browsertest: loading the page: %w", err)
	}
	return t, nil
}

// Eval runs a JavaScript expression in the page and decodes its value (as
// JSON) into out.
func (t *Tab) Eval(expr string, out any) error {
	raw, err := chromedp.Run(t.ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return fmt.Errorf("browsertest: %w", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("browsertest: the value of the expression: %w", err)
	}
	return nil
}

// Screenshot is a PNG of the widget frame as it is drawn, at its full height.
func (t *Tab) Screenshot() ([]byte, error) {
	png, err := chromedp.Run(t.ctx, chromedp.Screenshot(chromedp.ID(FrameID)))
	if err != nil {
		return nil, fmt.Errorf("browsertest: a screenshot: %w", err)
	}
	return png, nil
}

// Close closes the tab and stops serving its page.
func (t *Tab) Close() {
	t.cancel()
	t.srv.Close()
}

// Screenshot draws a widget's HTML in the console's frame for theme, width
// CSS pixels wide, in a Chromium of its own, and returns the PNG: what
// `make run` writes for its watch list.
func Screenshot(ctx context.Context, widgetHTML, theme string, width int) ([]byte, error) {
	path, err := Find()
	if err != nil {
		return nil, err
	}
	b, err := Start(ctx, path)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	t, err := b.Open(Frame(widgetHTML, theme, width), time.Minute)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Screenshot()
}
