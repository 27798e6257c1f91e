//go:build unix

package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// holdEnv names the database a child process of this test binary opens
// and holds until it is killed.
const holdEnv = "KGSIM_TEST_HOLD_DB"

// TestHoldDatabase is the child: it runs only with holdEnv set.
func TestHoldDatabase(t *testing.T) {
	path := os.Getenv(holdEnv)
	if path == "" {
		t.Skip("the child process of TestSecondProcessRefused")
	}
	if _, err := Open(context.Background(), path); err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("held")
	select {}
}

// A second process on the same file is refused at start, naming the
// holder; once the holder is killed with SIGKILL (no chance to clean up),
// the next start succeeds.
func TestSecondProcessRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kgsim.db")
	child := exec.Command(os.Args[0], "-test.run=^TestHoldDatabase$", "-test.count=1")
	child.Env = append(os.Environ(), holdEnv+"="+path)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		t.Fatalf("the child said %q, want held", line)
	}
	_, err = Open(context.Background(), path)
	if err == nil {
		t.Fatal("a second process opened the database")
	}
	for _, want := range []string{path, "in use by another process", "pid " + strconv.Itoa(child.Process.Pid), "--db"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	db.Close()
	// Closed, it is free again within this process too.
	db, err = Open(context.Background(), path)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	db.Close()
}
