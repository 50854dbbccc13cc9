package text

// class is a byte's class for chunking: letters (ASCII letters and every byte of a multi-byte
// UTF-8 sequence, so accented letters stay whole), digits, white space, and the rest.
type class uint8

const (
	letter class = iota
	digit
	space
	other
)

func classOf(c byte) class {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= 0x80:
		return letter
	case c >= '0' && c <= '9':
		return digit
	case c == ' ', c == '\t', c == '\n', c == '\r', c == '\v', c == '\f':
		return space
	}
	return other
}

// chunks splits s into the pieces that BPE merges within, as GPT-2's pre-tokenizer does
// (Radford et al. 2019, §2.2): a run of letters, of digits or of other symbols, each with the
// single space before it if there is one, and runs of other white space. Merging within chunks
// keeps "dog." from becoming a token of its own beside "dog" and "dog!". The chunks
// concatenate to s.
func chunks(s []byte) [][]byte {
	var out [][]byte
	for i := 0; i < len(s); {
		j := i
		if s[j] == ' ' && j+1 < len(s) && classOf(s[j+1]) != space {
			j++
		}
		k := classOf(s[j])
		j++
		for j < len(s) && classOf(s[j]) == k {
			if k == space && j+1 < len(s) && s[j] == ' ' && classOf(s[j+1]) != space {
				break // leave the last space of a run to the word after it
			}
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}
