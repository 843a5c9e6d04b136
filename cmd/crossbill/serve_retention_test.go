package main

import (
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/server"
)

// TestJobRetentionEnv: the environment sets the job retention when the
// flags are not given, a flag wins over it, and bad values are refused.
func TestJobRetentionEnv(t *testing.T) {
	cmd := newServeCmd(&App{})
	m := &server.Main{JobRetention: server.DefaultJobRetention, JobKeep: server.DefaultJobKeep}
	t.Setenv("CROSSBILL_JOB_RETENTION", "720h")
	t.Setenv("CROSSBILL_JOB_KEEP", "5")
	if err := jobRetentionFromEnv(cmd, m); err != nil || m.JobRetention != 720*time.Hour || m.JobKeep != 5 {
		t.Fatalf("from env: %v, %v, %d", err, m.JobRetention, m.JobKeep)
	}
	if err := cmd.Flags().Set("job-keep", "7"); err != nil {
		t.Fatal(err)
	}
	m.JobKeep = 7
	if err := jobRetentionFromEnv(cmd, m); err != nil || m.JobKeep != 7 {
		t.Fatalf("the flag must win: %v, %d", err, m.JobKeep)
	}
	t.Setenv("CROSSBILL_JOB_RETENTION", "14d")
	if err := jobRetentionFromEnv(cmd, m); err == nil {
		t.Fatal("14d (not a Go duration) was accepted")
	}
	t.Setenv("CROSSBILL_JOB_RETENTION", "")
	m.JobKeep = 0
	if err := jobRetentionFromEnv(cmd, m); err == nil {
		t.Fatal("--job-keep 0 was accepted")
	}
}
