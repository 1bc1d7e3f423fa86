package browsertest

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Screenshot, as `make run` calls it: a PNG of the frame at its width, in
// the theme's colours, with the widget drawn inside.
func TestScreenshot(t *testing.T) {
	PathForTest(t) // skips, or fails under CI=true, without a Chromium
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	widget := `<div style="background:#0f1b2a;color:#d1d5db;height:60px">Zuora meter watch list</div>`
	b, err := Screenshot(ctx, widget, "dark", DefaultWidth)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != DefaultWidth || h != 60 {
		t.Errorf("the screenshot is %dx%d, want %dx60: the frame's width and the widget's height", w, h, DefaultWidth)
	}
	if r, g, bl, _ := img.At(DefaultWidth-2, 30).RGBA(); r>>8 != 0x0f || g>>8 != 0x1b || bl>>8 != 0x2a {
		t.Errorf("the right edge is #%02x%02x%02x, want the widget's #0f1b2a", r>>8, g>>8, bl>>8)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "my-chromium")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHROMIUM", fake)
	if got, err := Find(); err != nil || got != fake {
		t.Errorf("CHROMIUM=%s: Find() = %q, %v", fake, got, err)
	}
	t.Setenv("CHROMIUM", filepath.Join(dir, "missing"))
	if _, err := Find(); err == nil {
		t.Error("a CHROMIUM that does not exist was found")
	}
	t.Setenv("CHROMIUM", "")
	t.Setenv("PATH", dir)
	if _, err := Find(); !errors.Is(err, ErrNoChromium) || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Errorf("with no Chromium on PATH: %v, want ErrNoChromium naming the package", err)
	}
}

func TestFrame(t *testing.T) {
	page := Frame(`<p>x</p>`, "dark", 460)
	for _, want := range []string{`<div id="widget"><p>x</p></div>`, "width:460px", "background:#161d26", "cwdb-action{display:none}"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %q in\n%s", want, page)
		}
	}
	if !strings.Contains(Frame("", "sepia", 400), "background:#f2f3f3") {
		t.Error("an unknown theme is not drawn as light")
	}
}
