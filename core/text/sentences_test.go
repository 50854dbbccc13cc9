package text

import "testing"

// TestSplitCorpus: the task text ends at the first line that is the mark alone; a form feed
// inside a line is text; without a mark the whole corpus is the task's.
func TestSplitCorpus(t *testing.T) {
	for _, c := range []struct{ in, task, pre string }{
		{"a.\nb.\n\f\nc.\nd.\n", "a.\nb.\n", "c.\nd.\n"},
		{"\f\nc.\n", "", "c.\n"},
		{"a.\n\f", "a.\n", ""},
		{"a \f b.\nc.\n", "a \f b.\nc.\n", ""},
		{"a.\r\n\f\r\nc.\n\f\nd.\n", "a.\r\n", "c.\n\f\nd.\n"},
	} {
		task, pre := SplitCorpus([]byte(c.in))
		if string(task) != c.task || string(pre) != c.pre {
			t.Errorf("SplitCorpus(%q) = %q, %q; want %q, %q", c.in, task, pre, c.task, c.pre)
		}
	}
}
