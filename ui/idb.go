package ui

import (
	"errors"

	"github.com/vugu/vugu/js"
)

// IDB is the Store in the browser's IndexedDB: one database with an object store per kind of
// record (meta, labels, pairs), each record an object {k, d, s} keyed by k.
type IDB struct {
	db js.Value
	// pre is the stores Load reads, as index.html read them before the app started
	// (self.preferIDB): an array of the meta, labels and pairs records, used by the first Load
	// unless a Write came first; undefined otherwise.
	pre js.Value
}

// idbVersion 2 added StoreBlobs.
const idbVersion = 2

// OpenIDB opens (creating or upgrading) the named database. The page may have opened it
// already and read it (index.html's self.preferIDB, for the database "prefer"): that connection
// and what it read are taken when the database is at this version.
func OpenIDB(name string) (*IDB, error) {
	if p := js.Global().Get("preferIDB"); name == "prefer" && p.Type() == js.TypeObject {
		js.Global().Set("preferIDB", nil)
		if v, err := await(p); err == nil && v.Type() == js.TypeObject {
			db := v.Get("db")
			if db.Get("version").Int() == idbVersion {
				return &IDB{db: db, pre: v.Get("snap")}, nil
			}
			db.Call("close") // an older version: opened again below, and upgraded
		}
	}
	factory := js.Global().Get("indexedDB")
	if !factory.Truthy() {
		return nil, errors.New("ui: this browser has no IndexedDB")
	}
	req := factory.Call("open", name, idbVersion)
	upgrade := js.FuncOf(func(js.Value, []js.Value) any {
		db := req.Get("result")
		names := db.Get("objectStoreNames")
		for _, s := range []string{StoreMeta, StoreLabels, StorePairs, StoreBlobs} {
			if !names.Call("contains", s).Bool() {
				db.Call("createObjectStore", s, map[string]any{"keyPath": "k"})
			}
		}
		return nil
	})
	defer upgrade.Release()
	setProp(req, "onupgradeneeded", upgrade)
	switch waitEvent(req, "success", "error", "blocked") {
	case "success":
		return &IDB{db: req.Get("result")}, nil
	case "blocked":
		return nil, errors.New("ui: IndexedDB is blocked by another tab of an older version")
	}
	return nil, jsError(req.Get("error"))
}

// Load reads every record of every store.
func (d *IDB) Load() (Snapshot, error) {
	if pre := d.pre; pre.Type() == js.TypeObject {
		d.pre = js.Undefined()
		return Snapshot{Meta: records(pre.Index(0)), Labels: records(pre.Index(1)), Pairs: records(pre.Index(2))}, nil
	}
	tx := d.db.Call("transaction", []any{StoreMeta, StoreLabels, StorePairs}, "readonly")
	reqs := []js.Value{
		tx.Call("objectStore", StoreMeta).Call("getAll"),
		tx.Call("objectStore", StoreLabels).Call("getAll"),
		tx.Call("objectStore", StorePairs).Call("getAll"),
	}
	if ev := waitEvent(tx, "complete", "error", "abort"); ev != "complete" {
		return Snapshot{}, jsError(tx.Get("error"))
	}
	var s Snapshot
	out := []*[]Record{&s.Meta, &s.Labels, &s.Pairs}
	for i, r := range reqs {
		*out[i] = records(r.Get("result"))
	}
	return s, nil
}

// Get reads one record, nil if there is none.
func (d *IDB) Get(store, key string) (*Record, error) {
	tx := d.db.Call("transaction", []any{store}, "readonly")
	req := tx.Call("objectStore", store).Call("get", key)
	if ev := waitEvent(tx, "complete", "error", "abort"); ev != "complete" {
		return nil, jsError(tx.Get("error"))
	}
	v := req.Get("result")
	if v.Type() != js.TypeObject {
		return nil, nil
	}
	rs := records(js.Global().Get("Array").Call("of", v))
	if len(rs) == 0 {
		return nil, nil
	}
	return &rs[0], nil
}

// records converts an array of stored objects, keeping whatever has the record's shape; the
// checksum check in open drops the rest.
func records(arr js.Value) []Record {
	n := arr.Length()
	rs := make([]Record, 0, n)
	for i := 0; i < n; i++ {
		o := arr.Index(i)
		if o.Type() != js.TypeObject {
			continue
		}
		k, dv, sv := o.Get("k"), o.Get("d"), o.Get("s")
		r := Record{}
		if k.Type() == js.TypeString {
			r.Key = k.String()
		}
		if dv.Type() == js.TypeString {
			r.Data = dv.String()
		}
		if sv.Type() == js.TypeNumber {
			r.Sum = uint32(sv.Float())
		}
		if r.Key == "" && k.Type() != js.TypeString {
			// A key of another type cannot be deleted by string; keep it under its text form.
			r.Key = k.Call("toString").String()
		}
		rs = append(rs, r)
	}
	return rs
}

// Write applies ops in one readwrite transaction and waits until it commits.
func (d *IDB) Write(ops ...Op) error { return d.Begin(ops...)() }

// Begin places ops in one readwrite transaction now and commits it at once; wait waits until
// the commit is done. IndexedDB runs readwrite transactions over the same stores in the order
// they were created, and a transaction committed this way is kept if the page goes away
// meanwhile (a reload, a closed tab).
func (d *IDB) Begin(ops ...Op) (wait func() error) {
	if len(ops) == 0 {
		return func() error { return nil }
	}
	d.pre = js.Undefined() // read before this write
	var names []any
	seen := map[string]bool{}
	for _, o := range ops {
		if !seen[o.Store] {
			seen[o.Store] = true
			names = append(names, o.Store)
		}
	}
	tx := d.db.Call("transaction", names, "readwrite", map[string]any{"durability": "strict"})
	for _, o := range ops {
		st := tx.Call("objectStore", o.Store)
		if o.Rec == nil {
			st.Call("delete", o.Key)
		} else {
			st.Call("put", map[string]any{"k": o.Rec.Key, "d": o.Rec.Data, "s": float64(o.Rec.Sum)})
		}
	}
	done := onEvent(tx, "complete", "error", "abort")
	// Left to commit by itself, a transaction commits only once its requests' results are back
	// on the page, so a page reloaded first loses it: 7 of 30 puts were lost when a page
	// reloaded in the task that made them, none of 30 with commit() (chromium 156, a throwaway
	// chromedp probe).
	if tx.Get("commit").Type() == js.TypeFunction {
		tx.Call("commit")
	}
	return func() error {
		if ev := done(); ev != "complete" {
			return jsError(tx.Get("error"))
		}
		return nil
	}
}
