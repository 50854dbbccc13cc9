//go:build js && wasm

package d1

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/syumai/workers/cloudflare"
)

// binding is a D1 database binding (env.DB in the Worker's JavaScript).
type binding struct{ db js.Value }

// Open returns the D1 database bound to the Worker under name (wrangler.toml's d1_databases
// binding). It must be called while a request is being served: the binding is part of the
// request's environment.
func Open(name string) (DB, error) {
	v := cloudflare.GetBinding(name)
	if v.IsUndefined() || v.IsNull() {
		return nil, fmt.Errorf("d1: no D1 binding named %q (see wrangler.toml)", name)
	}
	return binding{v}, nil
}

var (
	uint8Array  = js.Global().Get("Uint8Array")
	arrayBuffer = js.Global().Get("ArrayBuffer")
	object      = js.Global().Get("Object")
	array       = js.Global().Get("Array")
)

// Batch runs one statement with all(), or several with batch(), which D1 applies atomically.
func (b binding) Batch(ctx context.Context, stmts ...Stmt) ([]Result, error) {
	if len(stmts) == 0 {
		return nil, nil
	}
	prepared := make([]any, len(stmts))
	for i, s := range stmts {
		args := normArgs(s.Args)
		for j, a := range args {
			if p, ok := a.([]byte); ok {
				u := uint8Array.New(len(p))
				js.CopyBytesToJS(u, p)
				args[j] = u.Get("buffer")
			}
		}
		prepared[i] = b.db.Call("prepare", s.SQL).Call("bind", args...)
	}
	var promise js.Value
	if len(stmts) == 1 {
		promise = prepared[0].(js.Value).Call("all")
	} else {
		promise = b.db.Call("batch", js.ValueOf(prepared))
	}
	v, err := await(ctx, promise)
	if err != nil {
		return nil, err
	}
	var results []js.Value
	if len(stmts) == 1 {
		results = []js.Value{v}
	} else {
		for i := 0; i < v.Length(); i++ {
			results = append(results, v.Index(i))
		}
	}
	out := make([]Result, len(results))
	for i, r := range results {
		res, err := convertResult(r)
		if err != nil {
			return nil, fmt.Errorf("d1: statement %d: %w", i, err)
		}
		out[i] = res
	}
	return out, nil
}

// convertResult turns a D1Result ({results: [{col: value}], meta: {changes}}) into a Result.
// Rows keep the select order of their columns (Object.keys keeps insertion order for names
// that are not integers; the store's queries name every column).
func convertResult(r js.Value) (Result, error) {
	var res Result
	if meta := r.Get("meta"); meta.Truthy() {
		if c := meta.Get("changes"); c.Type() == js.TypeNumber {
			res.Changes = int64(c.Float())
		}
	}
	rows := r.Get("results")
	if !rows.Truthy() {
		return res, nil
	}
	n := rows.Length()
	res.Rows = make([][]any, n)
	for i := 0; i < n; i++ {
		row := rows.Index(i)
		keys := object.Call("keys", row)
		vals := make([]any, keys.Length())
		for j := range vals {
			v, err := convertValue(row.Get(keys.Index(j).String()))
			if err != nil {
				return res, err
			}
			vals[j] = v
		}
		res.Rows[i] = vals
	}
	return res, nil
}

// convertValue maps a D1 column value (null, number, string, ArrayBuffer or array of bytes)
// to nil, int64 (integral numbers), float64, string or []byte.
func convertValue(v js.Value) (any, error) {
	switch v.Type() {
	case js.TypeNull, js.TypeUndefined:
		return nil, nil
	case js.TypeNumber:
		f := v.Float()
		if f == float64(int64(f)) {
			return int64(f), nil
		}
		return f, nil
	case js.TypeString:
		return v.String(), nil
	case js.TypeBoolean:
		if v.Bool() {
			return int64(1), nil
		}
		return int64(0), nil
	case js.TypeObject:
		if v.InstanceOf(arrayBuffer) || v.InstanceOf(uint8Array) || array.Call("isArray", v).Bool() {
			u := uint8Array.New(v)
			b := make([]byte, u.Length())
			js.CopyBytesToGo(b, u)
			return b, nil
		}
	}
	return nil, fmt.Errorf("unexpected column value of type %s", v.Type())
}

// await waits for a promise. D1 calls cannot be cancelled, so ctx only stops the waiting.
func await(ctx context.Context, p js.Value) (js.Value, error) {
	type outcome struct {
		v   js.Value
		err error
	}
	ch := make(chan outcome, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- outcome{v: args[0]}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "unknown error"
		if len(args) > 0 {
			if m := args[0].Get("message"); m.Type() == js.TypeString {
				msg = m.String()
			} else {
				msg = args[0].Call("toString").String()
			}
		}
		ch <- outcome{err: errors.New("d1: " + msg)}
		return nil
	})
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	select {
	case o := <-ch:
		return o.v, o.err
	case <-ctx.Done():
		return js.Value{}, ctx.Err()
	}
}
