package main

import (
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSAMBuild does what `sam build` does for a makefile build method: copy
// the code URI (the repository root) to a scratch folder and run
// `make build-RunStatusFunction` there with ARTIFACTS_DIR set. The result must
// be a static linux/arm64 executable named bootstrap, as provided.al2023 on
// Graviton runs it.
func TestSAMBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arm64 bootstrap; skipped with -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(t.TempDir(), "src")
	artifacts := filepath.Join(t.TempDir(), "RunStatusFunction")
	if err := copyTree(root, scratch); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "build-RunStatusFunction", "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = scratch
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-RunStatusFunction: %v\n%s", err, out)
	}

	path := filepath.Join(artifacts, "bootstrap")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode()&0o111 == 0 {
		t.Errorf("bootstrap is not executable: %v", info.Mode())
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is %v %v %v, want a 64-bit arm64 executable", f.Class, f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("bootstrap is dynamically linked (%v)", p.Type)
		}
	}
	if f.Section(".symtab") != nil {
		t.Errorf("bootstrap keeps its symbol table; the build should strip it (-s -w)")
	}
	t.Logf("bootstrap: %.1f MiB", float64(info.Size())/(1<<20))
}

// copyTree copies the files of a source tree, leaving out what sam build
// leaves out or would not see in a fresh clone.
func copyTree(src, dst string) error {
	skip := map[string]bool{".git": true, ".aws-sam": true, "bin": true, ".local": true}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if skip[rel] {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(rel, ".test") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
}
