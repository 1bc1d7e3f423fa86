package expect

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// hideZoneinfo tells the test, run again by itself, that it is the run
// without the machine's zoneinfo.
const hideZoneinfo = "EXPECT_TEST_HIDE_ZONEINFO"

// systemZoneinfo are the directories time.LoadLocation reads on Linux.
var systemZoneinfo = []string{"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ", "/etc/zoneinfo"}

// TestZonesLoadWithoutSystemZoneinfo runs this test binary again in a user
// and mount namespace of its own, with an empty directory mounted over
// every zoneinfo directory and $ZONEINFO and $GOROOT (whose zip
// time.LoadLocation also reads) pointing at an empty directory, as on a
// Lambda runtime with no zoneinfo: the zones must come from time/tzdata.
// Where the kernel gives no namespaces, it checks that time/tzdata is
// linked into this package instead (cmd/runstatus does not import the
// package yet).
func TestZonesLoadWithoutSystemZoneinfo(t *testing.T) {
	if os.Getenv(hideZoneinfo) == "1" {
		zonesWithoutTheSystems(t)
		return
	}
	empty := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestZonesLoadWithoutSystemZoneinfo$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), hideZoneinfo+"=1", "ZONEINFO="+empty, "GOROOT="+empty)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &exit):
		t.Logf("no namespaces here (%v): checking the import instead", err)
		tzdataIsLinked(t)
	case err != nil:
		t.Fatalf("without the system's zoneinfo: %v\n%s", err, out)
	case strings.Contains(string(out), "--- SKIP"):
		t.Logf("the zoneinfo could not be hidden: checking the import instead\n%s", out)
		tzdataIsLinked(t)
	case !strings.Contains(string(out), "--- PASS: TestZonesLoadWithoutSystemZoneinfo"):
		t.Fatalf("the run without the system's zoneinfo did not pass:\n%s", out)
	}
}

// zonesWithoutTheSystems hides the zoneinfo directories, then loads zones.
func zonesWithoutTheSystems(t *testing.T) {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Skipf("making the mounts private: %v", err)
	}
	for _, dir := range systemZoneinfo {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_RDONLY, ""); err != nil {
			t.Skipf("hiding %s: %v", dir, err)
		}
	}
	if _, err := os.Stat("/usr/share/zoneinfo/Europe/Berlin"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the system's Europe/Berlin is still there: %v", err)
	}
	for zone, want := range map[string]string{"Europe/Berlin": "2026-12-07 02:00 CET", "America/New_York": "2026-12-07 02:00 EST"} {
		e, err := New("0 2 * * *", zone, "")
		if err != nil {
			t.Fatalf("without the system's zoneinfo: %v", err)
		}
		if got := e.FormatDue(e.Next(now.AddDate(0, 0, 5))); got != want {
			t.Errorf("%s: FormatDue = %q, want %q", zone, got, want)
		}
	}
}

// tzdataIsLinked checks that this package brings time/tzdata along.
func tzdataIsLinked(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list the package's dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	if !strings.Contains("\n"+string(out), "\ntime/tzdata\n") {
		t.Errorf("time/tzdata is not among the package's dependencies:\n%s", out)
	}
}
