package conformance

import (
	"os"
	"testing"

	"github.com/prefer-rlhf/prefer/server/hub"
	"github.com/prefer-rlhf/prefer/tests/worker"
)

func TestMain(m *testing.M) {
	code := m.Run()
	worker.RemoveBuild()
	os.Exit(code)
}

// server is a running hub under test.
type server struct {
	name    string
	url     string
	teacher string // a teacher token for every project
	burst   int    // the per-token burst of its rate limit
	text    bool   // it has a text world (a corpus): text projects (text_test.go)
}

// TestNative runs the suite against `prefer serve`.
func TestNative(t *testing.T) {
	t.Parallel()
	runSuite(t, startNative(t))
}

// TestWorker runs the suite against the Worker under wrangler dev --local.
func TestWorker(t *testing.T) {
	t.Parallel()
	// A Worker under wrangler dev on a shared machine answers tens of requests a second, fewer
	// than the default limit refills (20/s per token), so the rate-limit test could not reach
	// it: the Worker is given a lower limit through its variables.
	s := worker.Start(t, map[string]string{"PREFER_RATE": "5", "PREFER_BURST": "20"})
	runSuite(t, &server{name: "worker", url: s.URL, teacher: s.TeacherToken, burst: 20})
}

// preferBin is the prefer binary (for `prefer trainer`).
func preferBin(t testing.TB) string {
	t.Helper()
	bin, err := worker.PreferBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// startNative starts `prefer serve` without its trainer: the suite publishes clips and pairs
// through the trainer API, as a remote trainer does. It reads a small generated corpus for the
// text projects.
func startNative(t *testing.T) *server {
	n := worker.StartNativeT(t, "--no-trainer", "--corpus", writeCorpus(t))
	return &server{name: "native", url: n.URL, teacher: n.TeacherToken, burst: hub.DefaultConfig().Burst, text: true}
}
