package ui

import (
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"strconv"
	"sync"
)

// The object stores on the device.
const (
	StoreMeta   = "meta"   // rater, settings, global and local model
	StoreLabels = "labels" // every label made on this device, keyed by comparison id
	StorePairs  = "pairs"  // prefetched pairs, keyed by pair id
	// StoreBlobs holds large records that start-up does not read (Load), only Get when
	// needed: a text project's policy (tryit.go), which would add its size to every start.
	StoreBlobs = "blobs"
)

// Meta keys.
const (
	metaRater    = "rater"
	metaSettings = "settings"
	metaGlobal   = "global_model"
	metaLocal    = "local_model"
)

var nan = math.NaN()

// Record is one stored value: JSON data and a checksum over key and data, so a record edited
// outside the app (say, in the browser's developer tools) is noticed and dropped.
type Record struct {
	Key  string `json:"k"`
	Data string `json:"d"`
	Sum  uint32 `json:"s"`
}

// Op is one write: put Rec under Key in Store, or delete Key when Rec is nil.
type Op struct {
	Store string
	Key   string
	Rec   *Record
}

// Snapshot is everything stored on the device, as read at start-up.
type Snapshot struct {
	Meta, Labels, Pairs []Record
}

// Store keeps records on the device. Write applies all ops in one transaction: all or none.
// Begin is Write in two steps: the ops are handed to the store before it returns (from a JS
// callback too), after every write begun before, and wait waits until they are applied (not
// from a JS callback). Load reads every store but StoreBlobs; Get reads one record, nil if there
// is none. The browser's is IndexedDB (idb.go); tests use a map.
type Store interface {
	Load() (Snapshot, error)
	Get(store, key string) (*Record, error)
	Write(ops ...Op) error
	Begin(ops ...Op) (wait func() error)
}

func checksum(key, data string) uint32 {
	h := crc32.NewIEEE()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(data))
	return h.Sum32()
}

// seal encodes v as a record under key.
func seal(key string, v any) (*Record, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return sealRaw(key, string(b)), nil
}

// sealRaw makes a record of data, JSON already encoded, under key.
func sealRaw(key, data string) *Record {
	return &Record{Key: key, Data: data, Sum: checksum(key, data)}
}

// errTampered is returned by open for a record whose checksum does not match.
var errTampered = errors.New("ui: record does not match its checksum")

// open decodes a record into v after checking its checksum.
func open(r Record, v any) error {
	if checksum(r.Key, r.Data) != r.Sum {
		return errTampered
	}
	return json.Unmarshal([]byte(r.Data), v)
}

func put(store string, key string, v any) (Op, error) {
	r, err := seal(key, v)
	return Op{Store: store, Key: key, Rec: r}, err
}

func del(store, key string) Op { return Op{Store: store, Key: key} }

// MemStore is a Store in memory, for tests and for browsers without IndexedDB (labels then last
// only as long as the page).
type MemStore struct {
	mu   sync.Mutex
	Data map[string]map[string]Record // store -> key -> record
	Fail error                        // when set, Write fails with it
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{Data: map[string]map[string]Record{StoreMeta: {}, StoreLabels: {}, StorePairs: {}, StoreBlobs: {}}}
}

// Load returns every record.
func (m *MemStore) Load() (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s Snapshot
	for _, r := range m.Data[StoreMeta] {
		s.Meta = append(s.Meta, r)
	}
	for _, r := range m.Data[StoreLabels] {
		s.Labels = append(s.Labels, r)
	}
	for _, r := range m.Data[StorePairs] {
		s.Pairs = append(s.Pairs, r)
	}
	return s, nil
}

// Get returns one record, nil if there is none.
func (m *MemStore) Get(store, key string) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.Data[store][key]; ok {
		return &r, nil
	}
	return nil, nil
}

// Write applies ops.
func (m *MemStore) Write(ops ...Op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	for _, o := range ops {
		if _, ok := m.Data[o.Store]; !ok {
			return errors.New("ui: unknown store " + strconv.Quote(o.Store))
		}
	}
	for _, o := range ops {
		if o.Rec == nil {
			delete(m.Data[o.Store], o.Key)
		} else {
			m.Data[o.Store][o.Key] = *o.Rec
		}
	}
	return nil
}

// Begin applies ops now.
func (m *MemStore) Begin(ops ...Op) (wait func() error) {
	err := m.Write(ops...)
	return func() error { return err }
}
