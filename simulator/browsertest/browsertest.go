// Package browsertest starts a headless Chromium for the tests that drive
// kgsim's pages through a real browser (chromedp), and skips them on a
// machine without one.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kgsim/kgsim/simulator/envtest"
)

// Path is the path of a Chromium or Chrome binary. Without one the test is
// skipped, unless KGSIM_REQUIRE_BROWSER is set (CI sets it after
// scripts/install-chromium.sh), where it fails.
func Path(t testing.TB) string {
	t.Helper()
	if path, ok := find(); ok {
		return path
	}
	if os.Getenv("KGSIM_REQUIRE_BROWSER") != "" {
		t.Fatal(missing + "; KGSIM_REQUIRE_BROWSER is set, so the browser test must run")
	}
	t.Skip(missing + "; skipped (set KGSIM_REQUIRE_BROWSER=1 to fail instead)")
	return ""
}

const missing = "no Chromium on PATH (chromium, chromium-browser, google-chrome): scripts/install-chromium.sh installs Debian's chromium package"

func find() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, true
		}
	}
	return "", false
}

// Need is Chromium as a need of a package's tests, for its TestMain's
// envtest.Report.
func Need() envtest.Need {
	return envtest.Need{Name: "Chromium", Missing: func() string {
		if _, ok := find(); ok {
			return ""
		}
		return missing + " (set KGSIM_REQUIRE_BROWSER=1 to fail instead)"
	}}
}

// Tab starts a headless browser with opts added to chromedp's defaults and
// returns its first tab's context, which ends after timeout or with the
// test.
func Tab(t testing.TB, timeout time.Duration, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts = append(append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Path(t)), chromedp.NoSandbox, chromedp.DisableGPU), opts...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return ctx
}
