// node_preload.js hands Go's WebAssembly.Memory to Go programs run under Node by Go's
// wasm_exec_node.js, as public/main.js and public/fitter.js do in the browser, so that
// wasm/simd can instantiate its module on it:
//
//	node --require ./wasm/simd/node_preload.js "$(go env GOROOT)/lib/wasm/wasm_exec_node.js" prog.wasm
//
// (or NODE_OPTIONS=--require=... for go test's go_js_wasm_exec).
"use strict";
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (...args) {
  const result = await instantiate.apply(this, args);
  const instance = result instanceof WebAssembly.Instance ? result : result.instance;
  if (instance.exports.mem instanceof WebAssembly.Memory) globalThis.preferGoMemory = instance.exports.mem;
  return result;
};
