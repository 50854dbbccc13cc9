package vader

import "testing"

func TestSentiment(t *testing.T) {
	pos, neg, flat := Sentiment("The food was great and I loved it."), Sentiment("The food was awful and I hated it."), Sentiment("The table is in the room.")
	if !(pos > 0.5 && neg < -0.5 && flat == 0) {
		t.Fatalf("Sentiment: positive %v, negative %v, neutral %v", pos, neg, flat)
	}
	if not := Sentiment("The food was not great."); not >= 0 {
		t.Errorf("negation: %v, want below 0", not)
	}
}
