//go:build !(js && wasm)

package d1

import (
	"sync"
	"testing"
	"time"
)

func TestTakeIsATokenBucket(t *testing.T) {
	s := openD1(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _, err := s.Take(ctx, "k", 2, 3); !ok || err != nil {
			t.Fatalf("request %d of a burst of 3 refused: %v", i, err)
		}
	}
	ok, wait, err := s.Take(ctx, "k", 2, 3)
	if ok || err != nil || wait != 500*time.Millisecond {
		t.Fatalf("4th request: ok %v wait %v err %v; want refused with 500ms to wait", ok, wait, err)
	}
	if ok, _, _ := s.Take(ctx, "other", 2, 3); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(250 * time.Millisecond) // half a token
	if ok, wait, _ := s.Take(ctx, "k", 2, 3); ok || wait != 250*time.Millisecond {
		t.Fatalf("after 250ms: ok %v wait %v; want refused, 250ms", ok, wait)
	}
	now = now.Add(250 * time.Millisecond)
	if ok, _, _ := s.Take(ctx, "k", 2, 3); !ok {
		t.Fatal("a refilled token was refused")
	}
	now = now.Add(time.Hour) // refills to the burst, no more
	n := 0
	for i := 0; i < 10; i++ {
		if ok, _, _ := s.Take(ctx, "k", 2, 3); ok {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("after an hour %d requests passed; want the burst, 3", n)
	}
}

func TestTakeConcurrentSpendsEachTokenOnce(t *testing.T) {
	s := openD1(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	var mu sync.Mutex
	granted := 0
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := s.Take(ctx, "k", 1, 10)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 10 {
		t.Fatalf("%d of 40 concurrent requests passed a bucket of 10", granted)
	}
}
