//go:build !linux

package main

import "errors"

var errBenchNoProc = errors.New("the bench reads /proc and runs on Linux only")

func benchPeakRSS(int) (int64, error)       { return 0, errBenchNoProc }
func benchHasEnv(int, string) (bool, error) { return false, errBenchNoProc }
