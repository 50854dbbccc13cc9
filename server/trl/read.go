package trl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prefer-rlhf/prefer/core/prefs"
	"github.com/prefer-rlhf/prefer/core/text"
	"github.com/prefer-rlhf/prefer/server/store"
)

// RaterName is the name of the rater every imported comparison is from.
const RaterName = "import"

// namespace is the name space of the ids an import derives from content (UUID version 5), so
// that importing the same file twice stores nothing the second time.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/prefer-rlhf/prefer/trl"))

// Import says how to read a TRL file into a text project.
type Import struct {
	World     *text.World
	Task      text.Task // the project's task: its Length bounds a continuation
	ProjectID string
	// Truncate fits text that is too long instead of refusing the line: a prompt keeps its
	// last PromptLen tokens (the context nearest the continuation), a continuation its first
	// Length tokens.
	Truncate bool
	Now      time.Time // created_at and received_at of the comparisons
}

// Read reads a TRL preference file (JSONL of Record; blank lines skipped, other keys ignored)
// into import rows: for each line a pair of text clips of the project's env, the chosen
// continuation left and the rejected one right, and a "left" comparison by the rater
// RaterName. Text is tokenized with the world's tokenizer; the prompt must come to exactly
// PromptLen tokens (the width of a text env's state) and each continuation to 1 to Length
// tokens, else the line is refused (or cut, with Truncate). A shorter continuation is stored
// as it is, with fewer actions: there is no padding token.
//
// Ids come from the content: a clip's from the project, env and tokens; a pair's from its
// clips; a comparison's from its pair and how many equal lines came before it in the file. So
// reading the same file again gives the same rows, and a store imports them once.
// The first bad line is an error naming it; nothing is returned with it.
func (im *Import) Read(r io.Reader) ([]store.ImportRow, error) {
	w := im.World
	rater := uuid.NewSHA1(namespace, []byte("rater\x00"+im.ProjectID)).String()
	seen := map[string]int{}
	var out []store.ImportRow
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		rec, err := decode(line)
		if err != nil {
			return nil, fmt.Errorf("trl: line %d: %w", n, err)
		}
		prompt, err := im.fit("prompt", w.Tok.Encode(rec.Prompt), w.PromptLen(), true)
		if err != nil {
			return nil, fmt.Errorf("trl: line %d: %w", n, err)
		}
		chosen, err := im.fit("chosen", w.Tok.Encode(rec.Chosen), im.Task.Length, false)
		if err != nil {
			return nil, fmt.Errorf("trl: line %d: %w", n, err)
		}
		rejected, err := im.fit("rejected", w.Tok.Encode(rec.Rejected), im.Task.Length, false)
		if err != nil {
			return nil, fmt.Errorf("trl: line %d: %w", n, err)
		}
		left, right := im.clip(prompt, chosen), im.clip(prompt, rejected)
		if left.ID == right.ID {
			return nil, fmt.Errorf("trl: line %d: chosen and rejected are the same text", n)
		}
		pair := uuid.NewSHA1(namespace, []byte("pair\x00"+left.ID+"\x00"+right.ID)).String()
		k := seen[pair]
		seen[pair]++
		id := uuid.NewSHA1(namespace, []byte("comparison\x00"+pair+"\x00"+strconv.Itoa(k))).String()
		out = append(out, store.ImportRow{
			Comparison: prefs.Comparison{ID: id, PairID: pair, Choice: prefs.Left, CreatedAt: im.Now},
			RaterID:    rater, RaterName: RaterName, ReceivedAt: im.Now, Left: left, Right: right,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trl: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("trl: no preferences in the file")
	}
	return out, nil
}

// decode reads one line: an object with prompt, chosen and rejected as strings.
func decode(line []byte) (Record, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return Record{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var rec Record
	for _, f := range []struct {
		key string
		dst *string
	}{{"prompt", &rec.Prompt}, {"chosen", &rec.Chosen}, {"rejected", &rec.Rejected}} {
		v, ok := m[f.key]
		if !ok {
			return Record{}, fmt.Errorf("no %q (the explicit-prompt standard format has prompt, chosen and rejected)", f.key)
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return Record{}, fmt.Errorf("%q is not a string (only TRL's standard format, not the conversational one, is read)", f.key)
		}
	}
	return rec, nil
}

// fit checks the length of a tokenized prompt (exactly want tokens) or continuation (1 to
// want tokens), cutting it if im.Truncate: a prompt keeps its last tokens, a continuation
// its first.
func (im *Import) fit(field string, ids []int, want int, exact bool) ([]int, error) {
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("%s is empty", field)
	case len(ids) > want && im.Truncate && exact:
		return ids[len(ids)-want:], nil
	case len(ids) > want && im.Truncate:
		return ids[:want], nil
	case len(ids) > want:
		end := "first"
		if exact {
			end = "last"
		}
		return nil, fmt.Errorf("%s has %d tokens, more than the task's %d (truncating would keep its %s %d)", field, len(ids), want, end, want)
	case exact && len(ids) < want:
		return nil, fmt.Errorf("%s has %d tokens, the task's prompts have %d (a prompt is never padded)", field, len(ids), want)
	}
	return ids, nil
}

// clip is a text clip of the project's env: the prompt then Length empty slots, and one
// action per continuation token.
func (im *Import) clip(prompt, cont []int) prefs.Clip {
	start, actions := text.ClipLayout{Length: im.Task.Length}.Clip(prompt, cont)
	var key strings.Builder
	key.WriteString("clip\x00" + im.ProjectID + "\x00" + im.Task.Name)
	for _, id := range prompt {
		key.WriteString(" " + strconv.Itoa(id))
	}
	key.WriteString(" |")
	for _, id := range cont {
		key.WriteString(" " + strconv.Itoa(id))
	}
	return prefs.Clip{ID: uuid.NewSHA1(namespace, []byte(key.String())).String(), Env: im.Task.Name, StartState: start, Actions: actions}
}
